"""The exchange rules, called as the web pages and the API call them: every legal step, every
refusal (with nothing changed), settlement in the ledger exactly once, limits, auto-confirm,
disputes, groups, direct transfers and paper slips."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.exchanges import services as ex
from timebank.exchanges import transfers
from timebank.exchanges.errors import (
    AlreadyDone,
    ExchangeError,
    IllegalTransition,
    NotAllowed,
    NotAParty,
    PostUnavailable,
)
from timebank.exchanges.models import Exchange, Message
from timebank.exchanges.wording import status
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import LimitExceeded
from timebank.ledger.errors import NotAllowed as LedgerNotAllowed
from timebank.ledger.models import Transaction
from timebank.ledger.verify import verify
from timebank.members import services as members
from timebank.notifications import services as notes
from timebank.notifications.models import Notification

from .conftest import count, mails

pytestmark = pytest.mark.usefixtures("ctx", "english")


@pytest.fixture
def people(make_member):
    """Fatima offers bike repairs; Jan needs it; Wilma is a neighbour; Karim coordinates."""
    return {
        name: make_member(name, role="coordinator" if name == "Karim" else "member")
        for name in ("Fatima", "Jan", "Wilma", "Karim")
    }


@pytest.fixture
def offer(people, make_post):
    return make_post(people["Fatima"], title="Bike repair", kind="offer", minutes=60)


def balance(member) -> int:
    return ledger.balance(ledger.account_for(member))


def notified(member, kind) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.member_id == member.id, Notification.kind == kind)
    )


def snapshot(exchange):
    """What must not change when a step is refused."""
    db.session.rollback()
    db.session.refresh(exchange)
    return (
        exchange.state,
        exchange.minutes,
        exchange.recorded_minutes,
        exchange.transaction_id,
        count(Transaction),
        count(Message),
    )


def test_one_to_one_from_proposal_to_settlement(people, offer):
    fatima, jan = people["Fatima"], people["Jan"]
    exchange = ex.propose(offer, jan, 60, actor=jan, message="Saturday morning?")
    db.session.commit()
    assert (exchange.state, exchange.provider, exchange.receiver) == ("proposed", fatima, jan)
    assert notified(fatima, "proposed") == 1 and mails(to=fatima.email, kind="notify_proposed")
    # A second click on "propose" finds the first proposal.
    assert ex.propose(offer, jan, 60, actor=jan) is exchange and count(Exchange) == 1

    ex.accept(exchange, actor=fatima)
    ex.record_minutes(exchange, 75, actor=fatima)  # a quarter more than agreed may still settle by itself
    db.session.commit()
    assert exchange.auto_confirm_at - utcnow() > timedelta(days=13)
    ex.record_minutes(exchange, 90, actor=fatima)
    db.session.commit()
    assert notified(jan, "recorded") == 2

    ex.confirm(exchange, actor=jan)
    db.session.commit()
    assert exchange.state == "completed" and exchange.minutes == 90
    assert (balance(jan), balance(fatima)) == (-90, 90)
    transaction = db.session.get(Transaction, exchange.transaction_id)
    assert transaction.kind == "exchange" and transaction.memo == "Bike repair"
    assert transaction.idempotency_key == f"exchange:{exchange.id}:settle"
    assert notified(fatima, "completed") == 1
    events = [m.event for m in ex.thread(exchange)]
    assert events == ["proposed", "accepted", "recorded", "recorded", "completed"]
    assert ex.thread(exchange)[0].body == "Saturday morning?"

    # Confirming again (a double click, a retry) changes nothing.
    with pytest.raises(AlreadyDone):
        ex.confirm(exchange, actor=jan)
    assert count(Transaction) == 1 and verify().ok

    note = ex.thank(exchange, jan, "Fixed in no time!")
    db.session.commit()
    assert note.member == fatima and ex.thanks_for(fatima) == [note] and notified(fatima, "thanked") == 1
    assert ex.thank(exchange, jan, "Fixed in no time!") is note  # the same note twice is one note
    with pytest.raises(ExchangeError):
        ex.thank(exchange, jan, "   ")


def test_responding_to_a_request_makes_the_responder_the_provider(people, make_post):
    request = make_post(people["Jan"], title="Help with my garden", kind="request")
    exchange = ex.propose(request, people["Wilma"], 120, actor=people["Wilma"])
    assert (exchange.provider, exchange.receiver) == (people["Wilma"], people["Jan"])
    ex.accept(exchange, actor=people["Jan"])
    # The receiver may confirm at once, adjusting the minutes.
    ex.confirm(exchange, actor=people["Jan"], minutes=100)
    db.session.commit()
    assert balance(people["Wilma"]) == 100 and balance(people["Jan"]) == -100


@pytest.mark.parametrize("path", ["declined", "cancelled_proposed", "cancelled_accepted", "withdrawn"])
def test_ending_without_hours(people, offer, path):
    fatima, jan = people["Fatima"], people["Jan"]
    exchange = ex.propose(offer, jan, 60, actor=jan)
    if path == "declined":
        ex.decline(exchange, actor=fatima, reason="Away that week")
    elif path == "cancelled_proposed":
        ex.cancel(exchange, "Found help elsewhere", actor=fatima)
    elif path == "withdrawn":
        ex.cancel(exchange, "Not needed any more", actor=jan)
    else:
        ex.accept(exchange, actor=fatima)
        ex.cancel(exchange, "Ill", actor=jan)
    db.session.commit()
    assert exchange.state == ("declined" if path == "declined" else "cancelled") and exchange.reason
    assert count(Transaction) == 0
    # Once closed, nothing else can happen to it.
    for step in (
        lambda: ex.accept(exchange, actor=fatima),
        lambda: ex.confirm(exchange, actor=jan),
        lambda: ex.dispute(exchange, "x", actor=jan),
        lambda: ex.record_minutes(exchange, 30, actor=fatima),
    ):
        before = snapshot(exchange)
        with pytest.raises(IllegalTransition):
            step()
        assert snapshot(exchange) == before
    # The proposal is closed, so the same member may propose again.
    assert ex.propose(offer, jan, 60, actor=jan).id != exchange.id


def test_illegal_steps_are_refused_and_change_nothing(people, offer):
    fatima, jan, wilma = people["Fatima"], people["Jan"], people["Wilma"]
    exchange = ex.propose(offer, jan, 60, actor=jan)
    db.session.commit()
    proposed = [
        (lambda: ex.accept(exchange, actor=jan), NotAllowed),  # the proposer does not accept
        (lambda: ex.confirm(exchange, actor=jan), IllegalTransition),  # not accepted yet
        (lambda: ex.dispute(exchange, "why", actor=jan), IllegalTransition),
        (lambda: ex.record_minutes(exchange, 30, actor=fatima), IllegalTransition),
        (lambda: ex.cancel(exchange, "", actor=jan), ExchangeError),  # a reason is needed
        (lambda: ex.accept(exchange, actor=wilma), NotAParty),  # not her exchange
        (lambda: ex.accept(exchange, actor=wilma, on_behalf_of=fatima), NotAParty),  # nor may she act for Fatima
        (lambda: ex.post_message(exchange, wilma, "hello"), NotAParty),
    ]
    accepted = [
        (lambda: ex.accept(exchange, actor=fatima), AlreadyDone),
        (lambda: ex.confirm(exchange, actor=fatima), NotAllowed),  # the provider does not confirm
        (lambda: ex.record_minutes(exchange, 30, actor=jan), NotAllowed),  # the receiver does not record
        (lambda: ex.record_minutes(exchange, 0, actor=fatima), ExchangeError),
        (lambda: ex.confirm(exchange, actor=jan, minutes=-5), ExchangeError),
        (lambda: ex.confirm(exchange, actor=jan, minutes=481), ExchangeError),  # above the community maximum
        (lambda: ex.resolve(exchange, actor=people["Karim"], reason="x"), IllegalTransition),  # not in dispute
    ]
    for refusals in (proposed, accepted):
        for step, error in refusals:
            before = snapshot(exchange)
            with pytest.raises(error) as raised:
                step()
            assert raised.value.status in (403, 409, 422) and str(raised.value)
            assert snapshot(exchange) == before, step
        if exchange.state == "proposed":
            ex.accept(exchange, actor=fatima)
            db.session.commit()


def test_bad_proposals(people, offer, make_post, make_community, make_member):
    jan = people["Jan"]
    elsewhere = make_member("Noor", community_id=make_community("noord", "Noord").id)
    gift = make_post(people["Fatima"], title="Free chair", is_gift=True, minutes=0)
    closed = make_post(people["Fatima"], title="Old offer", status="closed")
    cases = [
        (lambda: ex.propose(offer, people["Fatima"], 60, actor=people["Fatima"]), ExchangeError, "own post"),
        (lambda: ex.propose(closed, jan, 60, actor=jan), ExchangeError, "no longer in the market"),
        (lambda: ex.propose(offer, elsewhere, 60, actor=elsewhere), NotAllowed, "another neighbourhood"),
        (lambda: ex.propose(gift, jan, 60, actor=jan), ExchangeError, "free gift"),
        (lambda: ex.propose(offer, jan, 0, actor=jan), ExchangeError, "more than 0 minutes"),
        (lambda: ex.propose(offer, jan, 9 * 60, actor=jan), ExchangeError, "at most 8 hours"),
        (lambda: ex.propose(offer, jan, 60, actor=people["Wilma"]), NotAParty, "in the name of Jan"),
    ]
    for step, error, words in cases:
        with pytest.raises(error) as raised:
            step()
        db.session.rollback()
        assert words in str(raised.value)
    assert count(Exchange) == 0 and count(Notification) == 0


def test_limit_refusal_leaves_it_accepted_and_a_coordinator_can_override(people, offer):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    exchange = ex.propose(offer, jan, 60, actor=jan)
    ex.accept(exchange, actor=fatima)
    # Jan's balance falls after the proposal was accepted (proposing or accepting this much is refused).
    ledger.transfer(ledger.account_for(jan), ledger.account_for(people["Wilma"]), 570, kind="gift", actor=None)
    db.session.commit()
    before = snapshot(exchange)
    with pytest.raises(LimitExceeded) as refused:
        ex.confirm(exchange, actor=jan)
    assert refused.value.room == 30 and refused.value.owner == "Jan" and refused.value.direction == "floor"
    assert snapshot(exchange) == before and exchange.state == "accepted"
    # Ways forward: fewer minutes fit; or a coordinator lets this one go past the limit.
    with pytest.raises(LedgerNotAllowed):
        ex.confirm(exchange, actor=jan, override_reason="Jan is ill")  # members cannot override
    db.session.rollback()
    ex.ask_for_help(exchange, actor=jan)
    db.session.commit()
    assert notified(karim, "help") == 1 and ex.open_disputes(exchange.community_id) == [exchange]
    ex.confirm(exchange, actor=karim, on_behalf_of=jan, override_reason="Jan is ill this month")
    db.session.commit()
    assert exchange.state == "completed" and balance(jan) == -630
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.limit_override"))
    assert (
        db.session.scalar(sa.select(AuditEvent.on_behalf_of_id).where(AuditEvent.action == "exchange.completed"))
        == jan.id
    )
    assert verify().ok


def test_dispute_and_resolution(people, offer, make_member):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    exchange = ex.propose(offer, jan, 60, actor=jan)
    ex.accept(exchange, actor=fatima)
    ex.record_minutes(exchange, 180, actor=fatima)
    ex.dispute(exchange, "It took one hour, not three", actor=jan)
    db.session.commit()
    assert exchange.state == "disputed" and exchange.auto_confirm_at is None
    assert notified(karim, "disputed") == 1 and notified(fatima, "disputed") == 1
    # The conversation: the parties, and coordinators now that it is in dispute.
    assert ex.can_read_thread(karim, exchange) and not ex.can_read_thread(people["Wilma"], exchange)
    with pytest.raises(NotAllowed):
        ex.resolve(exchange, actor=people["Wilma"], reason="I decide")
    with pytest.raises(NotAllowed):
        ex.resolve(exchange, actor=fatima, reason="I decide")
    ex.resolve(exchange, actor=karim, reason="We agreed on 1 hour 30", minutes=90)
    db.session.commit()
    assert exchange.state == "completed" and balance(fatima) == 90
    assert db.session.get(Transaction, exchange.transaction_id).actor_id == karim.id
    assert {
        e.on_behalf_of_id
        for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "exchange.resolved"))
    } == {fatima.id, jan.id}
    assert notified(jan, "resolved") == 1
    assert not ex.can_read_thread(karim, exchange)  # the dispute is over

    second = ex.propose(offer, jan, 60, actor=jan)
    ex.accept(second, actor=fatima)
    ex.dispute(second, "She never came", actor=jan)
    ex.resolve(second, actor=karim, reason="Nothing happened", cancel=True)
    db.session.commit()
    assert second.state == "cancelled" and count(Transaction) == 1 and verify().ok


def test_auto_confirm_settles_once_and_respects_limits(app, people, offer, make_post, runner):
    fatima, jan, wilma = people["Fatima"], people["Jan"], people["Wilma"]
    exchange = ex.propose(offer, jan, 60, actor=jan)
    ex.accept(exchange, actor=fatima)
    ex.record_minutes(exchange, 45, actor=fatima)
    unrecorded = ex.propose(make_post(fatima, title="Soup"), jan, 30, actor=jan)
    ex.accept(unrecorded, actor=fatima)
    blocked = ex.propose(make_post(wilma, title="Sewing"), jan, 480, actor=jan)
    ex.accept(blocked, actor=wilma)
    ex.record_minutes(blocked, 480, actor=wilma)
    ledger.transfer(ledger.account_for(jan), ledger.account_for(wilma), 300, kind="gift", actor=None)
    db.session.commit()
    assert ex.due_for_auto_confirm() == []
    later = utcnow() + timedelta(days=15)
    assert ex.due_for_auto_confirm(later) == [exchange.id, blocked.id]
    assert ex.auto_confirm(exchange, later) == "settled"
    assert ex.auto_confirm(blocked, later) == "refused"
    db.session.commit()
    assert exchange.state == "completed" and balance(fatima) == 45
    assert blocked.state == "accepted" and blocked.auto_confirm_at is None
    assert notified(wilma, "limit") == 1 and notified(jan, "completed") == 1
    # A second run finds nothing more to do.
    assert ex.due_for_auto_confirm(later) == [] and ex.auto_confirm(exchange, later) == "skipped"
    assert unrecorded.state == "accepted" and count(Transaction) == 2 and verify().ok

    app.config["SERVER_NAME"] = "localhost"
    db.session.execute(
        sa.update(Exchange)
        .where(Exchange.id == unrecorded.id)
        .values(recorded_minutes=30, recorded_at=utcnow(), auto_confirm_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    result = runner.invoke(args=["exchanges", "auto-confirm"])
    assert result.exit_code == 0 and "Settled: 1." in result.output, result.output
    assert "Settled: 0." in runner.invoke(args=["exchanges", "auto-confirm"]).output


def test_a_proposal_nobody_answers_ends_after_a_week(app, people, offer, make_post, runner):
    """Nobody waits for ever: after the answer-by day both members are told the proposal ended."""
    fatima, jan, wilma = people["Fatima"], people["Jan"], people["Wilma"]
    waiting = ex.propose(offer, jan, 60, actor=jan)
    answered = ex.propose(make_post(wilma, title="Sewing"), jan, 30, actor=jan)
    db.session.commit()
    assert waiting.answer_by.date() == (utcnow() + timedelta(days=7)).date()
    ex.accept(answered, actor=wilma)
    db.session.commit()
    assert ex.due_for_expiry() == [] and ex.due_for_expiry(utcnow() + timedelta(days=8)) == [waiting.id]

    app.config["SERVER_NAME"] = "localhost"
    db.session.execute(
        sa.update(Exchange).where(Exchange.id == waiting.id).values(answer_by=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    result = runner.invoke(args=["exchanges", "expire-proposals"])
    assert result.exit_code == 0 and "Ended 1 proposals" in result.output, result.output
    db.session.refresh(waiting)
    assert (waiting.state, waiting.ended_unanswered, answered.state) == ("cancelled", True, "accepted")
    assert notified(fatima, "expired") == notified(jan, "expired") == 1
    assert status(waiting, jan).happened == "Nobody answered in time, so the proposal ended."
    assert count(Transaction) == 0
    assert "Ended 0 proposals" in runner.invoke(args=["exchanges", "expire-proposals"]).output
    # A proposal cancelled by its maker is not mistaken for one that nobody answered.
    withdrawn = ex.propose(make_post(wilma, title="Ironing"), jan, 30, actor=jan)
    ex.cancel(withdrawn, "Found help", actor=jan)
    assert not withdrawn.ended_unanswered and status(withdrawn, jan).happened == "This exchange was cancelled."


def test_group_lesson_settles_as_one_transaction(people, make_member):
    fatima = people["Fatima"]
    db.session.scalar(sa.select(Community)).ledger_levy_percent = 10
    pupils = [people["Jan"], people["Wilma"], make_member("Priya"), make_member("Ahmed")]
    group = ex.create_group(fatima, "provider", "Sewing lesson", 120, pupils, actor=fatima)
    db.session.commit()
    assert group.state == "proposed" and len(group.participants) == 5
    assert all(notified(p, "group_invited") == 1 for p in pupils)
    with pytest.raises(NotAllowed):
        ex.confirm(group, actor=fatima)  # the organiser settles or cancels, not confirms
    ex.confirm(group, actor=pupils[0])
    ex.confirm(group, actor=pupils[1])
    ex.decline(group, actor=pupils[2], reason="Ill")
    db.session.commit()
    with pytest.raises(AlreadyDone):
        ex.confirm(group, actor=pupils[0])
    db.session.rollback()
    assert group.state == "proposed"
    ex.confirm(group, actor=pupils[3])  # the last answer settles it
    db.session.commit()
    assert group.state == "completed"
    transaction = db.session.get(Transaction, group.transaction_id)
    legs = sorted(p.amount for p in transaction.postings)
    assert legs == [-120, -120, -120, 36, 324]  # three pupils pay; 10 % goes to the fund
    assert count(Transaction) == 1 and balance(fatima) == 324 and balance(pupils[2]) == 0
    assert notified(pupils[0], "completed") == 1 and notified(pupils[2], "completed") == 0
    assert verify().ok
    # Thanks go to the other side among those who took part.
    assert ex.thankable(group, fatima) == [pupils[0], pupils[1], pupils[3]]
    assert ex.thank(group, pupils[0], "Great lesson").member == fatima
    with pytest.raises(NotAParty):
        ex.thank(group, pupils[2], "Sorry I missed it")


def test_group_helping_hand_organiser_settles_early_and_limits_keep_answers(people, make_member):
    jan = people["Jan"]
    helpers = [people["Fatima"], people["Wilma"], make_member("Priya")]
    # Jan could pay all three when he organised it (15 hours with Fatima's gift); then he gave it away.
    ledger.transfer(ledger.account_for(people["Fatima"]), ledger.account_for(jan), 300, kind="gift", actor=None)
    group = ex.create_group(jan, "receiver", "Moving the sofa", 300, helpers, actor=jan)
    ledger.transfer(ledger.account_for(jan), ledger.account_for(people["Wilma"]), 300, kind="gift", actor=None)
    ex.confirm(group, actor=helpers[0])
    db.session.commit()
    with pytest.raises(NotAllowed):
        ex.settle_group(group, actor=helpers[0])
    # Two helpers confirm; that would take Jan to −10 hours: fine. A third would not fit.
    ex.confirm(group, actor=helpers[1])
    ex.confirm(group, actor=helpers[2])  # the last answer: settling is refused by Jan's floor
    db.session.commit()
    assert group.state == "proposed" and all(p.answer == "confirmed" for p in group.others())
    assert notified(jan, "limit") == 1 and count(Transaction) == 2  # the two gifts only
    with pytest.raises(LimitExceeded):
        ex.settle_group(group, actor=jan)
    db.session.rollback()
    ledger.transfer(
        ledger.account_for(people["Wilma"]), ledger.fund_account(jan.community_id), 300, kind="donation", actor=None
    )
    transfers.grant_from_fund(jan, 300, "Help with moving", actor=people["Karim"])
    db.session.commit()
    ex.settle_group(group, actor=jan)
    db.session.commit()
    assert group.state == "completed" and balance(jan) == -600 and verify().ok


def test_group_auto_confirm_charges_only_who_confirmed_and_cancels_when_all_decline(people, make_member):
    fatima, jan, wilma = people["Fatima"], people["Jan"], people["Wilma"]
    lesson = ex.create_group(fatima, "provider", "Bread baking", 60, [jan, wilma], actor=fatima)
    ex.confirm(lesson, actor=jan)
    nobody = ex.create_group(fatima, "provider", "Knitting", 60, [jan, wilma], actor=fatima)
    ex.decline(nobody, actor=jan)
    ex.decline(nobody, actor=wilma)
    db.session.commit()
    assert nobody.state == "cancelled"
    later = utcnow() + timedelta(days=15)
    assert ex.due_for_auto_confirm(later) == [lesson.id]
    assert ex.auto_confirm(lesson, later) == "settled"
    db.session.commit()
    # Wilma never answered: silence does not make her pay.
    assert (balance(fatima), balance(jan), balance(wilma)) == (60, -60, 0)


def test_bad_group_input(people, make_member, make_community):
    fatima = people["Fatima"]
    far = make_member("Noor", community_id=make_community("noord", "Noord").id)
    cases = [
        (dict(role="teacher"), "give or get"),
        (dict(title=" "), "what you do together"),
        (dict(members=[]), "at least one"),
        (dict(members=[fatima]), "at least one"),
        (dict(members=[far]), "another neighbourhood"),
        (dict(minutes=0), "more than 0"),
    ]
    for change, words in cases:
        values = {**dict(role="provider", title="Lesson", minutes=60, members=[people["Jan"]]), **change}
        with pytest.raises(ExchangeError) as raised:
            ex.create_group(fatima, values["role"], values["title"], values["minutes"], values["members"], actor=fatima)
        db.session.rollback()
        assert words in str(raised.value)
    assert count(Exchange) == 0


def test_gifts_donations_grants_and_paper_slips(people, make_member):
    fatima, jan, wilma, karim = people["Fatima"], people["Jan"], people["Wilma"], people["Karim"]
    gift = transfers.give_hours(jan, fatima, 30, "Thanks for the soup", actor=jan, idempotency_key="k1")
    assert transfers.give_hours(jan, fatima, 30, "Thanks for the soup", actor=jan, idempotency_key="k1") is gift
    transfers.give_hours(wilma, None, 120, "For the fund", actor=wilma)
    db.session.commit()
    assert (balance(jan), balance(fatima), balance(wilma)) == (-30, 30, -120)
    assert notified(fatima, "gift") == 1
    for step, error in [
        (lambda: transfers.give_hours(jan, jan, 30, actor=jan), ExchangeError),
        (lambda: transfers.give_hours(jan, fatima, 30, actor=wilma), NotAParty),
        (lambda: transfers.grant_from_fund(jan, 30, "why", actor=wilma), NotAllowed),
        (lambda: transfers.grant_from_fund(jan, 30, "", actor=karim), ExchangeError),
        (lambda: transfers.grant_from_fund(jan, 121, "Too much", actor=karim), LimitExceeded),
    ]:
        with pytest.raises(error):
            step()
        db.session.rollback()
    grant = transfers.grant_from_fund(jan, 60, "Winter help", actor=karim, idempotency_key="g1")
    db.session.commit()
    assert grant.kind == "grant" and balance(jan) == 30 and notified(jan, "grant") == 1
    granted = sa.select(AuditEvent.on_behalf_of_id).where(AuditEvent.action == "hours.granted")
    assert db.session.scalar(granted) == jan.id

    anna = make_member("Anna", email=None, assisted=True)
    piet = make_member("Piet", email=None, assisted=True)
    with pytest.raises(NotAllowed):
        ex.record_paper_slip(anna, piet, 60, actor=jan, title="Shopping")
    slip = ex.record_paper_slip(anna, piet, 60, actor=karim, title="Shopping", idempotency_key="slip-1")
    assert ex.record_paper_slip(anna, piet, 60, actor=karim, title="Shopping", idempotency_key="slip-1") is slip
    db.session.commit()
    assert slip.state == "completed" and slip.kind == "slip" and (balance(anna), balance(piet)) == (60, -60)
    assert notified(anna, "slip") == notified(piet, "slip") == 1
    assert {
        e.on_behalf_of_id for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "exchange.slip"))
    } == {anna.id, piet.id}
    assert mails(kind="notify_slip") == []  # assisted members have no email: their coordinator sees it
    assert verify().ok


def test_notification_preferences(app, people, offer):
    fatima, jan, wilma = people["Fatima"], people["Jan"], people["Wilma"]
    notes.set_email_choice(fatima, "daily")
    notes.set_email_choice(wilma, "off")
    db.session.commit()
    with pytest.raises(notes.NotificationError):
        notes.set_email_choice(jan, "hourly")
    db.session.rollback()
    ex.propose(offer, jan, 60, actor=jan)
    db.session.commit()
    assert notified(fatima, "proposed") == 1 and mails(to=fatima.email) == []  # daily: not yet
    assert notes.queue_digests() == 1 and notes.queue_digests() == 0  # once, however often it runs
    digest = mails(to=fatima.email, kind="notifications_digest")
    assert len(digest) == 1 and "Jan stelt een ruil voor" in digest[0].body_text  # in her language
    assert notes.queue_digests(utcnow() + timedelta(days=1)) == 0  # nothing new since
    # Off: the notification is in the app, no email ever.
    transfers.give_hours(jan, wilma, 15, actor=jan)
    db.session.commit()
    assert notified(wilma, "gift") == 1 and mails(to=wilma.email) == []
    assert notes.queue_digests(utcnow() + timedelta(days=1)) == 0
    assert notes.unread_count(wilma) == 1 and notes.mark_read(wilma) == 1 and notes.unread_count(wilma) == 0


def test_a_paused_member_is_asked_for_nothing_and_given_nothing(people, offer):
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    members.suspend_member(fatima, actor=karim, reason="Asked for a break")
    db.session.commit()
    with pytest.raises(PostUnavailable):
        ex.propose(offer, jan, 60, actor=jan)
    db.session.rollback()
    with pytest.raises(ExchangeError, match="not an active member"):
        transfers.give_hours(jan, fatima, 30, "Thanks for the bike", actor=jan)
    db.session.rollback()
    assert count(Exchange) == 0 and count(Transaction) == 0
