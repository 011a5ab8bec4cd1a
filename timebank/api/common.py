"""What every API resource shares: pagination, the error schema, the write wrapper, auth."""
import math
from http import HTTPStatus

from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from webargs.flaskparser import FlaskParser

from timebank.extensions import db

MAX_PER_PAGE = 100
BEARER = [{"bearerAuth": []}]


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ApiErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code."})
    message = fields.String(required=True, metadata={"description": "Plain-language, in the caller's language."})
    fields = fields.Dict(keys=fields.String(), metadata={"description": "Problems per request field."})


class ApiErrorSchema(Schema):
    """Every error the API answers: `{"error": {"code", "message", "fields"}}`."""

    error = fields.Nested(ApiErrorBodySchema, required=True)


_page_schemas: dict[str, type[Schema]] = {}


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The list envelope `{items, page, pages, total}` around `item_schema` (one class per item type)."""
    name = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (Schema,), {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "pages": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        })
    return _page_schemas[name]


def paginate(query, args: dict) -> dict:
    """Run `query` one page at a time; a page past the end is an empty page, not an error."""
    result = db.paginate(query, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    return {"items": result.items, "page": args["page"], "total": result.total,
            "pages": max(1, math.ceil((result.total or 0) / args["per_page"]))}


class StrictParser(FlaskParser):
    """Unknown query parameters are an error (422), as unknown body fields are: a typo in a filter
    must not silently return everything."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()


def api_blueprint(name: str, description: str) -> ApiBlueprint:
    return ApiBlueprint(name, __name__, url_prefix="/api/v1", description=description)


def documents_errors(bp: Blueprint, *statuses: int):
    """Declare the errors an operation can answer, for the OpenAPI document."""

    def decorate(view):
        for status in statuses:
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
