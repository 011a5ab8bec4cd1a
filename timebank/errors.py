"""Error pages and JSON errors, and the one-sentence startup failure."""

import hmac

from flask import current_app, g, jsonify, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from timebank.extensions import db, login_manager
from timebank.validation_messages import in_callers_language


class StartupError(SystemExit):
    """The app cannot start; the message says in one sentence what to do.

    A SystemExit, so the command line prints the sentence and exits 1 without a traceback.
    """

    def __init__(self, message: str):
        super().__init__(f"timebank: {message}")
        self.message = message


class DomainError(Exception):
    """A rule of the time bank refused an action. The message is a translated, plain-language
    sentence; `field` names the form field at fault, if one is; `code` is stable for API clients
    and `status` is what the API answers."""

    code = "invalid"
    status = 422
    # How a page shows it when no form field is at fault: "error", or "info" for a calm "done already".
    category = "error"

    def __init__(self, message, field: str | None = None, **details):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def __str__(self) -> str:
        return str(self.message)


# What a person sees for each status: a title and a sentence saying what they can do next.
PAGES = {
    400: ("bad_request", _l("Something is wrong with that request"), _l("Please go back and try again.")),
    401: ("unauthorized", _l("Please log in"), _l("You need to log in to see this.")),
    403: (
        "forbidden",
        _l("This is not for you"),
        _l("You are not allowed to do this. Ask a coordinator if you think you should be."),
    ),
    404: (
        "not_found",
        _l("Page not found"),
        _l("We could not find this page. Maybe it was removed, or the link is wrong."),
    ),
    405: (
        "method_not_allowed",
        _l("That does not work here"),
        _l("This page cannot be used in this way. Please go back and try again."),
    ),
    409: ("conflict", _l("Something changed in the meantime"), _l("Please look at the page again and try once more.")),
    413: ("too_large", _l("That file is too large"), _l("Please choose a smaller file.")),
    422: ("invalid", _l("Some information is not right"), _l("Please check what you filled in.")),
    429: ("too_many_requests", _l("Too many attempts"), _l("Please wait a few minutes before you try again.")),
    500: ("server_error", _l("Something went wrong on our side"), _l("It is not your fault. Please try again later.")),
    503: (
        "unavailable",
        _l("The time bank is resting for a moment"),
        _l("We cannot reach our data right now. Nothing was lost. Please try again in a few minutes."),
    ),
}


def wants_json() -> bool:
    """API clients get JSON errors: anything under /api/, or a request that prefers JSON."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(
    status: int,
    message: str | None = None,
    fields: dict | None = None,
    headers=None,
    code: str | None = None,
    extra: dict | None = None,
):
    """Render the error as JSON for API clients and as a calm page for people."""
    default_code, title, advice = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    code = code or default_code
    if wants_json():
        body = {"error": {**(extra or {}), "code": code, "message": str(message or title), "fields": fields or {}}}
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", status=status, title=title, message=message, advice=advice)
    return response, status, headers or {}


def validation_fields(exc: HTTPException) -> dict:
    """The per-field messages webargs attaches to a 422, flattened to {field: [messages]}."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields = {}
    for _location, per_field in messages.items():
        for name, problems in per_field.items() if isinstance(per_field, dict) else []:
            fields[name] = in_callers_language(problems)
    return fields


def http_error_response(exc: HTTPException):
    headers = {}
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        headers["Retry-After"] = "60"
    # Werkzeug's own descriptions are English only; show ours unless a view gave a reason.
    custom = exc.description if exc.description != type(exc).description else None
    return error_response(exc.code or 500, custom, fields=validation_fields(exc), headers=headers)


def domain_error_response(exc: DomainError):
    """The refusal as JSON or a page; its `details` (e.g. the minutes that `fits`) go into the JSON."""
    fields = {exc.field: [str(exc)]} if exc.field else None
    return error_response(exc.status, str(exc), code=exc.code, fields=fields, extra=getattr(exc, "details", None))


def issued_to_this_session() -> bool:
    """The form carried a token that this very session was given (signed by us, for the raw token
    in this session), only too old. A cross-site form cannot carry one."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    sent, own = request.form.get(field), session.get(field)
    if not sent or not own:
        return False
    try:
        token = URLSafeTimedSerializer(current_app.secret_key, salt="wtf-csrf-token").loads(sent)
    except BadData:
        return False
    return isinstance(token, str) and hmac.compare_digest(own, token)


def forget_the_attempt() -> None:
    """Roll back what the failed request began, if the database can still be reached: a statement
    it refused leaves the transaction unusable for the error page's own queries."""
    try:
        db.session.rollback()
    except DBAPIError:
        pass


def register_errorhandlers(app):
    def handle_csrf(exc: CSRFError):
        if wants_json():
            return error_response(400, str(exc.description))
        # Keep what the person typed (never passwords) so one click sends it again with a fresh
        # token, but only for their own form that was merely open too long: fields that came
        # without this session's token may come from another site, and must never be re-sent.
        kept = (
            [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token" and "password" not in k]
            if issued_to_this_session()
            else []
        )
        back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else "/"
        return render_template("errors/csrf.html", kept=kept, action=request.full_path.rstrip("?"), back=back), 400

    def handle_database_down(exc: OperationalError):
        """A lost or locked database is a calm 503, never a traceback."""
        app.logger.error("database unavailable: %s", exc)
        forget_the_attempt()
        g._login_user = login_manager.anonymous_user()  # the page must not query for the user again
        return error_response(503, headers={"Retry-After": "30"})

    def handle_domain_error(exc: DomainError):
        """A refusal no view turned into a form error: say it, and keep nothing of the attempt."""
        db.session.rollback()
        return domain_error_response(exc)

    def handle_server_error(exc):
        """The page's menu asks the database for the member's news: not in a broken transaction."""
        forget_the_attempt()
        return error_response(500)

    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(500, handle_server_error)
