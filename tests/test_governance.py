"""The cooperative decides together: proposals, one vote per active member, secret ballots that
keep only *that* a member voted, the result computed once, binding grants and rule changes."""

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.governance import services
from timebank.governance.errors import GovernanceError, Locked, NotAllowed, ProposalNotFound, VotingClosed
from timebank.governance.models import Ballot, Proposal, Vote, Voter
from timebank.ledger.models import Transaction
from timebank.ledger.services import account_for, fund_account, post
from timebank.mail.models import OutboxMessage
from timebank.members.export import as_json
from timebank.members.models import Member
from timebank.notifications.models import EmailChoice, Notification

from .queries import statements

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def people(make_member):
    found = {name: make_member(name) for name in ("Fatima", "Jan", "Wilma", "Ahmed")}
    found["Karim"] = make_member("Karim", role="coordinator")
    return found


def later(days=8):
    return utcnow() + timedelta(days=days)


def option(proposal, key):
    return next(o.id for o in proposal.options if (o.key or o.label) == key)


def propose(author, **kwargs):
    kwargs.setdefault("title", "A new bench by the school")
    proposal = services.create_proposal(author, **kwargs)
    db.session.commit()
    return proposal


def test_a_coordinator_opens_a_proposal_at_once_and_a_member_needs_supporters(people):
    direct = propose(people["Karim"])
    assert direct.state == "open" and direct.closes_at > utcnow()
    waiting = propose(people["Fatima"], title="A repair café")
    assert waiting.state == "support"
    with pytest.raises(NotAllowed):
        services.support(waiting, people["Fatima"])
    db.session.rollback()
    for name in ("Jan", "Wilma"):
        services.support(waiting, people[name])
        services.support(waiting, people[name])  # twice counts once
    assert waiting.state == "support" and services.supporter_count(waiting) == 2
    services.support(waiting, people["Ahmed"])
    assert waiting.state == "open"


def test_one_member_one_vote_changeable_until_the_end(people):
    proposal = propose(people["Karim"])
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    first = db.session.get(Vote, (proposal.id, people["Jan"].id))
    assert first.option_id == option(proposal, "yes")
    cast = services.vote(proposal, people["Jan"], option(proposal, "no"))
    assert cast.changed and first.option_id == option(proposal, "no")  # what was read before is not stale
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1
    assert services.tallies([proposal]).counts(proposal)[option(proposal, "no")] == 1


def test_suspended_members_and_other_communities_cannot_vote(people, make_member, make_community):
    proposal = propose(people["Karim"])
    paused = make_member("Paul", status="suspended")
    with pytest.raises(NotAllowed):
        services.vote(proposal, db.session.get(Member, paused.id), option(proposal, "yes"))
    db.session.rollback()
    elsewhere = make_community("noord", "Noord")
    stranger = make_member("Olga", community_id=elsewhere.id)
    with pytest.raises(ProposalNotFound):
        services.vote(proposal, db.session.get(Member, stranger.id), option(proposal, "yes"))
    db.session.rollback()
    with pytest.raises(ProposalNotFound):
        services.proposal_for(db.session.get(Member, stranger.id), proposal.id)


def test_a_vote_at_the_deadline_is_refused_and_the_result_is_computed_once(people):
    proposal = propose(people["Karim"], voting_days=1)
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    db.session.commit()
    with pytest.raises(VotingClosed):
        services.vote(proposal, people["Wilma"], option(proposal, "no"), now=proposal.closes_at)
    db.session.rollback()
    with pytest.raises(Locked):
        services.close(proposal, now=proposal.closes_at - timedelta(seconds=1))
    db.session.rollback()
    services.close(proposal, now=proposal.closes_at)
    db.session.commit()
    assert (proposal.result, proposal.turnout, proposal.electorate) == ("adopted", 1, 5)
    closed_at = proposal.closed_at
    services.close(proposal, now=later(30))
    db.session.commit()
    assert proposal.closed_at == closed_at
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "governance.closed")
        )
        == 1
    )
    # Published: every active member is told, once.
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "decision"))
        == 5
    )


def test_the_result_reaches_each_member_as_they_chose(app, people, make_member):
    """Every active member finds the result among their notifications; an email goes, in their own
    language, only to those who want this kind of news right away. Telling a hundred members reads
    no more than telling five (it looked up each member's choice, 7 s for 5,000 members)."""
    db.session.add(EmailChoice(member_id=people["Jan"].id, event="decisions", choice="daily"))
    db.session.get(Member, people["Wilma"].id).notify_email = "off"
    db.session.get(Member, people["Fatima"].id).locale = "en"
    db.session.get(Member, people["Karim"].id).locale = "nl"
    ahmed = db.session.get(Member, people["Ahmed"].id)
    ahmed.email, ahmed.assisted = None, True
    paused = make_member("Piet", status="suspended")
    proposal = propose(people["Karim"], title="A bench by the school", voting_days=1)
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    with statements(app) as few:
        services.close(proposal, now=later())
    db.session.commit()
    told = dict(
        db.session.execute(
            sa.select(Notification.member_id, Notification.emailed_at.is_not(None)).where(
                Notification.kind == "decision"
            )
        ).all()
    )
    names = {member.id: name for name, member in people.items()}
    assert {names.get(member_id, member_id): emailed for member_id, emailed in told.items()} == {
        "Fatima": True,
        "Karim": True,
        "Jan": False,
        "Wilma": False,
        "Ahmed": False,
    }
    assert paused.id not in told
    mails = dict(db.session.execute(sa.select(OutboxMessage.member_id, OutboxMessage.body_text)).all())
    assert set(mails) == {people["Fatima"].id, people["Karim"].id}
    assert "The votes on “A bench by the school” are counted" in mails[people["Fatima"].id]
    assert "De stemmen over “A bench by the school” zijn geteld" in mails[people["Karim"].id]
    for number in range(95):
        make_member(f"Neighbour {number}")
    second = propose(people["Karim"], title="A second bench", voting_days=1)
    with statements(app) as many:
        services.close(second, now=later())
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2 + 97
    reads = [[statement for statement in seen if statement.startswith("SELECT")] for seen in (few, many)]
    assert len(reads[0]) == len(reads[1])  # no look-up per member


def test_a_tie_and_a_missed_quorum_decide_nothing(people):
    tie = propose(people["Karim"], voting_days=1)
    services.vote(tie, people["Jan"], option(tie, "yes"))
    services.vote(tie, people["Wilma"], option(tie, "no"))
    services.vote(tie, people["Ahmed"], option(tie, "abstain"))
    services.close(tie, now=later())
    assert tie.result == "tie"
    few = propose(people["Karim"], voting_days=1, quorum_percent=50)
    services.vote(few, people["Jan"], option(few, "yes"))
    services.vote(few, people["Wilma"], option(few, "yes"))
    services.close(few, now=later())
    assert (few.result, few.quorum_met, few.turnout, few.electorate) == ("no_quorum", False, 2, 5)


def test_a_quorum_met_exactly_counts_and_choices_with_equal_votes_tie(people):
    # Five active members: a quorum of 40 % is two of them.
    exact = propose(people["Karim"], voting_days=1, quorum_percent=40)
    services.vote(exact, people["Jan"], option(exact, "yes"))
    services.vote(exact, people["Wilma"], option(exact, "yes"))
    services.close(exact, now=later())
    assert (exact.result, exact.quorum_met, exact.turnout, exact.electorate) == ("adopted", True, 2, 5)
    choices = propose(people["Karim"], voting_days=1, options=["Bench", "Tree", "Bike rack"])
    services.vote(choices, people["Jan"], option(choices, "Tree"))
    services.vote(choices, people["Wilma"], option(choices, "Bench"))
    services.vote(choices, people["Ahmed"], option(choices, "Bike rack"))
    services.vote(choices, people["Fatima"], option(choices, "Bench"))
    services.vote(choices, people["Karim"], option(choices, "Tree"))
    services.close(choices, now=later())
    assert choices.result == "tie" and services.winner(choices) is None


def test_several_choices_and_a_member_suspended_mid_vote(people):
    proposal = propose(people["Karim"], voting_days=1, options=["Bench", "Tree", "Bike rack"])
    services.vote(proposal, people["Jan"], option(proposal, "Tree"))
    services.vote(proposal, people["Wilma"], option(proposal, "Tree"))
    services.vote(proposal, people["Ahmed"], option(proposal, "Bench"))
    db.session.get(Member, people["Wilma"].id).status = "suspended"
    db.session.commit()
    # Her vote was cast while she could vote and counts; she cannot change it now.
    with pytest.raises(NotAllowed):
        services.vote(proposal, db.session.get(Member, people["Wilma"].id), option(proposal, "Bench"))
    db.session.rollback()
    services.close(proposal, now=later())
    assert proposal.result == "chosen" and services.winner(proposal).label == "Tree"
    assert (proposal.turnout, proposal.electorate) == (3, 5)


def test_no_editing_after_the_first_vote_and_withdrawing_needs_a_reason(people):
    proposal = propose(people["Karim"])
    services.edit_proposal(
        proposal, people["Karim"], title="A bench and a table", body="", quorum_percent=10, voting_days=7
    )
    assert services.can_edit(people["Karim"], proposal)
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    db.session.commit()
    assert not services.can_edit(people["Karim"], proposal)  # the page offers no "Change" any more
    with pytest.raises(Locked):
        services.edit_proposal(
            proposal, people["Karim"], title="Free hours for me", body="", quorum_percent=0, voting_days=7
        )
    db.session.rollback()
    with pytest.raises(GovernanceError):
        services.withdraw(proposal, people["Karim"], "  ")
    db.session.rollback()
    with pytest.raises(NotAllowed):
        services.withdraw(proposal, people["Jan"], "I do not like it")
    db.session.rollback()
    services.withdraw(proposal, people["Karim"], "The school said no")
    db.session.commit()
    assert proposal.state == "withdrawn" and proposal.title == "A bench and a table"
    with pytest.raises(VotingClosed):
        services.vote(proposal, people["Wilma"], option(proposal, "yes"))


def test_a_secret_ballot_records_that_a_member_voted_never_what(people):
    proposal = propose(people["Karim"], secret=True, voting_days=1)
    first = services.vote(proposal, people["Jan"], option(proposal, "yes"))
    db.session.commit()
    assert first.receipt and services.tallies([proposal]).counts(proposal) is None
    assert db.session.get(Voter, (proposal.id, people["Jan"].id)) is not None
    ballot = db.session.scalar(sa.select(Ballot))
    assert set(Ballot.__table__.columns.keys()) == {"id", "proposal_id", "option_id", "receipt_hash"}
    assert first.receipt not in ballot.receipt_hash
    # Voting again without the vote code is refused; with it, the one ballot changes.
    with pytest.raises(Locked):
        services.vote(proposal, people["Jan"], option(proposal, "no"))
    db.session.rollback()
    with pytest.raises(Locked):
        services.vote(proposal, people["Jan"], option(proposal, "no"), receipt="not-my-code")
    db.session.rollback()
    services.vote(proposal, people["Jan"], option(proposal, "no"), receipt=first.receipt)
    db.session.commit()
    assert services.my_choice(proposal, people["Jan"], first.receipt).key == "no"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    # Nothing that names Jan says what he chose: not the audit log, not his export.
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "governance.voted")).all()
    assert events and all(event.details == {} for event in events)
    export = json.loads(as_json(db.session.get(Member, people["Jan"].id)))
    assert export["governance"]["secret_votes_cast"] == [proposal.id]
    assert '"no"' not in json.dumps(export["governance"]) and "option" not in json.dumps(export["governance"])
    services.close(proposal, now=later())
    assert proposal.result == "rejected" and proposal.turnout == 1


def test_a_grant_is_carried_out_with_the_result_and_authorised_by_nobody(people):
    fund = fund_account(db.session.get(Member, people["Karim"].id).community_id)
    post(fund.community_id, "donation", [(account_for(people["Ahmed"]), -120), (fund, 120)], actor=None)
    proposal = propose(
        people["Karim"],
        voting_days=1,
        binding=services.Binding(kind="grant", grant_member=people["Karim"], grant_minutes=90),
    )
    services.vote(proposal, people["Karim"], option(proposal, "yes"))
    services.close(proposal, now=later())
    db.session.commit()
    grant = db.session.get(Transaction, proposal.grant_transaction_id)
    assert proposal.carried_out == "done" and grant.kind == "grant" and grant.actor_id is None
    assert account_for(people["Karim"]).balance == 90 and fund_account(fund.community_id).balance == 30
    services.close(proposal, now=later(20))
    db.session.commit()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Transaction).where(Transaction.kind == "grant")) == 1
    )


def test_a_proposer_cannot_pay_themselves_outside_the_vote(people, make_member, make_community):
    fund = fund_account(people["Karim"].community_id)
    post(fund.community_id, "donation", [(account_for(people["Ahmed"]), -600), (fund, 600)], actor=None)
    db.session.commit()
    binding = services.Binding(kind="grant", grant_member=people["Jan"], grant_minutes=60)
    proposal = propose(people["Karim"], voting_days=1, binding=binding)
    # Not before the end (nobody closes early), not when rejected, never by editing after votes.
    with pytest.raises(Locked):
        services.close(proposal)
    db.session.rollback()
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    services.vote(proposal, people["Wilma"], option(proposal, "no"))
    services.vote(proposal, people["Ahmed"], option(proposal, "no"))
    services.close(proposal, now=later())
    db.session.commit()
    assert proposal.result == "rejected" and proposal.grant_transaction_id is None
    assert account_for(people["Jan"]).balance == 0
    # A binding proposal is a yes-or-no question.
    with pytest.raises(GovernanceError, match="ja of nee"):
        services.create_proposal(people["Karim"], title="x", options=["Jan", "Karim"], binding=binding)
    db.session.rollback()
    # The fund's hours go to an active member of its own neighbourhood, nobody else.
    outsider = make_member("Piet", community_id=make_community("west", "West").id)
    paused = db.session.get(Member, people["Wilma"].id)
    paused.status = "suspended"
    db.session.commit()
    for someone in (outsider, paused):
        elsewhere = services.Binding(kind="grant", grant_member=someone, grant_minutes=60)
        with pytest.raises(GovernanceError, match="Kies een actief lid van de buurt"):
            services.create_proposal(people["Karim"], title="Hours for a friend", binding=elsewhere)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_a_grant_that_would_overdraw_the_fund_is_not_carried_out(people):
    proposal = propose(
        people["Karim"],
        voting_days=1,
        binding=services.Binding(kind="grant", grant_member=people["Jan"], grant_minutes=60),
    )
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    services.close(proposal, now=later())
    db.session.commit()
    assert proposal.result == "adopted" and proposal.carried_out.startswith("Niet uitgevoerd")
    assert account_for(people["Jan"]).balance == 0 and fund_account(people["Jan"].community_id).balance == 0


@pytest.mark.parametrize(
    "rule,value,column,expected",
    [
        ("ledger_levy_percent", "10", "ledger_levy_percent", 10),
        ("ledger_floor", "-300", "ledger_floor", -300),
        ("post_expiry_weeks", "4", "post_expiry_weeks", 4),
        ("join_policy", "open", "join_policy", "open"),
    ],
)
def test_an_adopted_rule_change_is_carried_out(people, rule, value, column, expected):
    proposal = propose(
        people["Karim"], voting_days=1, binding=services.Binding(kind="rule", rule=rule, rule_value=value)
    )
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    services.close(proposal, now=later())
    db.session.commit()
    assert getattr(db.session.get(Community, proposal.community_id), column) == expected


def test_a_rule_out_of_range_is_refused_when_proposed(people):
    with pytest.raises(GovernanceError):
        services.create_proposal(
            people["Karim"],
            title="x",
            binding=services.Binding(kind="rule", rule="ledger_levy_percent", rule_value="150"),
        )


def test_the_close_command_counts_due_proposals_once(app, people, runner):
    proposal = propose(people["Karim"], voting_days=1)
    services.vote(proposal, people["Jan"], option(proposal, "yes"))
    proposal.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "1 proposals" in runner.invoke(args=["governance", "close"]).output
    assert "0 proposals" in runner.invoke(args=["governance", "close"]).output
    db.session.rollback()
    assert db.session.get(Proposal, proposal.id).result == "adopted"


@pytest.mark.parametrize("secret", [False, True])
def test_parallel_votes_count_each_member_once(app, db_url, people, secret):
    """Every member double-clicks: two requests at once each. The count equals the ballots."""
    proposal = propose(people["Karim"], secret=secret)
    proposal_id, yes = proposal.id, option(proposal, "yes")
    voters = [people[name].id for name in ("Fatima", "Jan", "Wilma", "Ahmed", "Karim")]
    db.session.remove()
    errors = []
    barrier = threading.Barrier(len(voters) * 2)

    def cast(member_id):
        with app.app_context():
            barrier.wait()
            try:
                take_write_lock(db.session)  # as a service does before it decides (timebank.db)
                services.vote(db.session.get(Proposal, proposal_id), db.session.get(Member, member_id), yes)
                db.session.commit()
            except Locked:
                db.session.rollback()
            except Exception as error:  # noqa: BLE001 (the test reports any other failure)
                errors.append(error)
                db.session.rollback()

    threads = [threading.Thread(target=cast, args=(member_id,)) for member_id in voters * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    table = Ballot if secret else Vote
    assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == len(voters)
    if secret:
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == len(voters)
    closing = db.session.get(Proposal, proposal_id)
    services.close(closing, now=later())
    assert closing.turnout == len(voters) and services.tallies([closing]).counts(closing)[yes] == len(voters)
