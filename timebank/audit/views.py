"""The audit log as pages: a coordinator reads (and downloads) their community's log, the
administrator every community's. Members read what concerns them under their settings
("Done for you")."""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_date
from flask_login import current_user

from timebank.audit.log import Filters, about, actors, as_csv, entries, kind_choices, subject_names
from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.db import db_int
from timebank.extensions import db, login_manager
from timebank.members.services import NAME_MAX
from timebank.permissions import can_administer
from timebank.web.guards import coordinator_required

bp = Blueprint("audit", __name__)
bp.add_app_template_global(about, "audit_about")

PER_PAGE = 50
CSV_LIMIT = 50_000


def _number(name: str) -> int | None:
    return request.args.get(name, None, type=db_int)


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters(community_id: int | None) -> Filters:
    """The filters from the address; a value that makes no sense is ignored rather than refused."""
    kind = request.args.get("kind", "")
    if not all(ch.isalnum() or ch in "._" for ch in kind) or len(kind) > 60:
        kind = ""
    return Filters(
        community_id=community_id,
        actor_id=_number("who"),
        kind=kind,
        member_id=_number("member"),
        member_name=(request.args.get("name") or "").strip()[:NAME_MAX],
        since=_day("since"),
        until=_day("until"),
    )


def _page(filters: Filters, endpoint: str, csv_endpoint: str, **extra):
    page = db.paginate(
        entries(filters), page=request.args.get("page", 1, type=db_int), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "audit/log.html",
        page=page,
        filters=filters,
        kinds=kind_choices(),
        subject_names=subject_names(page.items),
        actors=actors(filters.community_id, filters.actor_id),
        endpoint=endpoint,
        csv_endpoint=csv_endpoint,
        **extra,
    )


def _download(filters: Filters, name: str) -> Response:
    """The matching entries as CSV; the download is itself logged, with the filters used."""
    events = db.session.scalars(entries(filters).limit(CSV_LIMIT)).all()
    body = as_csv(events)
    record(
        "audit.exported",
        actor=current_user,
        community_id=filters.community_id,
        rows=len(events),
        filters=filters.as_args(),
    )
    db.session.commit()
    filename = f"{name}-{format_date(format='yyyy-MM-dd')}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/coordinate/log")
@coordinator_required
def community_log():
    return _page(
        _filters(current_user.community_id),
        "audit.community_log",
        "audit.community_csv",
        community=current_user.community,
    )


@bp.route("/coordinate/log.csv")
@coordinator_required
def community_csv():
    return _download(_filters(current_user.community_id), "audit-log")


def _administrator_only() -> int | None:
    """The community the administrator chose, or None for all of them."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not can_administer(current_user):
        abort(403)
    community_id = _number("community")
    return community_id if community_id and db.session.get(Community, community_id) else None


@bp.route("/admin/log")
def all_log():
    community_id = _administrator_only()
    communities = db.session.scalars(sa.select(Community).order_by(Community.name)).all()
    return _page(
        _filters(community_id),
        "audit.all_log",
        "audit.all_csv",
        communities=communities,
        community_id=community_id,
        community_names={c.id: c.name for c in communities},
    )


@bp.route("/admin/log.csv")
def all_csv():
    return _download(_filters(_administrator_only()), "audit-log-all")
