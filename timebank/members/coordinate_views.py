"""The coordinators' pages about members: join requests, the member list, assisted members,
acting for them, pausing and erasing. A coordinator sees and touches only their own community."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from timebank.audit.services import record
from timebank.db import db_int
from timebank.desk import services as desk
from timebank.extensions import db
from timebank.ledger.services import settle_to_fund
from timebank.members.acting import logged_in_member, on_behalf_of, start_acting_for, stop_acting
from timebank.members.forms import AssistedMemberForm, ReasonForm
from timebank.members.models import JoinRequest, Member
from timebank.members.services import (
    NAME_MAX,
    decide_join_request,
    directory_page,
    done_for,
    erase_member,
    reactivate_member,
    register_assisted_member,
    suspend_member,
    waiting_join_requests,
)
from timebank.web.fields import language_choices
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")
# Each waiting request carries its own form: a page of twenty stays light on a phone.
REQUESTS_PER_PAGE = 20

STATUS_FILTERS = ("active", "pending", "suspended", "rejected", "erased")


# Every page here is a coordinator's: the guard runs before each of them.
bp.before_request(coordinator_required(lambda: None))


def member_here(member_id: int) -> Member:
    """A member of the coordinator's own community; anyone else is simply not found."""
    member = db.session.get(Member, member_id)
    if member is None or member.community_id != current_user.community_id:
        abort(404)
    return member


@bp.route("")
def index():
    """The desk: everything that waits, with its count, its age and who took it up."""
    community = current_user.community
    return render_template(
        "coordinate/index.html",
        community=community,
        tasks=desk.waiting(community.id),
        taken=desk.assignments(community.id),
        summary=desk.wants_summary(current_user),
    )


@bp.route("/requests")
def requests():
    community = current_user.community
    decided = db.session.scalars(
        sa.select(JoinRequest)
        .where(
            JoinRequest.community_id == community.id,
            JoinRequest.state.in_(("approved", "rejected")),
            JoinRequest.decided_by_id.is_not(None),
        )
        .options(joinedload(JoinRequest.member), joinedload(JoinRequest.decided_by))
        .order_by(JoinRequest.decided_at.desc())
        .limit(20)
    ).all()
    page = request.args.get("page", 1, type=db_int)
    waiting = db.paginate(waiting_join_requests(community.id), page=page, per_page=REQUESTS_PER_PAGE, error_out=False)
    if not waiting.items and waiting.pages and page > waiting.pages:
        # The last request of the last page was just decided: show the page before it.
        waiting = db.paginate(
            waiting_join_requests(community.id), page=waiting.pages, per_page=REQUESTS_PER_PAGE, error_out=False
        )
    return render_template(
        "coordinate/requests.html",
        community=community,
        waiting=waiting,
        decided=decided,
        form=ReasonForm(),
    )


@bp.route("/requests/<int:request_id>", methods=["POST"])
def decide(request_id: int):
    join_request = db.session.get(JoinRequest, request_id)
    if join_request is None or join_request.community_id != current_user.community_id:
        abort(404)
    # Back to the page the coordinator was reading, not to the first one.
    back = url_for("coordinate.requests", page=request.args.get("page", type=db_int))
    form = ReasonForm()
    approve = request.form.get("decision") == "approve"
    if not form.validate() or request.form.get("decision") not in ("approve", "reject"):
        flash(_("Please choose to accept or not, and keep the reason short."), "error")
        return redirect(back)
    if submit(
        lambda: decide_join_request(join_request, actor=logged_in_member(), approve=approve, reason=form.reason.data)
    ):
        name = join_request.member.name
        flash(
            _("%(name)s is now a member. We sent them an email.", name=name)
            if approve
            else _("%(name)s's request is not accepted. We sent them an email.", name=name),
            "success",
        )
    return redirect(back)


@bp.route("/members")
def members():
    community = current_user.community
    status = request.args.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    query = (request.args.get("q") or "")[:NAME_MAX]
    page = directory_page(
        community.id, page=request.args.get("page", 1, type=db_int), per_page=30, query=query, status=status
    )
    return render_template(
        "coordinate/members.html", community=community, page=page, status=status, query=query, statuses=STATUS_FILTERS
    )


@bp.route("/members/new", methods=["GET", "POST"])
def new_member():
    community = current_user.community
    form = AssistedMemberForm()
    areas = {a.id: a for a in community.areas}
    form.area.choices = [("", _("Not known"))] + [(a.id, a.name) for a in areas.values()]
    form.locale.choices = language_choices()
    if form.validate_on_submit():
        done = submit(
            lambda: register_assisted_member(
                community,
                actor=logged_in_member(),
                name=form.name.data,
                phone=form.phone.data,
                area=areas.get(form.area.data),
                locale=form.locale.data,
                bio=form.bio.data,
            ),
            form,
        )
        if done:
            member = done.value
            flash(_("%(name)s is registered. You can now act for them.", name=member.name), "success")
            return redirect(url_for("coordinate.member", member_id=member.id))
    return render_template("coordinate/new_member.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/members/<int:member_id>")
def member(member_id: int):
    member = member_here(member_id)
    events = db.session.scalars(done_for(member).limit(50)).all()
    return render_template(
        "coordinate/member.html", member=member, events=events, form=ReasonForm(), notes=desk.notes_about(member)
    )


def _decision(member_id: int, service, done_message: str):
    """Run a coordinator's decision about a member with the reason from the form."""
    member = member_here(member_id)
    form = ReasonForm()
    if form.validate():
        if submit(lambda: service(member, actor=logged_in_member(), reason=form.reason.data)):
            flash(done_message % {"name": member.name}, "success")
    else:
        flash(_("Please keep the reason short."), "error")
    return redirect(url_for("coordinate.member", member_id=member.id))


@bp.route("/members/<int:member_id>/suspend", methods=["POST"])
def suspend(member_id: int):
    return _decision(member_id, suspend_member, _("%(name)s is paused and logged out. We sent them an email."))


@bp.route("/members/<int:member_id>/reactivate", methods=["POST"])
def reactivate(member_id: int):
    return _decision(member_id, reactivate_member, _("%(name)s can log in again. We sent them an email."))


def _settle_and_erase(member: Member, *, actor: Member, reason: str) -> Member:
    """A non-zero balance goes to the community fund first, in the same transaction, so the
    ledger stays balanced and the erased member's account can be closed."""
    settle_to_fund(member, actor=actor, reason=reason or _("Member erased"))
    return erase_member(member, actor=actor, reason=reason)


@bp.route("/members/<int:member_id>/erase", methods=["POST"])
def erase(member_id: int):
    member_here(member_id)  # another community's member is not found, whatever the form says
    if request.form.get("confirm") != "yes":
        flash(_("Please tick the box to confirm that you want to erase this member."), "error")
        return redirect(url_for("coordinate.member", member_id=member_id))
    return _decision(member_id, _settle_and_erase, _("The member is erased. From now on they are called %(name)s."))


@bp.route("/members/<int:member_id>/act", methods=["POST"])
def act_for(member_id: int):
    member = member_here(member_id)
    if not member.assisted or member.status != "active":
        flash(_("You can only act for active members who get help because they have no phone or computer."), "error")
        return redirect(url_for("coordinate.member", member_id=member.id))
    start_acting_for(member)
    submit(lambda: record("member.acting_started", actor=logged_in_member(), on_behalf_of=member, subject=member))
    flash(
        _(
            "You are now acting for %(name)s. Everything you do is done in their name and shown to them.",
            name=member.name,
        ),
        "info",
    )
    return redirect(url_for("core.index"))


@bp.route("/stop-acting", methods=["POST"])
def stop():
    helped = on_behalf_of()
    stop_acting()
    if helped is not None:
        submit(lambda: record("member.acting_stopped", actor=logged_in_member(), on_behalf_of=helped, subject=helped))
    flash(_("You stopped acting for someone else. You are yourself again."), "info")
    return redirect(url_for("coordinate.index"))
