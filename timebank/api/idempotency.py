"""Idempotency-Key for every API call that changes something (IETF draft
"The Idempotency-Key HTTP Header Field"): a retry with the same key and body gets the stored
answer without a second effect; the same key with another body is 422; a retry while the first
call is still running is 409.

The stored answer is committed in the same transaction as the effect, so a crash can never keep
one without the other. On PostgreSQL the "in progress" claim is committed first on its own
connection so that concurrent retries see it; on SQLite write requests already hold the database
write lock, so retries simply wait their turn and then see the stored answer.

Keys belong to the calling member. A call without a token has no one to keep its key for (two
strangers could pick the same one), so its key is ignored; POST /tokens, the one call that needs
no token, does not use this at all: its answer holds a usable token, which must never be stored."""

import hashlib
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Response, g, make_response, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from timebank.api.common import IDEMPOTENCY_KEY, error_responses
from timebank.api.models import IdempotencyRecord
from timebank.db import utcnow
from timebank.errors import DomainError, domain_error_response, error_response, http_error_response
from timebank.extensions import db

# A claim older than this belongs to a request that died; its effect was never committed.
ABANDONED_AFTER = timedelta(minutes=2)
# A key and its answer are kept this long (`flask --app timebank api forget-keys` removes older ones).
KEPT_FOR = timedelta(days=1)
MAX_KEY_LENGTH = 255


def _scope() -> str:
    return f"member:{g.api_token.member_id}"


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string, request.get_data()):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = make_response(record.response_body or "", record.response_status)
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _claim(key: str, request_hash: str) -> IdempotencyRecord | Response:
    """Claim the key, or answer at once: a replay, 409 (still running) or 422 (other body)."""
    scope = _scope()
    lookup = sa.select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    if _on_postgres():
        with db.engine.begin() as conn:
            conn.execute(
                sa.delete(IdempotencyRecord).where(
                    IdempotencyRecord.scope == scope,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.state == "in_progress",
                    IdempotencyRecord.created_at < utcnow() - ABANDONED_AFTER,
                )
            )
            inserted = conn.execute(
                sa.dialects.postgresql.insert(IdempotencyRecord)
                .values(scope=scope, key=key, request_hash=request_hash, state="in_progress", created_at=utcnow())
                .on_conflict_do_nothing()
                .returning(IdempotencyRecord.id)
            ).scalar()
        if inserted is not None:
            return db.session.get(IdempotencyRecord, inserted)
    existing = db.session.scalar(lookup)
    if existing is None and not _on_postgres():
        return _new_record(scope, key, request_hash)
    if existing is not None and existing.request_hash != request_hash:
        return error_response(
            422, _("This Idempotency-Key was used before for a different request."), code="idempotency_key_reused"
        )
    if existing is None or existing.state == "in_progress":
        return error_response(
            409,
            _("A request with this Idempotency-Key is still being handled. Please try again in a moment."),
            code="request_in_progress",
        )
    return _replay(existing)


def _new_record(scope: str, key: str, request_hash: str) -> IdempotencyRecord:
    record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
    db.session.add(record)
    db.session.flush()
    return record


def _release(record: IdempotencyRecord) -> None:
    """The call failed unexpectedly: free the key so the client can retry."""
    if _on_postgres():
        with db.engine.begin() as conn:
            conn.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))


def writes(view):
    """Wrap an API call that changes something: honour Idempotency-Key, turn domain refusals into
    JSON errors with nothing changed, and commit once — the effect together with its answer.
    Documents the header and the answers it can lead to: 400 (a malformed key), 409 (the first
    call with the key still running) and 422 (the key used for another request)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key") if g.get("api_token") else None
        record = None
        if key is not None:
            if not key or len(key) > MAX_KEY_LENGTH:
                return error_response(
                    400, _("The Idempotency-Key header must be 1 to 255 characters."), code="bad_idempotency_key"
                )
            request_hash = _request_hash()
            claimed = _claim(key, request_hash)
            if not isinstance(claimed, IdempotencyRecord):
                return claimed
            record = claimed
        try:
            response = make_response(view(*args, **kwargs))
        except (DomainError, HTTPException) as exc:
            db.session.rollback()
            response = make_response(
                domain_error_response(exc) if isinstance(exc, DomainError) else http_error_response(exc)
            )
            if record is not None and not _on_postgres():  # the rollback took the claim with it
                record = _new_record(_scope(), key, request_hash)
        except Exception:
            db.session.rollback()
            if record is not None:
                _release(record)
            raise
        if record is not None:
            record.state = "done"
            record.response_status = response.status_code
            record.response_body = response.get_data(as_text=True)
        db.session.commit()
        return response

    return Blueprint.doc(parameters=[IDEMPOTENCY_KEY], responses=error_responses(400, 409, 422))(wrapper)


def forget_old_keys(now=None) -> int:
    """Delete the keys and answers older than KEPT_FOR; the caller commits."""
    cutoff = (now or utcnow()) - KEPT_FOR
    return db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)).rowcount


def ledger_key() -> str | None:
    """The caller's Idempotency-Key as a ledger request key (see `ledger.request_key`, which makes it
    the member's own): a retry moves the hours once even after the stored answer is forgotten, and
    the ledger refuses the key for anything else. Hashed to fit the ledger's key pattern."""
    key = request.headers.get("Idempotency-Key")
    return f"api-{hashlib.sha256(key.encode()).hexdigest()[:40]}" if key else None
