"""Exchange rules that residents and coordinators rely on and nothing else checks: the community's
exchange settings, the day on a proposal, a notification for every event, the "what happened /
what happens next" sentences, the provider's ceiling, and a coordinator's limit override."""

from collections import Counter
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import current_app

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.exchanges import services as ex
from timebank.exchanges.errors import NotAllowed
from timebank.exchanges.models import Exchange
from timebank.exchanges.wording import status
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.members.models import Member
from timebank.notifications import services as notes
from timebank.notifications.models import Notification

from .conftest import count, login, mails
from .test_exchanges_services import balance, snapshot
from .test_exchanges_web import EN, as_member, text

NL = {"Accept-Language": "nl"}


def settings(slug="buurt") -> tuple[int, int]:
    community = db.session.scalar(sa.select(Community).where(Community.slug == slug))
    return community.exchange_auto_confirm_days, community.exchange_max_minutes


def fresh(model, obj):
    """`obj` (made outside this context) as a row of this context's session."""
    return db.session.get(model, obj.id)


# The community's exchange settings ----------------------------------------------------------------


def test_a_coordinator_sets_the_days_and_the_maximum(app, client, neighbours):
    login(client, neighbours["Karim"])
    page = text(client.get("/exchanges/coordinate", headers=EN))
    assert 'name="auto_confirm_days" type="text" value="14"' in page
    assert 'name="max_hours" type="text" value="8"' in page
    response = client.post(
        "/exchanges/coordinate",
        headers=EN,
        data={"auto_confirm_days": "3", "max_hours": "2", "silence_margin_percent": "10"},
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"], headers=EN))
    assert "Saved. Exchanges that are under way keep their date." in page
    assert 'value="3"' in page and 'name="max_hours" type="text" value="2"' in page
    assert 'name="silence_margin_percent" type="text" value="10"' in page
    with app.app_context():
        assert settings() == (3, 120)
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exchange.settings_changed"))
        assert event.actor_id == neighbours["Karim"].id
        assert (event.details["before"], event.details["after"]) == ([14, 480, 25], [3, 120, 10])


@pytest.mark.parametrize(
    "data, words",
    [
        ({"auto_confirm_days": "0", "max_hours": "8"}, "Please choose between 1 and 60."),
        ({"auto_confirm_days": "61", "max_hours": "8"}, "Please choose between 1 and 60."),
        ({"auto_confirm_days": "", "max_hours": "8"}, "Please choose between 1 and 60."),
        ({"auto_confirm_days": "two", "max_hours": "8"}, "Please fill in a whole number"),
        ({"auto_confirm_days": "14", "max_hours": "0"}, "Please choose between 1 hour and 24 hours."),
        ({"auto_confirm_days": "14", "max_hours": "25"}, "Please choose between 1 hour and 24 hours."),
        ({"auto_confirm_days": "14", "max_hours": ""}, "Please choose between 1 hour and 24 hours."),
        (
            {"auto_confirm_days": "14", "max_hours": "8", "silence_margin_percent": "101"},
            "Please choose between 0 and 100.",
        ),
        (
            {"auto_confirm_days": "14", "max_hours": "8", "silence_margin_percent": ""},
            "Please choose between 0 and 100.",
        ),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(app, client, neighbours, data, words):
    login(client, neighbours["Karim"])
    response = client.post("/exchanges/coordinate", data=data, headers=EN)
    assert response.status_code == 422 and words in text(response)
    with app.app_context():
        assert settings() == (14, 480) and count(AuditEvent) == 0


def test_bad_settings_are_explained_in_the_readers_language(app, client, neighbours):
    login(client, neighbours["Karim"])
    response = client.post("/exchanges/coordinate", data={"auto_confirm_days": "61", "max_hours": "8"}, headers=NL)
    assert response.status_code == 422 and "Kies tussen 1 en 60." in text(response)
    response = client.post("/exchanges/coordinate", data={"auto_confirm_days": "7", "max_hours": "30"}, headers=NL)
    assert response.status_code == 422 and "Kies tussen 1 uur en 24 uur." in text(response)
    with app.app_context():
        assert settings() == (14, 480)


def test_only_this_neighbourhoods_coordinators_change_its_settings(
    app, client, neighbours, make_community, make_member
):
    noord = make_community("noord", "Noord")
    olga = make_member("Olga", role="coordinator", community_id=noord.id)
    new = {"auto_confirm_days": "3", "max_hours": "2", "silence_margin_percent": "25"}
    login(client, neighbours["Jan"])
    assert client.get("/exchanges/coordinate").status_code == 403
    assert client.post("/exchanges/coordinate", data=new).status_code == 403
    # Olga's page is about her own neighbourhood: saving it leaves this one alone.
    as_member(client, olga)
    assert client.post("/exchanges/coordinate", data=new).status_code == 302
    with app.app_context(), pytest.raises(NotAllowed):
        ex.set_exchange_settings(
            db.session.scalar(sa.select(Community).where(Community.slug == "buurt")),
            auto_confirm_days=1,
            max_minutes=60,
            silence_margin_percent=25,
            actor=fresh(Member, olga),
        )
    with app.app_context():
        assert settings("noord") == (3, 120) and settings("buurt") == (14, 480)


def test_new_settings_apply_to_new_proposals_and_recorded_time(app, client, neighbours):
    fatima, jan, wilma, offer = (neighbours[k] for k in ("Fatima", "Jan", "Wilma", "offer"))
    with app.app_context():
        under_way = ex.propose(fresh(type(offer), offer), fresh(Member, wilma), 60, actor=fresh(Member, wilma))
        ex.accept(under_way, actor=fresh(Member, fatima))
        ex.record_minutes(under_way, 60, actor=fresh(Member, fatima))
        db.session.commit()
        under_way_id, under_way_due = under_way.id, under_way.auto_confirm_at
    login(client, neighbours["Karim"])
    client.post(
        "/exchanges/coordinate", data={"auto_confirm_days": "3", "max_hours": "1", "silence_margin_percent": "25"}
    )

    as_member(client, jan)
    refused = client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1", "minutes": "30"}, headers=EN)
    assert refused.status_code == 422 and "One exchange can be at most 1 hour in this neighbourhood." in text(refused)
    assert client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1"}).status_code == 302
    with app.app_context():
        exchange = db.session.scalar(sa.select(Exchange).where(Exchange.proposer_id == jan.id))
        assert exchange.minutes == 60
        ex.accept(exchange, actor=fresh(Member, fatima))
        ex.record_minutes(exchange, 60, actor=fresh(Member, fatima))
        db.session.commit()
        assert timedelta(days=2, hours=23) < exchange.auto_confirm_at - utcnow() <= timedelta(days=3)
        assert db.session.get(Exchange, under_way_id).auto_confirm_at == under_way_due  # keeps its date
        assert ex.due_for_auto_confirm(utcnow() + timedelta(days=3, minutes=1)) == [exchange.id]


# The day on a proposal ----------------------------------------------------------------------------


def test_a_proposal_carries_a_day_that_both_see(app, client, neighbours):
    fatima, jan, offer = neighbours["Fatima"], neighbours["Jan"], neighbours["offer"]
    today = utcnow().date()
    login(client, jan)
    for day in (today + timedelta(days=367), today - timedelta(days=367)):
        refused = client.post(
            f"/exchanges/respond/{offer.id}", data={"hours": "1", "date": day.isoformat()}, headers=EN
        )
        assert refused.status_code == 422 and "Please choose a day within a year from today." in text(refused)
    refused = client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1", "date": "next friday"}, headers=NL)
    assert refused.status_code == 422 and "Ongeldige datum." in text(refused)
    with app.app_context():
        assert count(Exchange) == 0

    day = today + timedelta(days=10)
    response = client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1", "date": day.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Exchange.planned_on)) == day
    shown = f"Day</dt><dd>{format_date(day, 'long', locale='en_NL')}</dd>"
    assert shown in client.get(response.headers["Location"], headers=EN).text
    as_member(client, fatima)
    assert shown in client.get(response.headers["Location"], headers=EN).text


# A notification for every event --------------------------------------------------------------------


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("choice", ["immediately", "daily", "off"])
def test_every_event_tells_the_right_members_as_they_chose(neighbours, make_post, choice):
    fatima, jan, wilma, karim, offer = (neighbours[k] for k in ("Fatima", "Jan", "Wilma", "Karim", "offer"))
    for member in (fatima, jan, wilma, karim):
        member.locale = "en"
        notes.set_email_choice(member, choice)
    db.session.scalar(sa.select(Community)).ledger_warning = -60
    # Jan has his bike repaired and pays 1 hour 30, which takes him below the warning.
    repair = ex.propose(offer, jan, 90, actor=jan)
    ex.accept(repair, actor=fatima)
    ex.record_minutes(repair, 90, actor=fatima)
    ex.confirm(repair, actor=jan)
    # Wilma calls off Jan's sewing lesson; Fatima and Wilma disagree about another repair.
    sewing = ex.propose(make_post(wilma, title="Sewing lesson", minutes=60), jan, 60, actor=jan)
    ex.cancel(sewing, "I am ill", actor=wilma)
    quarrel = ex.propose(offer, wilma, 60, actor=wilma)
    ex.accept(quarrel, actor=fatima)
    ex.dispute(quarrel, "She never came", actor=wilma)
    db.session.commit()

    expected = Counter(
        {
            (fatima.id, "proposed"): 2,
            (fatima.id, "completed"): 1,
            (fatima.id, "disputed"): 1,
            (jan.id, "accepted"): 1,
            (jan.id, "recorded"): 1,
            (jan.id, "limit"): 1,
            (jan.id, "cancelled"): 1,
            (wilma.id, "proposed"): 1,
            (wilma.id, "accepted"): 1,
            (karim.id, "disputed"): 1,
        }
    )
    found = db.session.scalars(sa.select(Notification)).all()
    assert Counter((n.member_id, n.kind) for n in found) == expected
    # Each one names who did it (the limit warning is about one's own balance).
    assert all(n.actor_id is not None and n.actor_id != n.member_id for n in found if n.kind != "limit")
    assert notes.describe(next(n for n in found if n.kind == "limit")).startswith("Your balance is low now: −1 hour 30")

    emails = {member.id: member.email for member in (fatima, jan, wilma, karim)}
    if choice == "immediately":
        assert Counter((emails[n.member_id], f"notify_{n.kind}") for n in found) == Counter(
            (m.to_address, m.kind) for m in mails()
        )
        assert "Wilma cancelled “Sewing lesson”." in mails(to=jan.email, kind="notify_cancelled")[0].body_text
        assert notes.queue_digests() == 0
    elif choice == "daily":
        assert mails() == []
        assert notes.queue_digests() == 4
        for member in (fatima, jan, wilma, karim):
            [digest] = mails(to=member.email)
            assert digest.kind == "notifications_digest"
            assert all(notes.describe(n) in digest.body_text for n in found if n.member_id == member.id)
    else:
        assert notes.queue_digests() == 0 and mails() == []


# What happened and what happens next ----------------------------------------------------------------


def make_in_state(state, fatima, jan, offer) -> Exchange:
    """Jan asks Fatima to repair his bike and the exchange goes as far as `state`."""
    exchange = ex.propose(offer, jan, 60, actor=jan)
    if state == "declined":
        ex.decline(exchange, actor=fatima, reason="Away that week")
    elif state == "cancelled":
        ex.cancel(exchange, "Found help elsewhere", actor=jan)
    elif state != "proposed":
        ex.accept(exchange, actor=fatima)
    if state in ("recorded", "completed", "limit_blocked"):
        ex.record_minutes(exchange, 60, actor=fatima)
    if state == "completed":
        ex.confirm(exchange, actor=jan)
    elif state == "disputed":
        ex.dispute(exchange, "He was not home", actor=fatima)
    elif state == "limit_blocked":
        db.session.scalar(sa.select(Community)).ledger_floor = -30
        assert ex.auto_confirm(exchange, utcnow() + timedelta(days=15)) == "refused"
    db.session.commit()
    return exchange


IN_15_DAYS = "__date__"
IN_7_DAYS = "__answer_by__"
NEXT = {  # (state, reader): (what happens next, whether the reader is the one to act)
    ("proposed", "provider"): (
        f"Please accept or decline by {IN_7_DAYS}. Jan waits for your answer; after that day the proposal ends.",
        True,
    ),
    ("proposed", "receiver"): (
        f"Fatima has until {IN_7_DAYS} to accept or decline. You get a message when they answer, or when nobody did.",
        False,
    ),
    ("proposed", "coordinator"): (f"Fatima accepts or declines by {IN_7_DAYS}.", False),
    ("accepted", "provider"): (
        "Help Jan as agreed. Afterwards, record how long it took: Jan then confirms, and you receive the hours.",
        True,
    ),
    ("accepted", "receiver"): (
        "When Fatima has helped you, confirm the time here. Then the hours go from your balance to Fatima.",
        True,
    ),
    ("accepted", "coordinator"): ("Fatima records how long it took, or Jan confirms the time.", False),
    ("recorded", "provider"): (
        f"Jan confirms the time. If Jan does nothing, the hours move by themselves on {IN_15_DAYS}.",
        False,
    ),
    ("recorded", "receiver"): (
        f"Please confirm, or change the time if it is not right. If you do nothing, the "
        f"hours move by themselves on {IN_15_DAYS}.",
        True,
    ),
    ("recorded", "coordinator"): (
        f"Jan confirms the time. If Jan does nothing, the hours move by themselves on {IN_15_DAYS}.",
        False,
    ),
    ("completed", "provider"): ("You can thank Jan with a short note. It shows on their profile.", False),
    ("completed", "receiver"): ("You can thank Fatima with a short note. It shows on their profile.", False),
    ("completed", "coordinator"): ("Nothing more to do.", False),
    ("declined", "provider"): ("No hours moved. Nothing more to do.", False),
    ("declined", "receiver"): ("No hours moved. Nothing more to do.", False),
    ("declined", "coordinator"): ("No hours moved. Nothing more to do.", False),
    ("cancelled", "provider"): ("No hours moved. Nothing more to do.", False),
    ("cancelled", "receiver"): ("No hours moved. Nothing more to do.", False),
    ("cancelled", "coordinator"): ("No hours moved. Nothing more to do.", False),
    ("disputed", "provider"): (
        "A coordinator looks at it and decides: the hours move, or the exchange is "
        "cancelled. You both get a message. Until then no hours move.",
        False,
    ),
    ("disputed", "receiver"): (
        "A coordinator looks at it and decides: the hours move, or the exchange is "
        "cancelled. You both get a message. Until then no hours move.",
        False,
    ),
    ("disputed", "coordinator"): ("Please decide: settle it with the time you think is right, or cancel it.", True),
    ("limit_blocked", "provider"): (
        "Jan confirms the time. It could not settle by itself, because a balance limit "
        "was in the way. A coordinator can help.",
        False,
    ),
    ("limit_blocked", "receiver"): (
        "Please confirm, or change the time if it is not right. It could not settle by "
        "itself, because a balance limit was in the way. A coordinator can help.",
        True,
    ),
    ("limit_blocked", "coordinator"): (
        "Jan confirms the time. It could not settle by itself, because a balance "
        "limit was in the way. A coordinator can help.",
        False,
    ),
}


def local_day(moment) -> str:
    """The day as the page says it: on the neighbourhood's clocks (between 23:00 and midnight UTC
    it is the next day in Amsterdam), English in a Dutch neighbourhood, the day first (LOCALE_REGION)."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return format_date(moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone), "long", locale="en_NL")


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("state", sorted({state for state, _reader in NEXT}))
def test_each_reader_is_told_what_happens_next_and_who_acts(neighbours, state):
    fatima, jan = neighbours["Fatima"], neighbours["Jan"]
    exchange = make_in_state(state, fatima, jan, neighbours["offer"])
    day, answer_by = local_day(exchange.auto_confirm_at), local_day(exchange.answer_by)
    for reader, member in (("provider", fatima), ("receiver", jan), ("coordinator", None)):
        said = status(exchange, member)
        sentence, needs_you = NEXT[state, reader]
        expected = sentence.replace(IN_15_DAYS, day).replace(IN_7_DAYS, answer_by)
        assert (said.next, said.needs_you) == (expected, needs_you), reader
        assert said.happened


# Balance limits -----------------------------------------------------------------------------------


def test_the_providers_ceiling_refuses_a_confirmation_plainly(app, client, neighbours):
    fatima, jan, offer = neighbours["Fatima"], neighbours["Jan"], neighbours["offer"]
    with app.app_context():
        db.session.scalar(sa.select(Community)).ledger_ceiling = 60
        exchange = ex.propose(fresh(type(offer), offer), fresh(Member, jan), 60, actor=fresh(Member, jan))
        ex.accept(exchange, actor=fresh(Member, fatima))
        ledger.transfer(
            ledger.account_for(fresh(Member, neighbours["Wilma"])),
            ledger.account_for(fresh(Member, fatima)),
            30,
            kind="gift",
            actor=None,
        )
        db.session.commit()
        exchange_id, before = exchange.id, snapshot(exchange)
    login(client, jan)
    refused = client.post(f"/exchanges/{exchange_id}/confirm", data={"hours": "1"}, headers=EN)
    assert refused.status_code == 409
    page = text(refused)
    assert (
        "This is not possible: the balance of Fatima may not go above 1 hour. It is 30 minutes now, so at most "
        "30 minutes can still be received."
    ) in page
    assert "Nothing is lost: the exchange is still open." in page
    assert "Confirm fewer minutes: at most 30 minutes fits now." in page
    assert "Ask a coordinator: Fatima can give hours to the community fund, or a coordinator can decide." in page
    with app.app_context():
        exchange = db.session.get(Exchange, exchange_id)
        assert snapshot(exchange) == before and exchange.state == "accepted"
        assert (balance(fresh(Member, fatima)), balance(fresh(Member, jan))) == (30, 0)
        assert not db.session.scalar(sa.select(Notification.id).where(Notification.kind == "completed"))


def test_a_coordinator_lets_a_confirmation_past_a_limit_with_a_written_reason(app, client, neighbours, make_member):
    karim, offer = neighbours["Karim"], neighbours["offer"]
    piet = make_member("Piet", email=None, assisted=True)
    with app.app_context():
        exchange = ex.propose(fresh(type(offer), offer), fresh(Member, piet), 60, actor=fresh(Member, karim))
        ex.accept(exchange, actor=fresh(Member, neighbours["Fatima"]))
        ledger.transfer(
            ledger.account_for(fresh(Member, piet)),
            ledger.account_for(fresh(Member, neighbours["Wilma"])),
            570,
            kind="gift",
            actor=None,
        )
        db.session.commit()
        exchange_id = exchange.id
    login(client, karim)
    client.post(f"/coordinate/members/{piet.id}/act")
    url = f"/exchanges/{exchange_id}/confirm"
    refused = client.post(url, data={"hours": "1"}, headers=EN)
    assert refused.status_code == 409 and "Let it go past the limit this once, because…" in text(refused)
    # Without a written reason the limit holds.
    refused = client.post(url, data={"hours": "1", "override_reason": "   "}, headers=EN)
    assert refused.status_code == 409 and "may not go below −10 hours" in text(refused)
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "accepted" and count(Transaction) == 1
        assert not db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "ledger.limit_override"))

    response = client.post(url, data={"hours": "1", "override_reason": "Piet is in hospital this month"}, headers=EN)
    assert response.status_code == 302
    assert "Confirmed: 1 hour went from your balance to Fatima." in text(
        client.get(response.headers["Location"], headers=EN)
    )
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "completed" and count(Transaction) == 2
        assert balance(fresh(Member, piet)) == -630
        override = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.limit_override"))
        assert (override.actor_id, override.on_behalf_of_id) == (karim.id, piet.id)
        assert override.reason == "Piet is in hospital this month"
