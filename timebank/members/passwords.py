"""Password hashing with argon2id (hashes are upgraded on login when the parameters change), and
the rules a new password must meet."""

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from timebank.db import end_read_transaction
from timebank.extensions import db


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def _configured() -> PasswordHasher:
    return _hasher(**current_app.config["PASSWORD_HASH_PARAMS"])


def hash_password(password: str) -> str:
    end_read_transaction(db.session)  # never hash inside a transaction that will want the write lock
    return _configured().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    end_read_transaction(db.session)
    if not password_hash:
        # Take as long as a real check, so response times do not tell which addresses have accounts.
        _configured().hash(password)
        return False
    try:
        return _configured().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _configured().check_needs_rehash(password_hash)


MIN_LENGTH = 8
MAX_LENGTH = 1024  # long passphrases are welcome; this only stops abuse of the hashing cost


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The most used passwords of at least MIN_LENGTH characters, lowercase (see the file's commit)."""
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def password_problem(password: str, *, name: str = "", email: str = "") -> str | None:
    """Why a new password cannot be used, in plain words; None if it is fine.

    NIST SP 800-63B: a minimum length, long passwords allowed, no rules about kinds of
    characters, and no password that is known to be common or easy to guess from the account."""
    if len(password) < MIN_LENGTH:
        return _l("Please use at least %(num)d characters.", num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Please use at most %(num)d characters.", num=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return _l("Many people use this password, so it is easy to guess. Please choose another one.")
    personal = {name.strip().lower(), email.strip().lower(), email.partition("@")[0].lower()} - {""}
    if lowered.strip() in personal:
        return _l("Please do not use your name or email address as your password.")
    return None
