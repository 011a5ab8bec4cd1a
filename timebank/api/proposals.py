"""The cooperative's votes over the API: the same services and rules as the proposal pages.

One member, one vote: voting again replaces the vote; a secret ballot is changed only with the
receipt its voter was given, and its counts stay hidden until voting ends."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates

from timebank.api.auth import token_required
from timebank.api.common import BEARER, PATH_ID, PageArgs, Text, api_blueprint, documents_errors, page_of, paginate
from timebank.api.idempotency import writes
from timebank.governance import services as governance
from timebank.governance.errors import GovernanceError, NotAllowed
from timebank.governance.models import STATES, Proposal
from timebank.permissions import can_coordinate

bp = api_blueprint("proposals", "Proposals the members vote on, one member one vote, and their results.")


class NewProposal(Schema):
    title = Text(required=True, metadata={"description": "What the members decide, in one line."})
    body = Text(load_default="", metadata={"description": "The explanation."})
    options = fields.List(
        Text(),
        load_default=None,
        metadata={"description": 'The answers: ["yes", "no", "abstain"] (the default) or 2 to 10 choices of your own.'},
    )
    closes_at = fields.AwareDateTime(
        required=True,
        metadata={"description": "When voting ends, with its time zone: between one hour and 90 days from now."},
    )
    quorum = fields.Float(
        load_default=0.0,
        validate=validate.Range(min=0, max=1),
        metadata={"description": "Share of the members (0 to 1, in hundredths) who must vote for the result to count."},
    )
    secret = fields.Boolean(
        load_default=False,
        metadata={"description": "Secret ballot: the app keeps that a member voted, never what they chose."},
    )

    @validates("quorum")
    def whole_percent(self, value, **kwargs):
        if round(value * 100, 6) != round(value * 100):
            raise ValidationError(str(_l("The quorum is given in hundredths, e.g. 0.25.")))


class OptionSchema(Schema):
    label = fields.String(required=True, metadata={"description": "The answer, in the caller's language."})
    votes = fields.Integer(allow_none=True, metadata={"description": "Null while a secret ballot is open."})


class ProposalSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String()
    state = fields.String(required=True, metadata={"enum": list(STATES)})
    kind = fields.String(metadata={"description": "advisory, grant (from the community fund) or rule."})
    secret = fields.Boolean()
    closes_at = fields.DateTime(allow_none=True)
    quorum = fields.Float(metadata={"description": "Share of the members who must vote (0 to 1)."})
    options = fields.List(fields.Nested(OptionSchema))
    turnout = fields.Integer(allow_none=True, metadata={"description": "How many members voted (so far)."})
    quorum_met = fields.Boolean(allow_none=True, metadata={"description": "Null until voting ends."})
    result = fields.String(
        allow_none=True,
        metadata={"description": "adopted, rejected, tie, no_quorum or chosen; null until voting ends."},
    )


class ProposalFilter(PageArgs):
    state = fields.String(validate=validate.OneOf(STATES))


class VoteBody(Schema):
    option = Text(required=True, metadata={"description": 'The answer: "yes", "no", "abstain" or a choice\'s label.'})
    receipt = Text(load_default=None, metadata={"description": "To change a secret vote: the receipt of the first."})


class VoteSchema(Schema):
    option = fields.String(required=True)
    receipt = fields.String(
        allow_none=True,
        metadata={"description": "Secret ballots, first vote only: keep it to change the vote later. Shown once."},
    )


def _shown(proposal: Proposal, tallies: governance.Tallies | None = None) -> dict:
    tallies = tallies or governance.tallies([proposal])
    counts = tallies.counts(proposal)
    return {
        "id": proposal.id,
        "title": proposal.title,
        "body": proposal.body,
        "state": proposal.state,
        "kind": proposal.kind,
        "secret": proposal.secret,
        "closes_at": proposal.closes_at,
        "quorum": proposal.quorum_percent / 100,
        "options": [
            {"label": governance.option_label(option), "votes": None if counts is None else counts[option.id]}
            for option in proposal.options
        ],
        "turnout": tallies.turnout(proposal),
        "quorum_met": proposal.quorum_met,
        "result": proposal.result,
    }


@bp.route("/proposals", methods=["GET"])
@token_required
@bp.arguments(ProposalFilter, location="query")
@bp.response(200, page_of(ProposalSchema))
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 422)
def list_proposals(args):
    """The caller's community's proposals, newest first; `state` narrows them down."""
    query = sa.select(Proposal).where(Proposal.community_id == current_user.community_id).options(*governance.LISTED)
    if "state" in args:
        query = query.where(Proposal.state == args["state"])
    page = paginate(query.order_by(Proposal.id.desc()), args)
    tallies = governance.tallies(page["items"])
    page["items"] = [_shown(proposal, tallies) for proposal in page["items"]]
    return page


@bp.route("/proposals", methods=["POST"])
@token_required
@writes
@bp.arguments(
    NewProposal,
    example={
        "title": "A bench by the pond",
        "options": ["yes", "no", "abstain"],
        "closes_at": "2027-01-31T20:00:00+01:00",
        "quorum": 0.25,
        "secret": True,
    },
)
@bp.response(201, ProposalSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 422)
def create(body):
    """Put a proposal to the vote at once (coordinators). Members propose on the proposal pages,
    where a proposal goes to the vote when enough neighbours support it."""
    author = current_user._get_current_object()
    if not can_coordinate(author, author.community_id):
        raise NotAllowed(_l("Only coordinators can put a proposal to the vote directly."))
    proposal = governance.create_proposal(
        author,
        title=body["title"],
        body=body["body"],
        options=body["options"],
        closes_at=body["closes_at"],
        quorum_percent=round(body["quorum"] * 100),
        secret=body["secret"],
    )
    return _shown(proposal)


@bp.route(f"/proposals/<{PATH_ID}:proposal_id>", methods=["GET"])
@token_required
@bp.response(200, ProposalSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 404)
def detail(proposal_id):
    """One proposal: its options with their votes (null while a secret ballot is open), the turnout and,
    once voting has ended, the result and whether the quorum was met."""
    return _shown(governance.proposal_for(current_user, proposal_id))


@bp.route(f"/proposals/<{PATH_ID}:proposal_id>/vote", methods=["PUT"])
@token_required
@writes
@bp.arguments(VoteBody, example={"option": "yes"})
@bp.response(200, VoteSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409, 422)
def vote(body, proposal_id):
    """Vote, or change one's vote while voting is open (409 once it has ended). A secret vote is
    changed with the receipt the first vote answered with."""
    member = current_user._get_current_object()
    proposal = governance.proposal_for(member, proposal_id)
    wanted = body["option"].strip().casefold()
    option = next(
        (o for o in proposal.options if wanted in {o.label.casefold(), governance.option_label(o).casefold()}), None
    )
    if option is None:
        raise GovernanceError(_l("Please choose one of the answers."), "option")
    cast = governance.vote(proposal, member, option.id, receipt=body["receipt"])
    return {"option": governance.option_label(cast.option), "receipt": cast.receipt}


@bp.route(f"/proposals/<{PATH_ID}:proposal_id>/close", methods=["POST"])
@token_required
@writes
@bp.response(200, ProposalSchema)
@bp.doc(security=BEARER)
@documents_errors(bp, 401, 403, 404, 409)
def close(proposal_id):
    """Count the votes once voting has ended (coordinators; the scheduled `governance close`
    does the same). The result is computed once: closing again answers the same result. Before the
    end this is 409: nobody ends a vote early."""
    member = current_user._get_current_object()
    proposal = governance.proposal_for(member, proposal_id)
    if not can_coordinate(member, member.community_id):
        raise NotAllowed(_l("Only coordinators can count the votes."))
    return _shown(governance.close(proposal))
