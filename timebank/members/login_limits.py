"""Failed sign-ins are limited per account and per address, on the web and in the API alike,
so guessing a password through one does not get a fresh count from the other."""
from flask import current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_limiter.util import get_remote_address

from timebank.extensions import limiter


def record_failed_login() -> None:
    """Only failed attempts count towards the limits."""
    g.login_failed = True


def _failed(_response) -> bool:
    return g.get("login_failed", False)


def _account_key() -> str:
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + str(email or "").strip().lower()[:254]


def _limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


def _too_many_attempts() -> str:
    return _("Too many failed attempts to log in. Please wait 15 minutes and try again, "
             "or ask for a new password.")


def _logged_in_account_key() -> str:
    return "account:" + str(getattr(current_user, "email", None) or "").lower()


def _limited(view, account_key):
    for key_func, scope in ((account_key, "login-account"), (get_remote_address, "login-address")):
        view = limiter.shared_limit(_limit, scope, key_func=key_func, methods=["POST"], deduct_when=_failed,
                                    error_message=_too_many_attempts)(view)
    return view


def limit_failed_logins(view):
    return _limited(view, _account_key)


def limit_failed_password_checks(view):
    """For pages where a logged-in member types their password again: wrong guesses there count
    against the same account and address as failed logins."""
    return _limited(view, _logged_in_account_key)
