"""Pages for reporting content, for the author's one reply and the reporter's answer, and the
coordinators' list of reported content. Every POST goes through web.submit."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.extensions import db
from timebank.members.acting import logged_in_member
from timebank.members.models import Member
from timebank.moderation import blocks, services, wording
from timebank.moderation.forms import DecisionForm, ReplyForm, ReportForm
from timebank.moderation.models import ModerationCase, Report, is_hidden
from timebank.permissions import is_member_of
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("moderation", __name__)


@bp.app_template_global()
def reason_label(reason: str) -> str:
    return str(services.REASON_LABELS.get(reason, reason))


@bp.app_template_global()
def item_label(item_type: str) -> str:
    return str(wording.ITEM_LABELS.get(item_type, item_type))


@bp.app_template_global()
def told_reporter(decision: str) -> str:
    return str(wording.TOLD_REPORTER.get(decision, ""))


@bp.app_template_global()
def case_text(case: ModerationCase) -> str:
    """The reported content itself, for its author and the coordinators."""
    item = services.find_item(case.item_type, case.item_id)
    return services.item_text(case.item_type, item) if item is not None else ""


@bp.app_template_global()
def told_author(decision: str) -> str:
    return str(wording.TOLD_AUTHOR.get(decision, ""))


@bp.app_template_global()
def profile_hidden(member) -> bool:
    """A coordinator hid this profile's words and photo from everyone but its owner."""
    return current_user.id != member.id and is_hidden("profile", member.id)


@bp.route("/report/<any(post, message, profile, thanks):item_type>/<int:item_id>", methods=["GET", "POST"])
@login_required
def report(item_type: str, item_id: int):
    """Anything a member can see of their neighbours can be reported; nothing else is found."""
    member = logged_in_member()
    item = services.find_item(item_type, item_id)
    if item is None or not services.can_report(member, item_type, item):
        abort(404)
    form = ReportForm()
    if form.validate_on_submit() and submit(
        lambda: services.report(member, item_type, item_id, form.reason.data, form.text.data), form
    ):
        flash(
            _("Thank you. We received your report; a coordinator will look at it. You will hear what they decided."),
            "success",
        )
        return redirect(url_for("moderation.mine"))
    return render_template(
        "moderation/report.html", form=form, item_type=item_type, item=item, text=services.item_text(item_type, item)
    ), 422 if request.method == "POST" else 200


@bp.route("/reports")
@login_required
def mine():
    """What the member reported and what came of it; what was decided about their content; whom
    they blocked."""
    member = logged_in_member()
    return render_template(
        "moderation/mine.html",
        reports=services.reports_by(member),
        decisions=services.decisions_about(member),
        form=ReplyForm(),
        blocks=blocks.blocks_by(member),
    )


def neighbour(member_id: int) -> Member:
    """An active member of the logged-in member's community; anyone else is not found."""
    member = db.session.get(Member, member_id)
    if member is None or not is_member_of(current_user, member.community_id) or member.status == "erased":
        abort(404)
    return member


@bp.route("/members/<int:member_id>/block", methods=["POST"])
@login_required
def block(member_id: int):
    other = neighbour(member_id)
    if submit(lambda: blocks.block(logged_in_member(), other)):
        flash(
            _(
                "You blocked %(name)s. You no longer see each other's posts, and neither of you can propose an "
                "exchange to the other or write to them. They are not told.",
                name=other.name,
            ),
            "success",
        )
    return redirect(url_for("moderation.mine"))


@bp.route("/members/<int:member_id>/unblock", methods=["POST"])
@login_required
def unblock(member_id: int):
    other = neighbour(member_id)
    submit(lambda: blocks.unblock(logged_in_member(), other.id))
    flash(_("%(name)s is no longer blocked.", name=other.name), "success")
    return redirect(url_for("moderation.mine"))


@bp.route("/reports/<int:case_id>/reply", methods=["POST"])
@login_required
def reply(case_id: int):
    case = db.session.get(ModerationCase, case_id)
    if case is None or case.author_id != current_user.id or case.decision is None:
        abort(404)
    form = ReplyForm()
    if form.validate_on_submit():
        if submit(lambda: services.reply(case, logged_in_member(), form.text.data), form):
            flash(_("Your reply is sent. A coordinator reads it."), "success")
    else:
        flash(_("Please write your reply, in at most %(num)d characters.", num=services.REPLY_MAX), "error")
    return redirect(url_for("moderation.mine"))


def case_here(case_id: int) -> ModerationCase:
    """A case of the coordinator's own community; any other is simply not found. Its reports come
    with their reporters: the page names each."""
    case = db.session.get(
        ModerationCase, case_id, options=[sa.orm.selectinload(ModerationCase.reports).joinedload(Report.reporter)]
    )
    if case is None or case.community_id != current_user.community_id:
        abort(404)
    return case


@bp.route("/coordinate/reports")
@coordinator_required
def cases():
    community_id = current_user.community_id
    waiting = db.session.scalars(services.open_cases(community_id)).all()
    decided = db.session.scalars(
        sa.select(ModerationCase)
        .options(sa.orm.joinedload(ModerationCase.author))
        .where(ModerationCase.community_id == community_id, ModerationCase.state == "decided")
        .order_by(ModerationCase.decided_at.desc())
        .limit(20)
    ).all()
    return render_template("moderation/cases.html", waiting=waiting, decided=decided)


@bp.route("/coordinate/reports/<int:case_id>", methods=["GET", "POST"])
@coordinator_required
def case(case_id: int):
    case = case_here(case_id)
    form = DecisionForm()
    if form.validate_on_submit() and submit(
        lambda: services.decide(case, actor=logged_in_member(), decision=form.decision.data, reason=form.reason.data),
        form,
    ):
        flash(_("Decided. The author and the members who reported it are told."), "success")
        return redirect(url_for("moderation.cases"))
    item = services.find_item(case.item_type, case.item_id)
    return render_template(
        "moderation/case.html",
        case=case,
        form=form,
        item=item,
        text=services.item_text(case.item_type, item) if item else "",
        may_decide=services.may_decide(current_user, case),
    ), 422 if request.method == "POST" else 200
