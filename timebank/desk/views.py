"""The desk's buttons: take up a task or leave it, keep a note on a member, the weekly summary
on or off. The desk itself is the coordination index page (members/coordinate_views.py)."""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user

from timebank.db import utcnow
from timebank.desk import services
from timebank.extensions import db
from timebank.i18n import format_moment
from timebank.members.acting import logged_in_member
from timebank.members.models import Member
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("desk", __name__, url_prefix="/coordinate/desk")


@bp.app_template_filter("waiting_for")
def waiting_for(since: datetime | None) -> str:
    """ "3 days" for something waiting since then; for something due later its date and time as the
    community writes them ("4 Dec 2026, 15:20"), like every other date in the app."""
    if since is None:
        return ""
    now = utcnow()
    if since > now:
        return _("due %(date)s", date=format_moment(since))
    return _("waiting %(time)s", time=format_timedelta(now - since, granularity="hour", threshold=1.1))


def _task() -> str:
    return (request.form.get("task") or "")[:40]


@bp.route("/take", methods=["POST"])
@coordinator_required
def take():
    if submit(lambda: services.take(logged_in_member(), _task())):
        flash(_("It is yours now. The other coordinators see that you take care of it."), "success")
    return redirect(url_for("coordinate.index"))


@bp.route("/release", methods=["POST"])
@coordinator_required
def release():
    if submit(lambda: services.release(logged_in_member(), _task())):
        flash(_("You left it to the others."), "success")
    return redirect(url_for("coordinate.index"))


@bp.route("/summary", methods=["POST"])
@coordinator_required
def summary():
    wanted = request.form.get("wanted") == "yes"
    submit(lambda: services.set_summary(logged_in_member(), wanted))
    flash(
        _("You get the weekly summary by email.") if wanted else _("You no longer get the weekly summary."), "success"
    )
    return redirect(url_for("coordinate.index"))


@bp.route("/members/<int:member_id>/notes", methods=["POST"])
@coordinator_required
def note(member_id: int):
    member = db.session.get(Member, member_id)
    if member is None or member.community_id != current_user.community_id:
        abort(404)
    if submit(lambda: services.add_note(member, author=logged_in_member(), text=request.form.get("text", ""))):
        flash(_("The note is saved. Only coordinators read it; the member finds it in their data export."), "success")
    return redirect(url_for("coordinate.member", member_id=member.id))
