"""The pages where members decide together: proposals, voting, the discussion, and the decisions.

Voting is personal: a coordinator acting for an assisted member still votes only as themselves.
Every POST goes through web.submit (commit once, or show the refusal)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from timebank.extensions import db
from timebank.governance import services
from timebank.governance.errors import ProposalNotFound
from timebank.governance.forms import (
    RULE_CHOICES,
    CommentForm,
    EditForm,
    ProposalForm,
    ReasonForm,
    SettingsForm,
    SupportForm,
    VoteForm,
)
from timebank.governance.models import Comment, Proposal
from timebank.ledger.forms import typed_minutes
from timebank.members.acting import logged_in_member
from timebank.members.models import Member
from timebank.members.profiles import directory
from timebank.permissions import can_coordinate
from timebank.web.fields import optional_int
from timebank.web.guards import coordinator_required
from timebank.web.submit import submit

bp = Blueprint("governance", __name__, url_prefix="/decide")
SEARCH_RESULTS = 12


@bp.app_template_filter("rule_name")
def rule_name(rule: str) -> str:
    return str(dict((choice.value, choice.label) for choice in RULE_CHOICES).get(rule, rule))


# Receipts of secret votes live only in the voter's own session cookie, never on the server.
RECEIPTS = "ballot_receipts"


def _proposal(proposal_id: int) -> Proposal:
    try:
        proposal = services.proposal_for(current_user, proposal_id)
    except ProposalNotFound:
        abort(404)
    if services.is_due(proposal):
        # The result is due: compute it now (the scheduled command may not have run yet).
        submit(lambda: services.close(proposal))
    return proposal


def _close_due(community_id: int) -> None:
    for proposal_id in services.due():
        proposal = db.session.get(Proposal, proposal_id)
        if proposal.community_id == community_id:
            submit(lambda proposal=proposal: services.close(proposal))


@bp.route("")
@login_required
def index():
    _close_due(current_user.community_id)
    proposals = services.proposals_of(current_user.community_id, ("open", "support"))
    return render_template(
        "governance/index.html", proposals=proposals, tallies=services.tallies(proposals, logged_in_member())
    )


@bp.route("/decisions")
@login_required
def decisions():
    _close_due(current_user.community_id)
    proposals = services.proposals_of(current_user.community_id, ("closed", "withdrawn"))
    return render_template("governance/decisions.html", proposals=proposals, services=services)


def _recipients(form: ProposalForm, community_id: int, query: str) -> tuple[list[Member], list[Member]]:
    """The grant's choices: the member chosen before (kept while the form is filled in), and the
    active members whose name holds the search."""
    chosen_id = optional_int(form.grant_member_id.data)
    chosen = db.session.get(Member, chosen_id) if chosen_id else None
    kept = [chosen] if chosen and chosen.community_id == community_id and chosen.status == "active" else []
    found = db.session.scalars(directory(community_id, query=query).limit(SEARCH_RESULTS + 1)) if query else []
    return kept, [person for person in found if person not in kept]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    member = logged_in_member()
    form = ProposalForm()
    # "Search" sends the whole form back, so nothing typed is lost; it proposes nothing.
    searching = request.method == "POST" and "find" in request.form
    query = (form.grant_query.data or "").strip() if searching else ""
    kept, found = _recipients(form, member.community_id, query)
    more, found = len(found) > SEARCH_RESULTS, found[:SEARCH_RESULTS]
    form.grant_member_id.choices = [
        (str(person.id), f"{person.name} · {person.area.name}" if person.area else person.name)
        for person in kept + found
    ]
    if not searching and form.validate_on_submit():
        binding = services.Binding(
            kind=form.kind.data,
            grant_member=kept[0] if kept else None,
            grant_minutes=typed_minutes(form.grant_hours, form.grant_minutes),
            rule=form.rule.data or None,
            rule_value=(form.rule_value.data or "").strip(),
        )
        choices = [line for line in (form.choices.data or "").splitlines() if line.strip()]
        done = submit(
            lambda: services.create_proposal(
                member,
                title=form.title.data,
                body=form.body.data or "",
                options=choices or None,
                voting_days=form.voting_days.data,
                quorum_percent=form.quorum_percent.data or 0,
                secret=form.secret.data,
                binding=binding,
            ),
            form,
            fields={"grant_minutes": "grant_hours"},
        )
        if done:
            proposal = done.value
            if proposal.state == "open":
                flash(_("Your proposal is open for voting."), "success")
            else:
                flash(
                    _(
                        "Your proposal is made. It goes to the vote when %(num)d neighbours support it.",
                        num=member.community.proposal_supporters,
                    ),
                    "success",
                )
            return redirect(url_for(".detail", proposal_id=proposal.id))
    return render_template(
        "governance/new.html",
        form=form,
        direct=services.can_propose_directly(member, member.community),
        query=query,
        found=found,
        more=more,
    )


def _vote_form(proposal: Proposal) -> VoteForm:
    form = VoteForm()
    form.option.choices = [(option.id, services.option_label(option)) for option in proposal.options]
    return form


def _receipt(proposal: Proposal) -> str | None:
    return session.get(RECEIPTS, {}).get(str(proposal.id))


@bp.route("/<int:proposal_id>")
@login_required
def detail(proposal_id: int):
    proposal = _proposal(proposal_id)
    member = logged_in_member()
    vote_form = _vote_form(proposal)
    choice = services.my_choice(proposal, member, _receipt(proposal))
    if choice is not None:
        vote_form.option.data = choice.id
    tally = services.tallies([proposal], member)
    return render_template(
        "governance/detail.html",
        proposal=proposal,
        services=services,
        vote_form=vote_form,
        choice=choice,
        voted=proposal.id in tally.voted,
        receipt=_receipt(proposal),
        counts=tally.counts(proposal),
        open_votes=services.open_votes(proposal),
        comments=services.comments(proposal),
        comment_form=CommentForm(),
        reason_form=ReasonForm(),
        support_form=SupportForm(),
        supporters=tally.supporters.get(proposal.id, 0),
        can_vote=services.can_vote(member, proposal),
        can_edit=services.can_edit(member, proposal),
        can_withdraw=services.can_withdraw(member, proposal),
        can_moderate=can_coordinate(member, proposal.community_id),
    )


@bp.route("/<int:proposal_id>/vote", methods=["POST"])
@login_required
def vote(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = _vote_form(proposal)
    if not form.validate_on_submit():
        flash(_("Please choose one of the answers."), "error")
        return redirect(url_for(".detail", proposal_id=proposal_id))
    receipt = (form.receipt.data or "").strip() or _receipt(proposal)
    done = submit(lambda: services.vote(proposal, logged_in_member(), form.option.data, receipt=receipt))
    if done:
        cast = done.value
        if cast.receipt and not cast.changed:
            receipts = dict(session.get(RECEIPTS, {}))
            receipts[str(proposal.id)] = cast.receipt
            session[RECEIPTS] = receipts
            flash(
                _(
                    "Your secret vote is counted. Your vote code is %(code)s. Keep it if you may want to change your "
                    "vote on another phone or computer: nobody else has it, not even the coordinators.",
                    code=cast.receipt,
                ),
                "success",
            )
        elif cast.changed:
            flash(_("Your vote is changed."), "success")
        else:
            flash(_("Your vote is counted. You can change it until voting ends."), "success")
    return redirect(url_for(".detail", proposal_id=proposal_id))


@bp.route("/<int:proposal_id>/support", methods=["POST"])
@login_required
def support(proposal_id: int):
    proposal = _proposal(proposal_id)
    if SupportForm().validate_on_submit() and submit(lambda: services.support(proposal, logged_in_member())):
        flash(_("Thank you: your support is counted."), "success")
    return redirect(url_for(".detail", proposal_id=proposal_id))


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = _proposal(proposal_id)
    member = logged_in_member()
    if not services.can_edit(member, proposal):
        flash(_("This proposal cannot be changed any more: members have voted, or it has ended."), "error")
        return redirect(url_for(".detail", proposal_id=proposal_id))
    form = EditForm(obj=proposal)
    if form.validate_on_submit() and submit(
        lambda: services.edit_proposal(
            proposal,
            member,
            title=form.title.data,
            body=form.body.data or "",
            quorum_percent=form.quorum_percent.data,
            voting_days=form.voting_days.data,
        ),
        form,
    ):
        flash(_("The proposal is changed."), "success")
        return redirect(url_for(".detail", proposal_id=proposal_id))
    return render_template("governance/edit.html", form=form, proposal=proposal)


@bp.route("/<int:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Please write down why the proposal is withdrawn."), "error")
    elif submit(lambda: services.withdraw(proposal, logged_in_member(), form.reason.data), form):
        flash(_("The proposal is withdrawn."), "success")
    return redirect(url_for(".detail", proposal_id=proposal_id))


@bp.route("/<int:proposal_id>/comments", methods=["POST"])
@login_required
def comment(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        flash(_("Please write your comment first."), "error")
    elif submit(lambda: services.add_comment(proposal, logged_in_member(), form.body.data), form):
        flash(_("Your comment is added."), "success")
    return redirect(url_for(".detail", proposal_id=proposal_id, _anchor="discussion"))


@bp.route("/comments/<int:comment_id>/hide", methods=["POST"])
@login_required
def hide_comment(comment_id: int):
    found = db.get_or_404(Comment, comment_id)
    proposal = _proposal(found.proposal_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Please write down why the comment is hidden."), "error")
    elif submit(lambda: services.hide_comment(found, logged_in_member(), form.reason.data), form):
        flash(_("The comment is hidden."), "success")
    return redirect(url_for(".detail", proposal_id=proposal.id, _anchor="discussion"))


@bp.route("/settings", methods=["GET", "POST"])
@coordinator_required
def settings():
    community = current_user.community
    form = SettingsForm()
    if request.method == "GET":
        form.proposal_supporters.data = community.proposal_supporters
    if form.validate_on_submit() and submit(
        lambda: services.set_proposal_supporters(community, logged_in_member(), form.proposal_supporters.data), form
    ):
        flash(_("Saved."), "success")
        return redirect(url_for(".index"))
    return render_template("governance/settings.html", form=form)
