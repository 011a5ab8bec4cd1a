"""Power has limits (issue 11): nobody authorises hours into their own account, a coordinator acts
only on members below their rank, and silence never moves more than the payer agreed. Each test
tries the abuse the security review found and checks that it now does no harm."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.db import utcnow
from timebank.exchanges import services as ex
from timebank.exchanges import transfers
from timebank.exchanges.errors import AlreadyDone, IllegalTransition, NotAllowed
from timebank.exchanges.models import Exchange, Message
from timebank.exchanges.settings import set_exchange_settings
from timebank.exchanges.wording import status
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import IntoOwnAccount
from timebank.ledger.errors import InvalidTransaction as LedgerInvalidTransaction
from timebank.ledger.errors import NotAllowed as LedgerNotAllowed
from timebank.ledger.models import Transaction
from timebank.ledger.verify import verify
from timebank.members import services as members
from timebank.members.rules import coordinators_of
from timebank.members.services import MemberError
from timebank.members.services import NotAllowed as MemberNotAllowed

from .conftest import count

pytestmark = pytest.mark.usefixtures("ctx", "english")


@pytest.fixture
def people(make_member):
    """Karim and Lotte coordinate; Fatima and Jan are members; Anna gets help (no phone); Ada administers."""
    people = {name: make_member(name) for name in ("Fatima", "Jan")}
    people["Karim"] = make_member("Karim", role="coordinator")
    people["Lotte"] = make_member("Lotte", role="coordinator")
    people["Ada"] = make_member("Ada", role="coordinator", is_admin=True)
    people["Anna"] = make_member("Anna", email=None, assisted=True)
    return people


def balance(member) -> int:
    return ledger.balance(ledger.account_for(member))


def recorded(make_post, helper, payer, title, agreed, minutes):
    """An exchange `payer` asked `helper` for, accepted, with the time `helper` recorded."""
    exchange = ex.propose(make_post(helper, title=title, kind="offer", minutes=agreed), payer, agreed, actor=payer)
    ex.accept(exchange, actor=helper)
    ex.record_minutes(exchange, minutes, actor=helper)
    return exchange


def fill_fund(member, minutes):
    transfers.give_hours(member, None, minutes, "For the fund", actor=member)
    db.session.commit()


def test_a_coordinator_cannot_grant_fund_hours_to_themselves(people):
    karim, lotte, jan = people["Karim"], people["Lotte"], people["Jan"]
    fill_fund(jan, 120)
    with pytest.raises(IntoOwnAccount):
        transfers.grant_from_fund(karim, 60, "For my work", actor=karim)
    db.session.rollback()
    assert balance(karim) == 0 and count(Transaction) == 1
    # A second coordinator may decide it.
    transfers.grant_from_fund(karim, 60, "For organising the repair café", actor=lotte)
    db.session.commit()
    assert balance(karim) == 60 and verify().ok


def test_a_coordinator_cannot_undo_their_own_payment(people):
    karim, lotte, fatima = people["Karim"], people["Lotte"], people["Fatima"]
    payment = transfers.give_hours(karim, fatima, 90, "Thanks", actor=karim)
    db.session.commit()
    with pytest.raises(IntoOwnAccount):
        ledger.reverse(payment, actor=karim, reason="Changed my mind")
    db.session.rollback()
    assert (balance(karim), balance(fatima)) == (-90, 90)
    ledger.reverse(payment, actor=lotte, reason="Given by mistake, Karim says")
    db.session.commit()
    assert (balance(karim), balance(fatima)) == (0, 0)


def test_a_coordinator_cannot_pay_themselves_with_a_paper_slip(people):
    karim, anna, jan = people["Karim"], people["Anna"], people["Jan"]
    with pytest.raises(IntoOwnAccount):
        ex.record_paper_slip(karim, anna, 120, actor=karim, title="Garden work")
    db.session.rollback()
    assert balance(anna) == 0 and count(Exchange) == 0
    # Jan can use the app: the slip waits for him, and silence never settles it.
    slip = ex.record_paper_slip(karim, jan, 120, actor=karim, title="Garden work", idempotency_key="s1")
    assert ex.record_paper_slip(karim, jan, 120, actor=karim, title="Garden work", idempotency_key="s1") is slip
    db.session.commit()
    assert (slip.state, slip.transaction_id, slip.auto_confirm_at) == ("accepted", None, None)
    assert ex.due_for_auto_confirm(utcnow() + timedelta(days=365)) == []
    assert "the hours move only when you do" in status(slip, jan).next
    ex.confirm(slip, actor=jan)
    db.session.commit()
    assert slip.state == "completed" and (balance(jan), balance(karim)) == (-120, 120)


def test_paper_slips_for_assisted_members_settle_at_once_but_never_to_the_coordinator(people):
    karim, anna, fatima = people["Karim"], people["Anna"], people["Fatima"]
    slip = ex.record_paper_slip(fatima, anna, 60, actor=karim, title="Shopping")
    db.session.commit()
    assert slip.state == "completed" and (balance(anna), balance(fatima)) == (-60, 60)


def test_acting_for_an_assisted_member_does_not_let_a_coordinator_pay_themselves(people, make_post):
    karim, anna, lotte = people["Karim"], people["Anna"], people["Lotte"]
    with pytest.raises(IntoOwnAccount):
        transfers.give_hours(anna, karim, 60, "Thank you", actor=karim)
    db.session.rollback()
    # Karim's own offer: he cannot answer it in Anna's name.
    offer = make_post(karim, title="Help with forms", kind="offer", minutes=60)
    with pytest.raises(NotAllowed):
        ex.propose(offer, anna, 60, actor=karim)
    db.session.rollback()
    # Lotte helps Anna propose; Karim cannot then confirm it for Anna (he would be paid).
    exchange = ex.propose(offer, anna, 60, actor=lotte)
    ex.accept(exchange, actor=karim)
    db.session.commit()
    with pytest.raises(NotAllowed):
        ex.confirm(exchange, actor=karim, on_behalf_of=anna)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        ex.create_group(anna, "receiver", "Moving boxes", 60, [karim], actor=karim)
    db.session.rollback()
    assert balance(anna) == 0 and balance(karim) == 0
    ex.confirm(exchange, actor=lotte, on_behalf_of=anna)
    db.session.commit()
    assert (balance(anna), balance(karim)) == (-60, 60)


def test_an_organiser_is_paid_by_those_who_confirmed_their_part_themselves(people):
    karim, fatima, jan = people["Karim"], people["Fatima"], people["Jan"]
    lesson = ex.create_group(karim, "provider", "Sewing lesson", 60, [fatima, jan], actor=karim)
    ex.confirm(lesson, actor=fatima)
    db.session.commit()
    ex.settle_group(lesson, actor=karim)
    db.session.commit()
    assert (balance(karim), balance(fatima), balance(jan)) == (60, -60, 0)


def test_powers_over_a_member_stop_at_ones_own_rank(people, make_member):
    karim, lotte, ada, jan = people["Karim"], people["Lotte"], people["Ada"], people["Jan"]
    for target in (ada, lotte):
        for step in (
            lambda m: members.suspend_member(m, actor=karim, reason="No"),
            lambda m: members.erase_member(m, actor=karim, reason="No"),
        ):
            with pytest.raises(MemberNotAllowed) as refused:
                step(target)
            db.session.rollback()
            assert "only an administrator can do this" in str(refused.value)
        with pytest.raises(LedgerNotAllowed):
            ledger.set_limits(ledger.account_for(target), floor=0, ceiling=0, actor=karim, reason="No")
        db.session.rollback()
    assert {m.status for m in (ada, lotte)} == {"active"}
    # An administrator may pause a coordinator; a coordinator may pause a member.
    members.suspend_member(lotte, actor=ada, reason="Asked for a break")
    members.suspend_member(jan, actor=karim, reason="Rude to a neighbour")
    db.session.commit()
    assert (lotte.status, jan.status) == ("suspended", "suspended")
    # Nobody acts on someone of their own rank, administrators included.
    other_admin = make_member("Bo", role="coordinator", is_admin=True)
    with pytest.raises(MemberNotAllowed):
        members.suspend_member(other_admin, actor=ada, reason="No")


def test_an_administrator_manages_every_neighbourhood_a_coordinator_only_their_own(people, make_member, make_community):
    west = make_community("west", "West")
    piet = make_member("Piet", community_id=west.id)
    wendy = make_member("Wendy", role="coordinator", community_id=west.id)
    karim, ada = people["Karim"], people["Ada"]
    with pytest.raises(MemberNotAllowed):
        members.suspend_member(piet, actor=karim, reason="Not his neighbourhood")
    db.session.rollback()
    assert piet.status == "active"
    # Ada coordinates here, yet as the administrator she may pause West's coordinator.
    members.suspend_member(wendy, actor=ada, reason="Asked for a break")
    db.session.commit()
    assert wendy.status == "suspended"


def test_only_an_administrator_appoints_coordinators_and_never_an_assisted_member(people):
    karim, ada, jan, anna = people["Karim"], people["Ada"], people["Jan"], people["Anna"]
    with pytest.raises(MemberNotAllowed):
        members.set_coordinator(jan, actor=karim, coordinator=True)
    db.session.rollback()
    assert jan.role == "member"
    # Anna has no phone and coordinators act for her: she cannot hold a coordinator's powers.
    with pytest.raises(MemberError):
        members.set_coordinator(anna, actor=ada, coordinator=True)
    db.session.rollback()
    members.set_coordinator(jan, actor=ada, coordinator=True)
    db.session.commit()
    assert (jan.role, anna.role) == ("coordinator", "member")


def test_an_erased_coordinator_keeps_no_role(people):
    lotte = people["Lotte"]
    members.erase_member(lotte, actor=people["Ada"], reason="Moved away")
    db.session.commit()
    assert (lotte.status, lotte.role, lotte.is_admin) == ("erased", "member", False)
    assert lotte not in coordinators_of(lotte.community_id)


def test_recorded_time_settles_by_itself_only_within_the_agreed_margin(people, make_post):
    fatima, jan = people["Fatima"], people["Jan"]
    offer = make_post(fatima, title="Haircut", kind="offer", minutes=30)
    exchange = ex.propose(offer, jan, 30, actor=jan)
    ex.accept(exchange, actor=fatima)
    ex.record_minutes(exchange, 480, actor=fatima)
    db.session.commit()
    assert exchange.auto_confirm_at is None
    later = utcnow() + timedelta(days=60)
    assert exchange.id not in ex.due_for_auto_confirm(later)
    assert ex.auto_confirm(exchange, later) == "skipped" and balance(jan) == 0
    # Within a quarter above the agreed time, silence settles it.
    ex.record_minutes(exchange, 35, actor=fatima)
    db.session.commit()
    assert ex.due_for_auto_confirm(later) == [exchange.id]
    assert ex.auto_confirm(exchange, later) == "settled"
    db.session.commit()
    assert (balance(jan), balance(fatima)) == (-35, 35)


def test_silence_waits_for_its_days_and_the_margin_that_holds_when_they_end(people, make_post):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    exchange = recorded(make_post, fatima, jan, "Haircut", 60, 70)
    db.session.commit()
    due = exchange.auto_confirm_at
    # A run that listed it earlier reaches it a minute too soon: nothing moves.
    assert ex.auto_confirm(exchange, due - timedelta(minutes=1)) == "skipped"
    db.session.commit()
    assert balance(jan) == 0 and exchange.auto_confirm_at == due
    # Before the days are over, the coordinators allow no margin any more: 70 minutes of an agreed
    # 60 now wait for Jan to confirm them.
    community = fatima.community
    set_exchange_settings(
        community,
        auto_confirm_days=community.exchange_auto_confirm_days,
        max_minutes=community.exchange_max_minutes,
        silence_margin_percent=0,
        actor=karim,
    )
    assert ex.auto_confirm(exchange, due) == "skipped"
    db.session.commit()
    assert (exchange.state, exchange.auto_confirm_at, balance(jan)) == ("accepted", None, 0)


def test_confirming_even_a_minute_less_than_recorded_waits_for_the_helper(people, make_post):
    fatima, jan = people["Fatima"], people["Jan"]
    exchange = recorded(make_post, fatima, jan, "Haircut", 60, 60)
    ex.confirm(exchange, actor=jan, minutes=59)
    db.session.commit()
    assert (exchange.state, exchange.offered_minutes, balance(fatima)) == ("accepted", 59, 0)
    # A second click on the same answer is told it is done, and Fatima is not asked twice.
    with pytest.raises(AlreadyDone):
        ex.confirm(exchange, actor=jan, minutes=59)
    db.session.rollback()
    asked = sa.select(sa.func.count(Message.id)).where(Message.exchange_id == exchange.id, Message.event == "offered")
    assert db.session.scalar(asked) == 1


def test_a_coordinator_never_decides_a_dispute_they_take_part_in(people, make_post):
    fatima, karim, lotte = people["Fatima"], people["Karim"], people["Lotte"]
    exchange = recorded(make_post, fatima, karim, "Ironing", 60, 60)
    ex.dispute(exchange, "The shirts were still creased", actor=karim)
    db.session.commit()
    # Karim got the help: he may neither call the exchange off nor decide what he pays.
    for outcome in ({"cancel": True}, {"minutes": 1}):
        with pytest.raises(NotAllowed):
            ex.resolve(exchange, actor=karim, reason="I decide this one", **outcome)
        db.session.rollback()
    assert exchange.state == "disputed" and balance(karim) == 0
    ex.resolve(exchange, actor=lotte, reason="Ironed as agreed", minutes=60)
    db.session.commit()
    assert (balance(karim), balance(fatima)) == (-60, 60)


def test_a_provider_can_dispute_a_confirmation_of_fewer_minutes(people, make_post):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    exchange = recorded(make_post, fatima, jan, "Painting", 120, 120)
    ex.confirm(exchange, actor=jan, minutes=60)
    db.session.commit()
    # Nothing moved: Fatima is asked to agree to the hour Jan confirmed.
    assert (exchange.state, exchange.offered_minutes, balance(jan)) == ("accepted", 60, 0)
    ex.dispute(exchange, "It took two hours, we both know", actor=fatima)
    db.session.commit()
    ex.resolve(exchange, actor=karim, reason="Two hours, as recorded", minutes=120)
    db.session.commit()
    assert (balance(jan), balance(fatima)) == (-120, 120)


def test_a_provider_agrees_to_fewer_minutes_or_silence_settles_them(people, make_post):
    fatima, jan = people["Fatima"], people["Jan"]
    offer = make_post(fatima, title="Painting", kind="offer", minutes=120)
    agreed, silent = (ex.propose(offer, payer, 120, actor=payer) for payer in (jan, people["Karim"]))
    for exchange in (agreed, silent):
        ex.accept(exchange, actor=fatima)
        ex.record_minutes(exchange, 120, actor=fatima)
    ex.confirm(agreed, actor=jan, minutes=90)
    ex.confirm(silent, actor=people["Karim"], minutes=100)
    db.session.commit()
    with pytest.raises(NotAllowed):
        ex.agree(agreed, actor=jan)
    db.session.rollback()
    ex.agree(agreed, actor=fatima)
    db.session.commit()
    assert agreed.state == "completed" and balance(jan) == -90
    later = utcnow() + timedelta(days=15)
    assert ex.auto_confirm(silent, later) == "settled"
    db.session.commit()
    assert balance(people["Karim"]) == -100 and balance(fatima) == 190 and verify().ok
    with pytest.raises(IllegalTransition):
        ex.agree(agreed, actor=fatima)


def test_keys_from_forms_cannot_claim_the_time_banks_own_keys(people, make_post):
    fatima, jan, karim, lotte = people["Fatima"], people["Jan"], people["Karim"], people["Lotte"]
    offer = make_post(fatima, title="Bike repair", kind="offer", minutes=60)
    exchange = ex.propose(offer, jan, 60, actor=jan)
    ex.accept(exchange, actor=fatima)
    gift = transfers.give_hours(lotte, fatima, 30, "Thanks", actor=lotte)
    db.session.commit()
    # An undo keyed like the exchange's settlement (the form's key is the coordinator's to choose).
    with pytest.raises(LedgerInvalidTransaction):
        ledger.reverse(
            gift,
            actor=karim,
            reason="Test",
            idempotency_key=ledger.request_key(karim, "undo", f"exchange:{exchange.id}:settle"),
        )
    db.session.rollback()
    ledger.reverse(gift, actor=karim, reason="Test", idempotency_key=ledger.request_key(karim, "undo", "abc"))
    ex.confirm(exchange, actor=jan)
    db.session.commit()
    assert exchange.state == "completed" and balance(fatima) == 60


def test_one_members_form_key_never_finds_another_members_gift(people):
    fatima, jan, lotte = people["Fatima"], people["Jan"], people["Lotte"]
    first = transfers.give_hours(jan, fatima, 30, "Thanks", actor=jan, idempotency_key="same-key")
    second = transfers.give_hours(lotte, fatima, 45, "Thanks too", actor=lotte, idempotency_key="same-key")
    db.session.commit()
    assert first.id != second.id and balance(fatima) == 75
