"""Personal pots: hours saved towards a goal are ledger accounts of their own, never negative; the
member's limits apply to the main account; a share of each payment can go in by itself, in the
same ledger transaction as the settlement."""

import pytest
import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.exchanges import services as exchanges
from timebank.extensions import db
from timebank.ledger.errors import AccountClosed, LimitExceeded
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.services import account_for, fund_account, post, settle_to_fund, statement
from timebank.ledger.verify import verify
from timebank.market.models import Post
from timebank.members.export import as_json
from timebank.members.models import Member
from timebank.members.services import erase_member
from timebank.pots import services as pots
from timebank.pots.services import NotAllowed, PotError, PotNotFound

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def people(make_member):
    found = {name: make_member(name) for name in ("Fatima", "Jan")}
    found["Karim"] = make_member("Karim", role="coordinator")
    return {name: db.session.get(Member, member.id) for name, member in found.items()}


def give(member, minutes):
    """Start a member off with hours: a thank-you from Karim, the coordinator (who goes into debt)."""
    karim = db.session.scalar(sa.select(Member).where(Member.name == "Karim"))
    post(member.community_id, "gift", [(account_for(karim), -minutes), (account_for(member), minutes)], actor=None)


def test_saving_moves_hours_between_account_and_pot_and_never_below_zero(people):
    fatima = people["Fatima"]
    give(fatima, 180)
    pot = pots.open_pot(fatima, "A sewing course", 600)
    pots.deposit(pot, fatima, 120)
    assert (account_for(fatima).balance, pot.balance, pot.filled_percent) == (60, 120, 20)
    with pytest.raises(LimitExceeded):
        pots.withdraw(pot, fatima, 121)
    pots.withdraw(pot, fatima, 20)
    db.session.commit()
    assert (account_for(fatima).balance, pot.balance) == (80, 100)
    lines = statement(account_for(fatima))
    assert [(line.kind, line.amount) for line in lines][:2] == [("saving", 20), ("saving", -120)]
    assert verify().ok


def test_the_members_floor_applies_to_the_main_account(people):
    fatima = people["Fatima"]
    community = db.session.get(Community, fatima.community_id)
    pot = pots.open_pot(fatima, "Bike", 60)
    # The floor is -10 hours: saving may go as far as the floor, not past it.
    pots.deposit(pot, fatima, -community.ledger_floor)
    with pytest.raises(LimitExceeded):
        pots.deposit(pot, fatima, 1)
    assert account_for(fatima).balance == community.ledger_floor


def test_a_share_of_each_payment_goes_into_the_pot_in_the_same_transaction(people, make_post):
    fatima, jan = people["Fatima"], people["Jan"]
    give(jan, 120)
    pot = pots.open_pot(fatima, "Sewing course", 600)
    pots.set_share(pot, fatima, 10)
    db.session.commit()
    offer = db.session.get(Post, make_post(fatima, "Bike repair", minutes=95).id)
    exchange = exchanges.propose(offer, jan, 95, actor=jan, message="Saturday?")
    exchange = exchanges.confirm(exchanges.accept(exchange, actor=fatima), actor=jan)
    db.session.commit()
    settlement = db.session.get(Transaction, exchange.transaction_id)
    legs = {posting.account_id: posting.amount for posting in settlement.postings}
    # 95 minutes paid: 10 % (9.5 minutes, rounded down to 9) into the pot, 86 to Fatima's account,
    # one transaction.
    assert legs == {account_for(jan).id: -95, account_for(fatima).id: 86, pot.account_id: 9}
    assert (account_for(fatima).balance, pot.balance) == (86, 9)
    assert verify().ok


def test_shares_are_bounded_and_only_the_owner_touches_a_pot(people):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    first, second = pots.open_pot(fatima, "Course", 60), pots.open_pot(fatima, "Trip", 60)
    pots.set_share(first, fatima, 30)
    with pytest.raises(PotError) as refused:
        pots.set_share(second, fatima, 25)
    assert refused.value.field == "share_percent"
    for stranger in (jan, karim):
        with pytest.raises(PotNotFound):
            pots.pot_for(stranger, first.id)
    assert pots.pot_for(fatima, first.id) == first
    with pytest.raises(PotError):
        pots.open_pot(fatima, " ", 60)
    with pytest.raises(PotError):
        pots.open_pot(fatima, "Too big", 0)
    # Ten pots open at a time.
    for number in range(8):
        pots.open_pot(fatima, f"Goal {number}", 60)
    with pytest.raises(PotError):
        pots.open_pot(fatima, "The eleventh", 60)
    assert len(pots.pots_of(fatima)) == 10


def test_spending_from_a_pot_pays_a_neighbour_or_the_fund_directly(people, make_member, make_community):
    fatima, jan = people["Fatima"], people["Jan"]
    give(fatima, 120)
    pot = pots.open_pot(fatima, "Thank-yous", 120)
    pots.deposit(pot, fatima, 120)
    pots.spend(pot, fatima, 45, jan, "For the soup")
    pots.spend(pot, fatima, 15, None)
    with pytest.raises(PotError):
        pots.spend(pot, fatima, 10, fatima)
    # Only to an active neighbour of her own neighbourhood.
    outsider = make_member("Piet", community_id=make_community("west", "West").id)
    paused = make_member("Wilma", status="suspended")
    for someone in (outsider, paused):
        with pytest.raises(PotError) as refused:
            pots.spend(pot, fatima, 10, db.session.get(Member, someone.id))
        assert refused.value.field == "to"
    with pytest.raises(LimitExceeded):
        pots.spend(pot, fatima, 61, jan)
    db.session.commit()
    assert (pot.balance, account_for(jan).balance, account_for(fatima).balance) == (60, 45, 0)
    assert fund_account(fatima.community_id).balance == 15


def test_a_suspended_member_cannot_save(people):
    fatima = people["Fatima"]
    pot = pots.open_pot(fatima, "Course", 60)
    fatima.status = "suspended"
    db.session.flush()
    with pytest.raises(NotAllowed):
        pots.deposit(pot, fatima, 10)


def test_closing_a_pot_returns_its_hours_and_erasure_settles_pots_to_the_fund(people):
    fatima, karim = people["Fatima"], people["Karim"]
    give(fatima, 100)
    kept, closed = pots.open_pot(fatima, "Course", 60), pots.open_pot(fatima, "Trip", 60)
    pots.deposit(kept, fatima, 40)
    pots.deposit(closed, fatima, 30)
    pots.close_pot(closed, fatima)
    assert (closed.account.status, closed.balance, account_for(fatima).balance) == ("closed", 0, 60)
    with pytest.raises(PotNotFound):
        pots.pot_for(fatima, closed.id)
    with pytest.raises(AccountClosed):
        post(fatima.community_id, "saving", [(account_for(fatima), -1), (closed.account, 1)], actor=fatima)
    exported = as_json(fatima)
    assert "Course" in exported and "Trip" in exported
    fund_before = fund_account(fatima.community_id).balance
    settle_to_fund(fatima, actor=karim, reason="Moved away")
    erase_member(fatima, actor=karim, reason="Moved away")
    db.session.commit()
    assert fund_account(fatima.community_id).balance == fund_before + 100
    assert db.session.scalar(sa.select(sa.func.sum(Account.balance)).where(Account.member_id == fatima.id)) == 0
    assert kept.name == "" and verify().ok


def test_verify_notices_a_pot_that_went_below_zero(people):
    fatima = people["Fatima"]
    pot = pots.open_pot(fatima, "Course", 60)
    # Only a coordinator's override could do this; verify still says it.
    post(
        fatima.community_id, "saving", [(pot.account, -5), (account_for(fatima), 5)], actor=None, override_reason="test"
    )
    report = verify()
    assert [problem.check for problem in report.problems] == ["pots"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Posting)) == 2
