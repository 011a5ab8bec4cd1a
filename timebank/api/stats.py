"""GET /api/v1/stats: the circulation indicators of the caller's community over a period, for its
coordinators, under the same names and definitions as the statistics page and the report."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validates_schema

from timebank.api.auth import token_required
from timebank.api.common import BEARER, api_blueprint, documents_errors
from timebank.errors import DomainError
from timebank.permissions import can_coordinate
from timebank.stats.indicators import DEFINITIONS, MAX_PERIOD_DAYS, compute

bp = api_blueprint("api-stats", "Circulation statistics of the caller's community (coordinators).")

COUNTS = (
    "exchanges_completed",
    "members_total",
    "new_members",
    "active_members",
    "distinct_pairs",
    "members_at_floor",
    "members_at_ceiling",
    "dormant_members",
    "requests_posted",
    "requests_met",
    "gifts",
    "group_activities",
    "group_people_reached",
)
MINUTES = (
    "minutes_exchanged",
    "fund_inflow",
    "fund_outflow",
    "fund_donations",
    "fund_levy",
    "fund_grants",
    "fund_balance",
    "gift_minutes",
    "assisted_minutes",
)
FRACTIONS = ("participation_rate", "reciprocity_rate", "requests_met_rate", "turnover_gini")
RATIOS = ("partners_per_active_member", "velocity", "median_days_to_accept")


class NotCoordinator(DomainError):
    code = "forbidden"
    status = 403


class StatsArgs(Schema):
    start = fields.Date(required=True, data_key="from", metadata={"description": "First day, YYYY-MM-DD."})
    end = fields.Date(required=True, data_key="to", metadata={"description": "Last day (included), YYYY-MM-DD."})

    @validates_schema
    def a_real_period(self, data, **kwargs):
        if data["start"] > data["end"]:
            raise ValidationError(str(_l("The first date must come before the last one.")), "to")
        if (data["end"] - data["start"]).days >= MAX_PERIOD_DAYS:
            raise ValidationError(str(_l("Please choose a period of at most ten years.")), "to")


class BucketSchema(Schema):
    key = fields.String(required=True)
    low_minutes = fields.Integer(
        required=True,
        allow_none=True,
        attribute="low",
        metadata={"description": "Lowest balance in this bucket; null: no lower end."},
    )
    high_minutes = fields.Integer(
        required=True,
        allow_none=True,
        attribute="high",
        metadata={"description": "Highest balance in this bucket; null: no upper end."},
    )
    members = fields.Integer(required=True)


class CategoryFigureSchema(Schema):
    category_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null: no category."})
    name = fields.String(required=True, metadata={"description": "In the caller's language."})
    exchanges = fields.Integer(required=True)
    minutes = fields.Integer(required=True)


class MonthFigureSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    minutes = fields.Integer(required=True)
    exchanges = fields.Integer(required=True)
    active_members = fields.Integer(required=True)
    new_members = fields.Integer(required=True)


def _english(key: str) -> str:
    """A definition as written in the code (the OpenAPI document is made once, in English)."""
    return DEFINITIONS[key]._args[0]


# Every figure of one community's period, as /stats answers it and the umbrella per community.
FIGURES = {
    "from": fields.Date(required=True, attribute="start"),
    "to": fields.Date(required=True, attribute="end"),
    **{
        key: fields.Integer(required=True, metadata={"description": f"Whole minutes. {_english(key)}"})
        for key in MINUTES
    },
    **{key: fields.Integer(required=True, metadata={"description": _english(key)}) for key in COUNTS},
    **{
        key: fields.Float(
            required=True,
            allow_none=True,
            metadata={
                "description": f"A fraction from 0 to 1; null when there is nothing to divide by. {_english(key)}"
            },
        )
        for key in FRACTIONS
    },
    **{key: fields.Float(required=True, allow_none=True, metadata={"description": _english(key)}) for key in RATIOS},
    "balance_histogram": fields.List(
        fields.Nested(BucketSchema), required=True, metadata={"description": _english("balance_histogram")}
    ),
    "by_category": fields.List(
        fields.Nested(CategoryFigureSchema), required=True, metadata={"description": _english("by_category")}
    ),
    "by_month": fields.List(
        fields.Nested(MonthFigureSchema), required=True, metadata={"description": _english("by_month")}
    ),
}
FiguresSchema = Schema.from_dict(FIGURES, name="FiguresSchema")
StatsSchema = Schema.from_dict(
    {
        **FIGURES,
        "definitions": fields.Dict(
            keys=fields.String(),
            values=fields.String(),
            required=True,
            metadata={"description": "What each figure means, in the caller's language."},
        ),
    },
    name="StatsSchema",
)


@bp.route("/stats")
@token_required
@bp.arguments(StatsArgs, location="query")
@bp.response(200, StatsSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 422)
def statistics(args):
    """Every circulation indicator of the caller's community from `from` to `to` (community-local
    dates, both included): minutes and counts as whole numbers, rates as fractions."""
    member = current_user._get_current_object()
    if not can_coordinate(member, member.community_id):
        raise NotCoordinator(_l("Only coordinators can see the neighbourhood's statistics."))
    stats = compute(member.community_id, args["start"], args["end"], locale=str(get_locale()))
    return {**stats.as_dict(), "definitions": {key: str(value) for key, value in DEFINITIONS.items()}}
