"""The statistics pages: the coordinators' page with its period picker and charts, the municipality
report (HTML, PDF, CSV), the opt-in public page of a community, and a member's own impact (a
template global the account page includes)."""

import time
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.communities.services import set_stats_public
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.acting import logged_in_member
from timebank.permissions import can_administer
from timebank.stats import present, report, umbrella_report
from timebank.stats.impact import impact_of
from timebank.stats.indicators import PERIODS, InvalidPeriod, check_period, compute, period
from timebank.stats.rollup import local_day
from timebank.stats.trade import DEFINITIONS as TRADE_DEFINITIONS
from timebank.stats.trade import trade_of
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("stats", __name__)

MIME = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


def today() -> date:
    return local_day(utcnow())


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def chosen_period(args) -> tuple[str, date, date, str | None]:
    """The period asked for (name, start, end) and what was wrong with it, if anything: a bad
    choice falls back to this month, with a translated reason."""
    name = args.get("period") or ("custom" if args.get("from") or args.get("to") else "this_month")
    if name not in PERIODS:
        name = "this_month"
    if name != "custom":
        return (name, *period(name, today()), None)
    start, end = parse_day(args.get("from")), parse_day(args.get("to"))
    problem = None
    if start is None or end is None:
        problem = _("Please give both dates as day, month and year.")
    else:
        try:
            check_period(start, end)
        except InvalidPeriod as why:
            problem = (
                _("The first date must come before the last one.")
                if str(why) == "start_after_end"
                else _("Please choose a period of at most ten years.")
            )
    if problem:
        return ("this_month", *period("this_month", today()), problem)
    return name, start, end, None


@bp.route("/coordinate/statistics")
@coordinator_required
def index():
    name, start, end, problem = chosen_period(request.args)
    if problem:
        flash(problem, "error")
    community = current_user.community
    locale = str(get_locale())
    page = render_template(
        "stats/index.html",
        periods=PERIODS,
        chosen=name,
        custom_from=request.args.get("from", ""),
        custom_to=request.args.get("to", ""),
        **report.context(community, start, end, locale),
    )
    return (page, 422) if problem else page


def _audited_public(community: Community, public: bool) -> Community:
    record("stats.public_changed", actor=logged_in_member(), public=public)
    return set_stats_public(community, public)


@bp.route("/coordinate/statistics/public", methods=["POST"])
@coordinator_required
def set_public():
    community = current_user.community
    if submit(lambda: _audited_public(community, request.form.get("public") == "1")):
        flash(
            _("The neighbourhood's figures are now public.")
            if community.stats_public
            else _("The neighbourhood's figures are no longer public."),
            "success",
        )
    return redirect(url_for(".index"))


def _report_language() -> str:
    """The report's language: asked for with `lang`, else the reader's."""
    return request.args.get("lang") if request.args.get("lang") in ("nl", "en") else str(get_locale())


def _as_download(body, fmt: str, stem: str) -> Response:
    """A report as a page to read (HTML) or a file to save (PDF, CSV)."""
    response = Response(body, mimetype=MIME[fmt])
    if fmt != "html":
        response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


@bp.route("/coordinate/statistics/report.<any(html, pdf, csv):fmt>")
@coordinator_required
def download(fmt: str):
    _name, start, end, problem = chosen_period(request.args)
    if problem:
        flash(problem, "error")
        return redirect(url_for(".index"))
    locale = _report_language()
    community = current_user.community
    body = report.render(community, start, end, fmt, locale)
    submit(
        lambda: record(
            "stats.report_downloaded",
            actor=logged_in_member(),
            format=fmt,
            start=start.isoformat(),
            end=end.isoformat(),
        )
    )
    return _as_download(body, fmt, f"{community.slug}-{start.isoformat()}-{end.isoformat()}-{locale}")


@bp.route("/statistics/<slug>")
def public(slug: str):
    """Headline totals and the monthly chart of the last 12 months, readable without logging in,
    only where the coordinators chose to show them."""
    community = db.session.scalar(sa.select(Community).where(Community.slug == slug))
    if community is None or not community.stats_public:
        abort(404)
    start, end = period("last_12_months", today())
    stats = _public_figures(community.id, start, end)
    keys = (
        "minutes_exchanged",
        "exchanges_completed",
        "active_members",
        "members_total",
        "distinct_pairs",
        "group_activities",
    )
    return render_template(
        "stats/public.html",
        community=community,
        period=present.say_period(start, end),
        lines=present.lines(stats, keys=keys),
        stats=stats,
        reading=present.months_reading(stats),
        months_chart=present.months_chart(stats),
        month_name=present.month_name,
        say=present.say,
    )


# The public page answers anyone, so its figures are worked out at most once per PUBLIC_FOR per
# process (kept on the app): a visitor who reloads it a thousand times costs the database nothing more.
PUBLIC_FOR = 600


def _public_figures(community_id: int, start: date, end: date):
    kept_figures = current_app.extensions.setdefault("stats_public", {})
    key, now = (community_id, start, end), time.monotonic()
    kept = kept_figures.get(key)
    if kept is None or kept[0] < now:
        if len(kept_figures) > 1000:
            kept_figures.clear()
        kept = kept_figures[key] = (now + PUBLIC_FOR, compute(community_id, start, end))
    return kept[1]


@bp.app_template_global("my_impact")
def my_impact(member):
    """What a member's help added up to, for their own account page."""
    return impact_of(member, today())


@bp.app_template_global("fund_trade")
def fund_trade(community: Community) -> tuple[str, list]:
    """The community fund page's trade with linked communities: this year so far, in words and figures."""
    start, end = period("this_year", today())
    return present.say_period(start, end), trade_of(community, start, end)


bp.add_app_template_global(present.month_name, "stats_month")
bp.add_app_template_global(TRADE_DEFINITIONS, "trade_definitions")


# The umbrella: the administrator's statistics of several communities ----------------------------


def _umbrella_choice() -> list[Community]:
    if not can_administer(current_user):
        abort(403)
    return umbrella_report.chosen_communities(request.args.getlist("c", type=int))


@bp.route("/admin/statistics")
@login_required
def umbrella():
    """The chosen communities' figures side by side, added up without counting an exchange between
    two of them twice."""
    communities = _umbrella_choice()
    name, start, end, problem = chosen_period(request.args)
    if problem:
        flash(problem, "error")
    page = render_template(
        "stats/umbrella.html",
        periods=PERIODS,
        chosen=name,
        custom_from=request.args.get("from", ""),
        custom_to=request.args.get("to", ""),
        every_community=umbrella_report.chosen_communities([]),
        **umbrella_report.context(communities, start, end, str(get_locale())),
    )
    return (page, 422) if problem else page


@bp.route("/admin/statistics/report.<any(html, pdf, csv):fmt>")
@login_required
def umbrella_download(fmt: str):
    communities = _umbrella_choice()
    _name, start, end, problem = chosen_period(request.args)
    if problem:
        flash(problem, "error")
        return redirect(url_for(".umbrella"))
    locale = _report_language()
    body = umbrella_report.render(communities, start, end, fmt, locale)
    submit(
        lambda: record(
            "stats.umbrella_report_downloaded",
            actor=logged_in_member(),
            format=fmt,
            start=start.isoformat(),
            end=end.isoformat(),
            communities=[community.slug for community in communities],
        )
    )
    return _as_download(body, fmt, f"umbrella-{start.isoformat()}-{end.isoformat()}-{locale}")
