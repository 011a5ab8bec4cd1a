"""The JSON API under /api/v1, described by an OpenAPI 3 document generated from the same
marshmallow schemas that validate requests. It calls the same services and permission
predicates as the HTML pages; only bearer tokens authenticate it."""

from flask import render_template, request
from flask_smorest import Api

from timebank.api.auth import authenticate
from timebank.api.common import ApiErrorSchema
from timebank.extensions import csrf


class TimebankApi(Api):
    ERROR_SCHEMA = ApiErrorSchema

    def _register_error_handlers(self):
        """timebank.errors already answers every /api/ error as {"error": {code, message, fields}}."""


api = TimebankApi()


def register_api(app) -> None:
    from timebank.api import (
        accounts,
        exchanges,
        images,
        links,
        me,
        members,
        moderation,
        notifications,
        posts,
        pots,
        proposals,
        stats,
        tokens,
        transfers,
        umbrella,
    )

    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    for module in (
        tokens,
        me,
        accounts,
        posts,
        exchanges,
        transfers,
        notifications,
        members,
        images,
        proposals,
        pots,
        stats,
        moderation,
        links,
        umbrella,
    ):
        api.register_blueprint(module.bp)
        csrf.exempt(module.bp)

    @app.before_request
    def api_authentication():
        if request.path.startswith("/api/"):
            return authenticate()
        return None

    @app.after_request
    def api_cors(response):
        origin = request.headers.get("Origin")
        if origin and request.path.startswith("/api/") and origin in app.config["API_CORS_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
            response.headers["Access-Control-Expose-Headers"] = "Idempotent-Replayed, Retry-After"
            response.headers.add("Vary", "Origin")
        return response

    @app.route("/api/v1/docs")
    def api_docs():
        """The API reference, rendered on the server from the OpenAPI document: no scripts, no CDN."""
        return render_template("api/docs.html", spec=api.spec.to_dict())
