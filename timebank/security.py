"""Security headers on every response, and a guard against text no database can store."""

from flask import request
from flask_babel import lazy_gettext as _l

from timebank.errors import error_response

NUL_REFUSED = _l(
    "What you sent contains an invisible control character that we cannot store. "
    "Please type the text again instead of pasting it."
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_security_headers(app) -> None:
    production = app.config["ENV"] == "production"

    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response


def register_input_guard(app) -> None:
    """PostgreSQL cannot store the NUL character in text; refuse it before any page looks it up or
    stores it (the API's own validation says so per field of a query or body)."""

    @app.before_request
    def refuse_nul_characters():
        values = [request.path]
        if not request.path.startswith("/api/"):
            values += [*request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            return error_response(400, NUL_REFUSED)
        return None
