"""The cooperative decides together: proposals, one vote per active member, the result computed
once when voting ends, and binding results carried out in the same transaction.

Services flush; the caller (a page through web.submit, the API through idempotency.writes, the
`governance close` command) commits once. A vote locks its proposal for sharing (many votes at
once) and closing, editing and withdrawing lock it for update, so a vote either counts in the
result or is refused as too late, and nothing is edited after the first vote."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from timebank.audit.services import record
from timebank.communities.models import JOIN_POLICIES, Community
from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.governance.errors import GovernanceError, Locked, NotAllowed, ProposalNotFound, VotingClosed
from timebank.governance.models import (
    KINDS,
    RULES,
    YES_NO,
    Ballot,
    Comment,
    Option,
    Proposal,
    Supporter,
    Vote,
    Voter,
)
from timebank.i18n import in_installation_language
from timebank.ledger.errors import MAX_MINUTES, LedgerError
from timebank.members.models import Member
from timebank.permissions import can_coordinate, is_member_of

TITLE_MAX, BODY_MAX, OPTION_MAX, COMMENT_MAX, REASON_MAX = 200, 5000, 100, 2000, 500
MAX_OPTIONS = 10
MAX_VOTING_DAYS = 90

# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "governance.proposed": _l("made a proposal"),
    "governance.supported": _l("supported a proposal"),
    "governance.opened": _l("put a proposal to the vote"),
    "governance.edited": _l("changed a proposal before anyone voted"),
    "governance.withdrawn": _l("withdrew a proposal"),
    "governance.voted": _l("voted on a proposal"),
    "governance.closed": _l("counted the votes of a proposal"),
    "governance.rule_changed": _l("changed a rule of the neighbourhood after a vote"),
    "governance.comment_hidden": _l("hid a comment on a proposal"),
    "governance.settings_changed": _l("changed how many neighbours must support a proposal"),
}


# Reading


def proposal_for(member: Member, proposal_id: int) -> Proposal:
    """The proposal, if it belongs to the member's community; otherwise it does not exist for them."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or member is None or proposal.community_id != member.community_id:
        raise ProposalNotFound(_l("There is no proposal with this number in your neighbourhood."))
    return proposal


# What a list shows of each proposal, loaded with the list: its answers, and whom a grant is for.
LISTED = (sa.orm.selectinload(Proposal.options), sa.orm.joinedload(Proposal.grant_member))


def proposals_of(community_id: int, states: tuple[str, ...] | None = None) -> list[Proposal]:
    query = sa.select(Proposal).where(Proposal.community_id == community_id).options(*LISTED)
    if states:
        query = query.where(Proposal.state.in_(states))
    return list(db.session.scalars(query.order_by(Proposal.id.desc())))


def supporter_count(proposal: Proposal) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Supporter.proposal_id == proposal.id))


def voter_count(proposal: Proposal) -> int:
    """How many members voted: open ballots by their votes, secret ones by the "has voted" list."""
    table = Voter if proposal.secret else Vote
    return db.session.scalar(sa.select(sa.func.count()).select_from(table).where(table.proposal_id == proposal.id))


def has_voted(proposal: Proposal, member: Member) -> bool:
    table = Voter if proposal.secret else Vote
    return db.session.get(table, (proposal.id, member.id)) is not None


def has_votes(proposal: Proposal) -> bool:
    return voter_count(proposal) > 0


@dataclass(frozen=True)
class Tallies:
    """The figures the proposal pages and the API show beside a proposal, read for a whole list at
    once (asked proposal by proposal, the lists made three queries more for every proposal). By
    proposal id: supporters; members who voted so far and, for open ballots, votes per option id
    (proposals not closed yet); and which of them the member voted on."""

    supporters: dict[int, int]
    voters: dict[int, int]
    votes: dict[int, dict[int, int]]
    voted: frozenset[int]

    def counts(self, proposal: Proposal) -> dict[int, int] | None:
        """Votes per option id: final once closed; None while a secret ballot is open (nobody sees a
        secret count early)."""
        if proposal.state == "closed":
            return {option.id: option.votes or 0 for option in proposal.options}
        if proposal.secret:
            return None
        found = self.votes.get(proposal.id, {})
        return {option.id: found.get(option.id, 0) for option in proposal.options}

    def turnout(self, proposal: Proposal) -> int:
        return proposal.turnout if proposal.state == "closed" else self.voters.get(proposal.id, 0)


def tallies(proposals: list[Proposal], member: Member | None = None) -> Tallies:
    ids = [proposal.id for proposal in proposals]
    # Votes are counted here only until voting ends; then the proposal holds the final count.
    public = [proposal.id for proposal in proposals if proposal.state != "closed" and not proposal.secret]
    secret = [proposal.id for proposal in proposals if proposal.state != "closed" and proposal.secret]
    supporters: dict[int, int] = {}
    votes: dict[int, dict[int, int]] = {}
    voted: frozenset[int] = frozenset()
    if ids:
        supporters = dict(
            db.session.execute(
                sa.select(Supporter.proposal_id, sa.func.count())
                .where(Supporter.proposal_id.in_(ids))
                .group_by(Supporter.proposal_id)
            ).all()
        )
    if public:
        for proposal_id, option_id, number in db.session.execute(
            sa.select(Vote.proposal_id, Vote.option_id, sa.func.count())
            .where(Vote.proposal_id.in_(public))
            .group_by(Vote.proposal_id, Vote.option_id)
        ):
            votes.setdefault(proposal_id, {})[option_id] = number
    voters = {proposal_id: sum(found.values()) for proposal_id, found in votes.items()}
    if secret:
        voters |= dict(
            db.session.execute(
                sa.select(Voter.proposal_id, sa.func.count())
                .where(Voter.proposal_id.in_(secret))
                .group_by(Voter.proposal_id)
            ).all()
        )
    if member is not None and ids:
        # An open ballot keeps the vote itself, a secret one only that the member voted.
        open_ballots = [proposal.id for proposal in proposals if not proposal.secret]
        secret_ballots = [proposal.id for proposal in proposals if proposal.secret]
        voted = frozenset(
            db.session.scalars(
                sa.union_all(
                    sa.select(Vote.proposal_id).where(Vote.member_id == member.id, Vote.proposal_id.in_(open_ballots)),
                    sa.select(Voter.proposal_id).where(
                        Voter.member_id == member.id, Voter.proposal_id.in_(secret_ballots)
                    ),
                )
            )
        )
    return Tallies(supporters, voters, votes, voted)


def _count(proposal: Proposal) -> dict[int, int]:
    table = Ballot if proposal.secret else Vote
    rows = db.session.execute(
        sa.select(table.option_id, sa.func.count()).where(table.proposal_id == proposal.id).group_by(table.option_id)
    ).all()
    found = dict(rows)
    return {option.id: found.get(option.id, 0) for option in proposal.options}


def open_votes(proposal: Proposal) -> list[tuple[Option, list[str]]]:
    """Who chose what, for an open ballot only: each answer chosen, with the names of those who chose
    it in alphabetical order. Names only: a neighbourhood's vote has thousands of voters, whom loading
    as members took a tenth of a second."""
    if proposal.secret:
        return []
    names: dict[int, list[str]] = {}
    for option_id, name in db.session.execute(
        sa.select(Vote.option_id, Member.name)
        .join(Member, Member.id == Vote.member_id)
        .where(Vote.proposal_id == proposal.id)
        .order_by(Member.name)
    ):
        names.setdefault(option_id, []).append(name)
    return [(option, names[option.id]) for option in proposal.options if option.id in names]


def my_choice(proposal: Proposal, member: Member, receipt: str | None = None) -> Option | None:
    """The member's own choice: from their open vote, or from the receipt of their secret one."""
    if not proposal.secret:
        vote = db.session.get(Vote, (proposal.id, member.id))
        return vote.option if vote else None
    if not receipt or not has_voted(proposal, member):
        return None
    ballot = db.session.scalar(
        sa.select(Ballot).where(Ballot.proposal_id == proposal.id, Ballot.receipt_hash == _receipt_hash(receipt))
    )
    return db.session.get(Option, ballot.option_id) if ballot else None


def comments(proposal: Proposal) -> list[Comment]:
    return list(
        db.session.scalars(
            sa.select(Comment)
            .options(sa.orm.joinedload(Comment.author))
            .where(Comment.proposal_id == proposal.id)
            .order_by(Comment.id)
        )
    )


def option_label(option: Option) -> str:
    """A standard answer in the reader's language, or what the author wrote."""
    return str({"yes": _l("Yes"), "no": _l("No"), "abstain": _l("Abstain")}.get(option.key, option.label))


def winner(proposal: Proposal) -> Option | None:
    if proposal.result not in ("adopted", "chosen"):
        return None
    if proposal.result == "adopted":
        return next(option for option in proposal.options if option.key == "yes")
    return max(proposal.options, key=lambda option: option.votes or 0)


# Powers


def can_propose_directly(member: Member, community: Community) -> bool:
    """A coordinator puts a proposal to the vote at once; so does a member where no support is needed."""
    return can_coordinate(member, community.id) or (
        is_member_of(member, community.id) and community.proposal_supporters == 0
    )


def can_vote(member: Member | None, proposal: Proposal) -> bool:
    """Every active member of the proposal's community; nobody suspended, nobody from elsewhere."""
    return is_member_of(member, proposal.community_id) and member.status == "active"


def can_withdraw(member: Member | None, proposal: Proposal) -> bool:
    return (
        proposal.state in ("support", "open")
        and is_member_of(member, proposal.community_id)
        and (member.id == proposal.author_id or can_coordinate(member, proposal.community_id))
    )


def can_edit(member: Member | None, proposal: Proposal) -> bool:
    return (
        proposal.state in ("support", "open")
        and is_member_of(member, proposal.community_id)
        and (member.id == proposal.author_id)
        and not has_votes(proposal)
    )


# Proposing


@dataclass(frozen=True)
class Binding:
    """What an adopted proposal makes the app do: nothing (advisory), a grant, or a rule change."""

    kind: str = "advisory"
    grant_member: Member | None = None
    grant_minutes: int | None = None
    rule: str | None = None
    rule_value: str | None = None


def _text(value: str | None, limit: int, field: str, *, required: bool = True) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise GovernanceError(_l("Please fill this in."), field)
    if len(text) > limit:
        raise GovernanceError(_l("Please use at most %(num)d characters.", num=limit), field)
    return text


def _options(labels: list[str] | None) -> list[Option]:
    """yes/no/abstain by default (or when those words are given); else the author's own choices."""
    if not labels:
        labels = list(YES_NO)
    cleaned = [_text(label, OPTION_MAX, "options") for label in labels]
    if len(cleaned) < 2 or len(cleaned) > MAX_OPTIONS:
        raise GovernanceError(_l("Please give from 2 to %(num)d choices.", num=MAX_OPTIONS), "options")
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise GovernanceError(_l("Each choice can be given only once."), "options")
    lowered = [label.casefold() for label in cleaned]
    if set(lowered) <= set(YES_NO):
        if not {"yes", "no"} <= set(lowered):
            raise GovernanceError(_l("A yes-or-no question needs at least “yes” and “no”."), "options")
        return [Option(position=i, key=label, label=label) for i, label in enumerate(lowered)]
    return [Option(position=i, key=None, label=label) for i, label in enumerate(cleaned)]


def check_rule(community: Community, rule: str | None, value) -> str:
    """The new value of a rule as stored (text), or the refusal of a rule or value out of range."""
    if rule not in RULES:
        raise GovernanceError(_l("Please choose which rule to change."), "rule")
    if rule == "join_policy":
        if value not in JOIN_POLICIES:
            raise GovernanceError(_l("Please choose how people join."), "rule_value")
        return value
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise GovernanceError(_l("Please give a whole number."), "rule_value") from None
    ranges = {
        "ledger_floor": (-MAX_MINUTES, 0),
        "ledger_ceiling": (0, MAX_MINUTES),
        "ledger_levy_percent": (0, 100),
        "post_expiry_weeks": (1, 52),
    }
    low, high = ranges[rule]
    if not low <= number <= high:
        raise GovernanceError(_l("Please give a number from %(low)d to %(high)d.", low=low, high=high), "rule_value")
    return str(number)


def _binding(community: Community, binding: Binding, options: list[Option]) -> dict:
    if binding.kind not in KINDS:
        raise GovernanceError(_l("Please choose what kind of proposal this is."), "kind")
    if binding.kind != "advisory" and not all(option.key in YES_NO for option in options):
        raise GovernanceError(_l("A proposal the app carries out is a yes-or-no question."), "options")
    if binding.kind == "grant":
        recipient = binding.grant_member
        if recipient is None or recipient.community_id != community.id or recipient.status != "active":
            raise GovernanceError(_l("Please choose an active member of the neighbourhood."), "grant_member_id")
        minutes = binding.grant_minutes
        if not (isinstance(minutes, int) and not isinstance(minutes, bool) and 0 < minutes <= MAX_MINUTES):
            raise GovernanceError(_l("Please give the hours to grant, more than zero."), "grant_minutes")
        return dict(kind="grant", grant_member_id=recipient.id, grant_minutes=minutes)
    if binding.kind == "rule":
        return dict(kind="rule", rule=binding.rule, rule_value=check_rule(community, binding.rule, binding.rule_value))
    return dict(kind="advisory")


def _period(voting_days, closes_at: datetime | None, now: datetime) -> tuple[int, datetime | None]:
    if closes_at is not None:
        if closes_at.tzinfo is None:
            raise GovernanceError(_l("Please give the time with its time zone."), "closes_at")
        if not now + timedelta(hours=1) <= closes_at <= now + timedelta(days=MAX_VOTING_DAYS):
            raise GovernanceError(
                _l("Voting must end between one hour and %(num)d days from now.", num=MAX_VOTING_DAYS), "closes_at"
            )
        return max(1, min(MAX_VOTING_DAYS, (closes_at - now).days or 1)), closes_at
    if not (isinstance(voting_days, int) and not isinstance(voting_days, bool) and 1 <= voting_days <= MAX_VOTING_DAYS):
        raise GovernanceError(_l("Voting lasts from 1 to %(num)d days.", num=MAX_VOTING_DAYS), "voting_days")
    return voting_days, None


def _quorum(quorum_percent) -> int:
    if not (isinstance(quorum_percent, int) and not isinstance(quorum_percent, bool) and 0 <= quorum_percent <= 100):
        raise GovernanceError(_l("The quorum is a whole number from 0 to 100."), "quorum_percent")
    return quorum_percent


def create_proposal(
    author: Member,
    *,
    title: str,
    body: str = "",
    options: list[str] | None = None,
    voting_days: int | None = 7,
    closes_at: datetime | None = None,
    quorum_percent: int = 0,
    secret: bool = False,
    binding: Binding = Binding(),
    now: datetime | None = None,
) -> Proposal:
    """A coordinator's proposal goes to the vote at once; a member's waits for enough supporters."""
    now = now or utcnow()
    if not can_vote(author, _Proxy(author.community_id)):
        raise NotAllowed(_l("Only active members of the neighbourhood can make proposals."))
    community = author.community
    option_rows = _options(options)
    values = dict(
        title=_text(title, TITLE_MAX, "title"),
        body=_text(body, BODY_MAX, "body", required=False),
        quorum_percent=_quorum(quorum_percent),
        secret=bool(secret),
        **_binding(community, binding, option_rows),
    )
    days, closes_at = _period(voting_days, closes_at, now)
    proposal = Proposal(
        community_id=community.id,
        author_id=author.id,
        voting_days=days,
        state="support",
        created_at=now,
        options=option_rows,
        **values,
    )
    db.session.add(proposal)
    db.session.flush()
    record(
        "governance.proposed",
        actor=author,
        community_id=community.id,
        subject=proposal,
        title=proposal.title,
        kind=proposal.kind,
    )
    if can_propose_directly(author, community):
        _open(proposal, now, closes_at)
    return proposal


class _Proxy:
    """Stands for a proposal of a community when only the community is known (`can_vote`)."""

    def __init__(self, community_id: int):
        self.community_id = community_id


def _open(proposal: Proposal, now: datetime, closes_at: datetime | None = None) -> None:
    proposal.state = "open"
    proposal.opened_at = now
    proposal.closes_at = closes_at or now + timedelta(days=proposal.voting_days)
    db.session.flush()
    record(
        "governance.opened",
        actor=None,
        community_id=proposal.community_id,
        subject=proposal,
        closes_at=proposal.closes_at.isoformat(),
    )


def support(proposal: Proposal, member: Member, *, now: datetime | None = None) -> Proposal:
    """A neighbour supports a member's proposal; with enough supporters it goes to the vote.
    Supporting twice counts once."""
    now = now or utcnow()
    _lock(proposal)
    if not can_vote(member, proposal):
        raise NotAllowed(_l("Only active members of the neighbourhood can support a proposal."))
    if proposal.state != "support":
        raise Locked(_l("This proposal is not looking for supporters."))
    if member.id == proposal.author_id:
        raise NotAllowed(_l("Your own proposal needs the support of neighbours."))
    if _inserted(Supporter, proposal_id=proposal.id, member_id=member.id, created_at=now):
        record("governance.supported", actor=member, community_id=proposal.community_id, subject=proposal)
    needed = db.session.get(Community, proposal.community_id).proposal_supporters
    if supporter_count(proposal) >= needed:
        _open(proposal, now)
    return proposal


def edit_proposal(
    proposal: Proposal, actor: Member, *, title: str, body: str, quorum_percent: int, voting_days: int
) -> Proposal:
    """The author changes the words, the quorum or the period, but only before anyone votes."""
    _lock(proposal)
    if not is_member_of(actor, proposal.community_id) or actor.id != proposal.author_id:
        raise NotAllowed(_l("Only the author can change a proposal."))
    if proposal.state not in ("support", "open"):
        raise Locked(_l("This proposal cannot be changed any more."))
    if has_votes(proposal):
        raise Locked(
            _l(
                "Members have voted on this proposal, so it cannot be changed any more. You can withdraw "
                "it with a reason."
            )
        )
    days, _closes = _period(voting_days, None, utcnow())
    proposal.title = _text(title, TITLE_MAX, "title")
    proposal.body = _text(body, BODY_MAX, "body", required=False)
    proposal.quorum_percent = _quorum(quorum_percent)
    if proposal.state == "open":
        proposal.closes_at = proposal.opened_at + timedelta(days=days)
    proposal.voting_days = days
    db.session.flush()
    record("governance.edited", actor=actor, community_id=proposal.community_id, subject=proposal)
    return proposal


def withdraw(proposal: Proposal, actor: Member, reason: str, *, now: datetime | None = None) -> Proposal:
    """The author or a coordinator ends a proposal before its result, saying why. Votes cast stay
    uncounted; a binding proposal does nothing."""
    _lock(proposal)
    if not can_withdraw(actor, proposal):
        if proposal.state not in ("support", "open"):
            raise Locked(_l("This proposal has ended already."))
        raise NotAllowed(_l("Only the author or a coordinator can withdraw a proposal."))
    proposal.withdrawn_reason = _text(reason, REASON_MAX, "reason")
    proposal.state, proposal.withdrawn_at, proposal.withdrawn_by_id = "withdrawn", now or utcnow(), actor.id
    db.session.flush()
    record(
        "governance.withdrawn",
        actor=actor,
        community_id=proposal.community_id,
        subject=proposal,
        reason=proposal.withdrawn_reason,
    )
    return proposal


# Voting


@dataclass(frozen=True)
class Cast:
    """A vote as recorded: the option, and for a secret ballot the receipt (only on the first vote)."""

    option: Option
    receipt: str | None = None
    changed: bool = False


def _receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.strip().encode()).hexdigest()


def _inserted(model, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; whether the row is new (RETURNING: psycopg reports no
    row count for it)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
    return db.session.execute(statement).first() is not None


def _upsert_vote(values: dict):
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Vote.__table__).values(**values)
    return statement.on_conflict_do_update(
        index_elements=["proposal_id", "member_id"],
        set_=dict(option_id=values["option_id"], voted_at=values["voted_at"]),
    )


def _lock(proposal: Proposal, *, share: bool = False) -> None:
    """SQLite: the database write lock. PostgreSQL: the proposal row, shared by votes and taken
    alone by closing, editing and withdrawing."""
    take_write_lock(db.session)
    db.session.refresh(proposal, with_for_update={"read": True} if share else True)


def vote(
    proposal: Proposal, member: Member, option_id: int, *, receipt: str | None = None, now: datetime | None = None
) -> Cast:
    """Record the member's vote, or replace it. Voting ends at `closes_at` sharp: a vote at that
    moment or later is refused. A secret vote is changed with the receipt of the first one."""
    now = now or utcnow()
    _lock(proposal, share=True)
    if not can_vote(member, proposal):
        if member is None or member.community_id != proposal.community_id:
            raise ProposalNotFound(_l("There is no proposal with this number in your neighbourhood."))
        raise NotAllowed(_l("Only active members can vote. A paused account cannot vote."))
    if proposal.state != "open" or now >= proposal.closes_at:
        raise VotingClosed(_l("Voting on this proposal has ended."))
    option = next((o for o in proposal.options if o.id == option_id), None)
    if option is None:
        raise GovernanceError(_l("Please choose one of the answers."), "option")
    if not proposal.secret:
        earlier = db.session.get(Vote, (proposal.id, member.id))
        db.session.execute(
            _upsert_vote(dict(proposal_id=proposal.id, member_id=member.id, option_id=option.id, voted_at=now))
        )
        if earlier is not None:  # the only loaded object the statement may have changed
            db.session.expire(earlier)
        record("governance.voted", actor=member, community_id=proposal.community_id, subject=proposal)
        return Cast(option, changed=earlier is not None)
    if _inserted(Voter, proposal_id=proposal.id, member_id=member.id):
        receipt = secrets.token_urlsafe(12)
        db.session.add(
            Ballot(
                id=secrets.token_hex(16),
                proposal_id=proposal.id,
                option_id=option.id,
                receipt_hash=_receipt_hash(receipt),
            )
        )
        db.session.flush()
        # The event says that the member voted; never how.
        record("governance.voted", actor=member, community_id=proposal.community_id, subject=proposal)
        return Cast(option, receipt)
    if not receipt:
        raise Locked(
            _l("You voted already. To change a secret vote, give the vote code you got when you voted."),
            "receipt",
            code="already_voted",
        )
    changed = db.session.execute(
        sa.update(Ballot)
        .where(Ballot.proposal_id == proposal.id, Ballot.receipt_hash == _receipt_hash(receipt))
        .values(option_id=option.id)
        .returning(Ballot.id)
    ).first()
    if changed is None:
        raise Locked(_l("This vote code does not belong to a vote on this proposal."), "receipt", code="already_voted")
    return Cast(option, receipt, changed=True)


# The result


def electorate(proposal: Proposal) -> int:
    """Who could vote: the community's active members now, and those who voted and were paused since
    (their vote counts, as it was cast while they were active)."""
    voters = Voter if proposal.secret else Vote
    active = (
        sa.select(sa.func.count())
        .select_from(Member)
        .where(Member.community_id == proposal.community_id, Member.status == "active")
    )
    paused_voters = (
        sa.select(sa.func.count())
        .select_from(voters)
        .join(Member, Member.id == voters.member_id)
        .where(voters.proposal_id == proposal.id, Member.status != "active")
    )
    return db.session.scalar(active) + db.session.scalar(paused_voters)


def is_due(proposal: Proposal, now: datetime | None = None) -> bool:
    return proposal.state == "open" and (now or utcnow()) >= proposal.closes_at


def close(proposal: Proposal, *, now: datetime | None = None, publish: bool = True) -> Proposal:
    """Count the votes once voting has ended, publish and carry out the result. Idempotent: a
    proposal that is closed already is returned as it is; one still open before its end is refused
    (nobody, coordinator or not, ends a vote early). History written after the fact (the demo)
    passes `publish=False` and writes the members' notifications of that time itself: emails
    rendered now would be news of weeks ago."""
    now = now or utcnow()
    _lock(proposal)
    if proposal.state == "closed":
        return proposal
    if proposal.state != "open":
        raise Locked(_l("This proposal was withdrawn; there is no result."))
    if now < proposal.closes_at:
        raise Locked(_l("Voting is still going on. The votes are counted when it ends."), code="still_open")
    tally = _count(proposal)
    for option in proposal.options:
        option.votes = tally[option.id]
    proposal.turnout = voter_count(proposal)
    proposal.electorate = electorate(proposal)
    proposal.quorum_met = proposal.turnout * 100 >= proposal.quorum_percent * proposal.electorate
    proposal.result = _result(proposal)
    proposal.state, proposal.closed_at = "closed", now
    db.session.flush()
    if proposal.result == "adopted" and proposal.kind != "advisory":
        proposal.carried_out = _carry_out(proposal)
    db.session.flush()
    record(
        "governance.closed",
        actor=None,
        community_id=proposal.community_id,
        subject=proposal,
        result=proposal.result,
        turnout=proposal.turnout,
        electorate=proposal.electorate,
        quorum_met=proposal.quorum_met,
        carried_out=proposal.carried_out,
        votes={option.label: option.votes for option in proposal.options},
    )
    if publish:
        _publish(proposal)
    return proposal


def _result(proposal: Proposal) -> str:
    if not proposal.quorum_met:
        return "no_quorum"
    if proposal.is_yes_no:
        votes = {option.key: option.votes for option in proposal.options}
        if votes["yes"] == votes["no"]:
            return "tie"
        return "adopted" if votes["yes"] > votes["no"] else "rejected"
    ranked = sorted((option.votes for option in proposal.options), reverse=True)
    return "tie" if ranked[0] == ranked[1] else "chosen"


def _carry_out(proposal: Proposal) -> str:
    """Do what the members decided, in this transaction. The vote is the authorisation: the ledger
    records the grant with no single member as the one who authorised it (actor None)."""
    from timebank.ledger.services import account_for, fund_account, post

    community = db.session.get(Community, proposal.community_id)
    if proposal.kind == "grant":
        recipient = db.session.get(Member, proposal.grant_member_id)
        memo = in_installation_language(
            _l("Decision #%(number)d: %(title)s", number=proposal.id, title=proposal.title)
        )[:500]
        try:
            with db.session.begin_nested():
                transaction = post(
                    community.id,
                    "grant",
                    [
                        (fund_account(community.id), -proposal.grant_minutes),
                        (account_for(recipient), proposal.grant_minutes),
                    ],
                    actor=None,
                    memo=memo,
                    idempotency_key=f"proposal:{proposal.id}:grant",
                )
        except LedgerError as refusal:
            return in_installation_language(_l("Not carried out: %(reason)s", reason=str(refusal)))[:500]
        proposal.grant_transaction_id = transaction.id
        from timebank.notifications.services import notify

        notify(recipient, "grant", minutes=proposal.grant_minutes)
        return "done"
    before = str(getattr(community, proposal.rule))
    try:
        with db.session.begin_nested():
            _apply_rule(community, proposal.rule, proposal.rule_value)
    except (LedgerError, GovernanceError) as refusal:
        return in_installation_language(_l("Not carried out: %(reason)s", reason=str(refusal)))[:500]
    record(
        "governance.rule_changed",
        actor=None,
        community_id=community.id,
        subject=proposal,
        rule=proposal.rule,
        before=before,
        after=proposal.rule_value,
    )
    return "done"


def _apply_rule(community: Community, rule: str, value: str) -> None:
    from timebank.ledger.services import ledger_settings, set_ledger_settings

    value = check_rule(community, rule, value)
    if rule.startswith("ledger_"):
        settings = ledger_settings(community)
        settings[rule.removeprefix("ledger_")] = int(value)
        if settings["warning"] is not None:
            settings["warning"] = min(max(settings["warning"], settings["floor"]), settings["ceiling"])
        set_ledger_settings(community, actor=None, **settings)
    elif rule == "post_expiry_weeks":
        community.post_expiry_weeks = int(value)
    else:
        community.join_policy = value
    db.session.flush()


def _publish(proposal: Proposal) -> None:
    """Tell every active member of the community what was decided."""
    from timebank.notifications.services import notify_many

    members = db.session.scalars(
        sa.select(Member)
        .where(Member.community_id == proposal.community_id, Member.status == "active")
        .order_by(Member.id)
    ).all()
    notify_many(members, "decision", **decision_details(proposal))


def decision_details(proposal: Proposal) -> dict:
    """What a member's notification of a result holds (the demo writes its history's with it)."""
    return dict(proposal_id=proposal.id, title=proposal.title, result=proposal.result)


def due(now: datetime | None = None) -> list[int]:
    """Ids of the open proposals whose voting has ended, oldest end first."""
    return list(
        db.session.scalars(
            sa.select(Proposal.id)
            .where(Proposal.state == "open", Proposal.closes_at <= (now or utcnow()))
            .order_by(Proposal.closes_at, Proposal.id)
        )
    )


def close_if_due(proposal: Proposal) -> bool:
    """For pages and the API: a result due is computed when someone looks (the command does it on
    schedule). Returns whether it closed the proposal now; the caller commits."""
    if not is_due(proposal):
        return False
    close(proposal)
    return True


def set_proposal_supporters(community: Community, actor: Member, number) -> Community:
    """A coordinator sets how many neighbours must support a member's proposal (0: none, anyone
    can put a proposal to the vote)."""
    if not can_coordinate(actor, community.id):
        raise NotAllowed(_l("Only a coordinator can change this."))
    if not (isinstance(number, int) and not isinstance(number, bool) and 0 <= number <= 100):
        raise GovernanceError(
            _l("Please give a number from %(low)d to %(high)d.", low=0, high=100), "proposal_supporters"
        )
    before, community.proposal_supporters = community.proposal_supporters, number
    db.session.flush()
    record(
        "governance.settings_changed",
        actor=actor,
        community_id=community.id,
        subject=community,
        before=before,
        after=number,
    )
    return community


# Talking it over


def add_comment(proposal: Proposal, member: Member, body: str) -> Comment:
    if not can_vote(member, proposal):
        raise NotAllowed(_l("Only active members of the neighbourhood can join the discussion."))
    if proposal.state == "withdrawn":
        raise Locked(_l("This proposal was withdrawn; the discussion is closed."))
    comment = Comment(proposal_id=proposal.id, author_id=member.id, body=_text(body, COMMENT_MAX, "body"))
    db.session.add(comment)
    db.session.flush()
    return comment


def hide_comment(comment: Comment, actor: Member, reason: str) -> Comment:
    """A coordinator hides a comment, with a reason shown in its place."""
    proposal = db.session.get(Proposal, comment.proposal_id)
    if not can_coordinate(actor, proposal.community_id):
        raise NotAllowed(_l("Only a coordinator can hide a comment."))
    comment.hidden_reason = _text(reason, REASON_MAX, "reason")
    comment.hidden_at, comment.hidden_by_id = utcnow(), actor.id
    db.session.flush()
    record(
        "governance.comment_hidden",
        actor=actor,
        community_id=proposal.community_id,
        subject=proposal,
        on_behalf_of=comment.author,
        reason=comment.hidden_reason,
    )
    return comment


# The member's data


def export_governance(member: Member) -> dict:
    """What the member proposed, supported and wrote, and their open votes. Of a secret ballot only
    that they voted: what they chose is nowhere to export."""
    proposals = db.session.scalars(sa.select(Proposal).where(Proposal.author_id == member.id).order_by(Proposal.id))
    supported = db.session.scalars(sa.select(Supporter.proposal_id).where(Supporter.member_id == member.id))
    votes = db.session.scalars(sa.select(Vote).where(Vote.member_id == member.id).order_by(Vote.proposal_id))
    secret = db.session.scalars(sa.select(Voter.proposal_id).where(Voter.member_id == member.id))
    written = db.session.scalars(sa.select(Comment).where(Comment.author_id == member.id).order_by(Comment.id))
    return {
        "proposals": [
            {"id": p.id, "title": p.title, "body": p.body, "state": p.state, "created_at": p.created_at}
            for p in proposals
        ],
        "supported_proposals": sorted(supported),
        "open_votes": [{"proposal_id": v.proposal_id, "choice": v.option.label, "voted_at": v.voted_at} for v in votes],
        "secret_votes_cast": sorted(secret),
        "comments": [
            {"proposal_id": c.proposal_id, "at": c.created_at, "text": c.body, "hidden_reason": c.hidden_reason or None}
            for c in written
        ],
    }
