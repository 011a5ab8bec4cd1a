"""What every API resource shares: pagination, the error schema, strict fields, auth."""

import math
from http import HTTPStatus

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from webargs.flaskparser import FlaskParser

from timebank.api.auth import rate_limit_key
from timebank.db import MAX_ID
from timebank.extensions import db, limiter

MAX_PER_PAGE = 100
BEARER = [{"bearerAuth": []}]
PATH_ID = f"int(min=1, max={MAX_ID})"
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Any unique string (a UUID), kept per member. A retry with the same key and body gets "
    "the stored answer and changes nothing twice; the same key with another body is 422; while "
    "the first call with it is still running, 409. Keys are kept for a day.",
}


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ApiErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code."})
    message = fields.String(required=True, metadata={"description": "Plain-language, in the caller's language."})
    # Before `fields`, which shadows the module in this class body.
    fits = fields.Integer(
        metadata={
            "description": "Only with `limit_exceeded` from proposing or accepting an exchange: the most minutes "
            "that fit between the two balances now (0: none; a coordinator can help)."
        }
    )
    fields = fields.Dict(keys=fields.String(), metadata={"description": "Problems per request field."})


class ApiErrorSchema(Schema):
    """Every error the API answers: `{"error": {"code", "message", "fields"}}`."""

    error = fields.Nested(ApiErrorBodySchema, required=True)


_page_schemas: dict[str, type[Schema]] = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The list envelope `{items, page, pages, total}` around `item_schema` (one class per item type)."""
    name = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (Schema,),
            {
                "items": fields.List(fields.Nested(item_schema), required=True),
                "page": fields.Integer(required=True),
                "pages": fields.Integer(required=True),
                "total": fields.Integer(required=True),
            },
        )
    return _page_schemas[name]


def paginate(query, args: dict) -> dict:
    """Run `query` one page at a time; a page past the end is an empty page, not an error."""
    result = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    return envelope(result.items, args, result.total or 0)


def envelope(items: list, args: dict, total: int) -> dict:
    """The list envelope for one page of `total` items."""
    return {"items": items, "page": args["page"], "total": total, "pages": max(1, math.ceil(total / args["per_page"]))}


class StrictInteger(fields.Integer):
    """A JSON number that is whole: not a string of digits, not a boolean, not 2.0."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


ID_RANGE = validate.Range(min=1, max=MAX_ID)


def id_field(**kwargs) -> fields.Integer:
    """The id of something in a JSON body; out-of-range ids are refused as invalid, never looked up."""
    return StrictInteger(validate=ID_RANGE, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false, nothing that merely looks like one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Text(fields.String):
    """Text a database can store: no NUL character and no lone surrogate."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text or text.encode("utf-8", "replace").decode("utf-8") != text:
            raise ValidationError(str(_l("This text contains a character we cannot store. Please remove it.")))
        return text


class StrictParser(FlaskParser):
    """Unknown query parameters are an error (422), as unknown body fields are: a typo in a filter
    must not silently return everything."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def route(self, rule, **options):
        """Every operation is rate limited (see `api_blueprint`), so every one documents 429."""
        register = super().route(rule, **options)
        return lambda view: register(self.doc(responses=error_responses(429))(view))


def api_blueprint(name: str, description: str) -> ApiBlueprint:
    """A blueprint of the API, rate limited per token. The limit is attached here, once per
    blueprint: attached in the app factory, every app made in a process would add one more."""
    bp = ApiBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    limiter.limit(lambda: current_app.config["API_RATELIMIT"], key_func=rate_limit_key)(bp)
    return bp


def error_responses(*statuses: int) -> dict:
    """OpenAPI responses for these statuses: the shared error responses, with ApiErrorSchema."""
    return {status: HTTPStatus(status).name for status in statuses}


def documents_errors(bp: Blueprint, *statuses: int):
    """Declare the errors an operation can answer, for the OpenAPI document."""

    def decorate(view):
        for status in statuses:
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
