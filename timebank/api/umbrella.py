"""GET /api/v1/admin/stats: the umbrella of the administrators' statistics page over the API, for a
municipality's own dashboards: several communities side by side and added up, without counting an
exchange between two of them twice (timebank/stats/umbrella.py), in the same words."""

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validates_schema

from timebank.api.auth import token_required
from timebank.api.common import BEARER, ID_RANGE, api_blueprint, documents_errors
from timebank.api.stats import FiguresSchema, StatsArgs
from timebank.communities.models import Community
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.permissions import can_administer
from timebank.stats.umbrella import CROSSING_DEFINITIONS, TOTAL_DEFINITIONS, umbrella
from timebank.stats.umbrella_report import chosen_communities

bp = api_blueprint("api-umbrella", "Statistics of several communities together (administrators).")


class NotAdministrator(DomainError):
    code = "forbidden"
    status = 403


class UmbrellaArgs(StatsArgs):
    communities = fields.List(
        fields.Integer(validate=ID_RANGE),
        data_key="community",
        load_default=list,
        metadata={"description": "A community's id; repeat it for several. None: every community."},
    )

    @validates_schema
    def known_communities(self, data, **kwargs):
        asked = set(data["communities"])
        known = set(db.session.scalars(sa.select(Community.id).where(Community.id.in_(asked)))) if asked else set()
        if asked - known:
            raise ValidationError(str(_l("There is no neighbourhood with that number.")), "community")


class CommunityFiguresSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    figures = fields.Nested(FiguresSchema, required=True, metadata={"description": "As GET /stats answers them."})


class BetweenSchema(Schema):
    exchanges = fields.Integer(required=True, metadata={"description": CROSSING_DEFINITIONS["exchanges"]._args[0]})
    minutes = fields.Integer(required=True, metadata={"description": CROSSING_DEFINITIONS["minutes"]._args[0]})
    pairs = fields.Integer(required=True, metadata={"description": CROSSING_DEFINITIONS["pairs"]._args[0]})


class MonthTotalSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})
    minutes = fields.Integer(required=True)
    exchanges = fields.Integer(required=True, metadata={"description": "Exchanges between two of them count once."})


class TradeLineSchema(Schema):
    community = fields.String(required=True, attribute="first")
    peer = fields.String(required=True, attribute="trade.peer_name")
    inside = fields.Boolean(required=True, metadata={"description": "Both communities are among those chosen."})
    exported_minutes = fields.Integer(
        required=True, attribute="trade.exported", metadata={"description": "Paid to `community`'s members."}
    )
    exported_exchanges = fields.Integer(required=True, attribute="trade.exported_exchanges")
    imported_minutes = fields.Integer(
        required=True, attribute="trade.imported", metadata={"description": "Paid by `community`'s members."}
    )
    imported_exchanges = fields.Integer(required=True, attribute="trade.imported_exchanges")
    balance_minutes = fields.Integer(
        required=True,
        attribute="trade.balance",
        metadata={"description": "At the period's end; above zero: `community` owes `peer` that much help."},
    )


class UmbrellaSchema(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    communities = fields.List(fields.Nested(CommunityFiguresSchema), required=True)
    total = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "Each figure for all of them together; null where it cannot be added up."},
    )
    between = fields.Nested(BetweenSchema, required=True, attribute="crossing")
    by_month = fields.List(fields.Nested(MonthTotalSchema), required=True)
    trade = fields.List(fields.Nested(TradeLineSchema), required=True)
    definitions = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "How each total and each `between` figure is counted, in the caller's language."},
    )


@bp.route("/admin/stats")
@token_required
@bp.arguments(UmbrellaArgs, location="query")
@bp.response(200, UmbrellaSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 422)
def umbrella_statistics(args):
    """Every circulation indicator of the chosen communities from `from` to `to`, each community's
    own and all of them together, the exchanges between two of them, and each link's trade."""
    if not can_administer(current_user):
        raise NotAdministrator(_l("Only administrators can see the statistics of several neighbourhoods."))
    communities = chosen_communities(args["communities"])  # every one asked for is known (422 otherwise)
    found = umbrella(communities, args["start"], args["end"], locale=str(get_locale()))
    each = [
        {"id": community.id, "slug": community.slug, "name": community.name, "figures": stats.as_dict()}
        for community, stats in zip(found.communities, found.each, strict=True)
    ]
    words = {key: str(value) for key, value in TOTAL_DEFINITIONS.items()}
    words |= {f"between.{key}": str(value) for key, value in CROSSING_DEFINITIONS.items()}
    return {**found.__dict__, "communities": each, "definitions": words}
