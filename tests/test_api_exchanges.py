"""Exchanges through the API: from a proposal to settled hours, who may see and do what, bad input
and steps the state does not allow, retries that never settle twice, and the conversation."""

import pytest
import sqlalchemy as sa

from timebank.exchanges import services as exchanges
from timebank.exchanges.models import Exchange, Message
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.notifications.models import Notification

from .api import token_headers
from .conftest import count


@pytest.fixture
def wilma(app, make_member):
    """A neighbour of Fatima's with a token, so the callers' "other member" Jan stays out of it."""
    member = make_member("Wilma")
    return member, token_headers(app, member)


def propose(client, headers, post_id, minutes=90, **body):
    return client.post("/api/v1/exchanges", json={"post_id": post_id, "minutes": minutes, **body}, headers=headers)


def balances(app, *members) -> list[int]:
    with app.app_context():
        return [ledger.balance(ledger.account_for(db.session.get(Member, m.id))) for m in members]


def stored(app, exchange_id) -> tuple:
    with app.app_context():
        exchange = db.session.get(Exchange, exchange_id)
        return exchange.state, exchange.minutes, exchange.recorded_minutes, exchange.transaction_id


def test_from_proposal_to_settled_hours_and_retries_settle_once(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    offer = make_post(fatima.member, "Bike repair", minutes=90)
    proposed = propose(client, {**jan.headers, "Idempotency-Key": "propose-bike"}, offer.id, message="Saturday?")
    assert proposed.status_code == 201, proposed.json
    exchange = proposed.json
    assert {
        k: exchange[k]
        for k in (
            "state",
            "post_id",
            "provider_id",
            "receiver_id",
            "proposer_id",
            "minutes",
            "title",
            "transaction_id",
            "kind",
        )
    } == {
        "state": "proposed",
        "post_id": offer.id,
        "provider_id": fatima.member.id,
        "receiver_id": jan.member.id,
        "proposer_id": jan.member.id,
        "minutes": 90,
        "title": "Bike repair",
        "transaction_id": None,
        "kind": "single",
    }
    assert exchange["status"]["happened"] == "You proposed 1 hour 30 minutes to Fatima."
    assert exchange["status"]["next"].startswith("Fatima has until ") and not exchange["status"]["needs_you"]
    assert [(p["name"], p["role"]) for p in exchange["participants"]] == [("Fatima", "provider"), ("Jan", "receiver")]
    again = propose(client, jan.headers, offer.id)  # a second proposal on the same post: the open one
    assert again.status_code == 201 and again.json["id"] == exchange["id"]
    url = f"/api/v1/exchanges/{exchange['id']}"

    owner = client.get(url, headers=fatima.headers).json
    assert owner["status"]["needs_you"] is True and owner["status"]["next"].startswith("Please accept or decline by ")
    key = {**fatima.headers, "Idempotency-Key": "accept-bike"}
    accepted = client.post(f"{url}/accept", headers=key)
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    replay = client.post(f"{url}/accept", headers=key)
    assert replay.json == accepted.json and replay.headers["Idempotent-Replayed"] == "true"
    recorded = client.post(f"{url}/record", json={"minutes": 120}, headers=fatima.headers)
    assert recorded.status_code == 200
    # A third more than the agreed 90 minutes: it settles only when Jan confirms, never by silence.
    assert (recorded.json["recorded_minutes"], recorded.json["auto_confirm_at"]) == (120, None)

    key = {**jan.headers, "Idempotency-Key": "confirm-bike"}
    confirmed = client.post(f"{url}/confirm", headers=key)
    assert confirmed.status_code == 200, confirmed.json
    assert (confirmed.json["state"], confirmed.json["minutes"]) == ("completed", 120)
    assert confirmed.json["transaction_id"] is not None and confirmed.json["completed_at"].endswith("+00:00")
    retried = client.post(f"{url}/confirm", headers=key)
    assert retried.status_code == 200 and retried.json == confirmed.json
    twice = client.post(f"{url}/confirm", headers=jan.headers)
    assert twice.status_code == 409
    assert twice.json["error"] == {
        "code": "already_done",
        "fields": {},
        "message": "This was done already. Nothing more was changed.",
    }
    with app.app_context():
        assert count(Transaction) == 1
        assert db.session.scalar(sa.select(Transaction.id)) == confirmed.json["transaction_id"]
    assert balances(app, fatima.member, jan.member) == [120, -120]
    assert client.get("/api/v1/accounts/me", headers=jan.headers).json["balance_minutes"] == -120
    entries = client.get("/api/v1/accounts/me/entries", headers=fatima.headers).json["items"]
    assert [(e["transaction_id"], e["amount_minutes"], e["memo"]) for e in entries] == [
        (confirmed.json["transaction_id"], 120, "Bike repair")
    ]

    story = client.get(f"{url}/messages", headers=jan.headers).json
    assert story["total"] == 4
    assert [(m["event"], m["summary"], m["text"]) for m in story["items"]] == [
        ("proposed", "Jan proposed 1 hour 30 minutes.", "Saturday?"),
        ("accepted", "Fatima accepted.", ""),
        ("recorded", "Fatima recorded 2 hours.", ""),
        ("completed", "Jan confirmed: 2 hours moved.", ""),
    ]
    assert story["items"][0]["author"] == {"id": jan.member.id, "name": "Jan"}


def test_lists_hold_the_callers_exchanges_filtered_by_state(app, client, callers, make_post, wilma):
    fatima, jan = callers["member"], callers["other_member"]
    first = propose(client, jan.headers, make_post(fatima.member, "Soup").id).json
    second = propose(client, wilma[1], make_post(fatima.member, "Bread").id).json
    client.post(f"/api/v1/exchanges/{second['id']}/accept", headers=fatima.headers)

    def ids(role_headers, **query):
        response = client.get("/api/v1/exchanges", query_string=query, headers=role_headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(fatima.headers) == [second["id"], first["id"]]
    assert ids(fatima.headers, state="proposed") == [first["id"]]
    assert ids(fatima.headers, state="completed") == []
    assert ids(jan.headers) == [first["id"]]
    assert ids(callers["coordinator"].headers) == ids(callers["other_coordinator"].headers) == []
    page = client.get("/api/v1/exchanges?per_page=1&page=2", headers=fatima.headers).json
    assert (page["page"], page["pages"], page["total"], [e["id"] for e in page["items"]]) == (2, 2, 2, [first["id"]])
    refused = client.get("/api/v1/exchanges?state=done&colour=red", headers=fatima.headers)
    assert refused.status_code == 422 and set(refused.json["error"]["fields"]) == {"state", "colour"}
    assert client.get("/api/v1/exchanges", headers=callers["anonymous"].headers).status_code == 401


def test_who_sees_an_exchange_and_who_may_take_its_steps(app, client, callers, make_post, wilma):
    fatima = callers["member"]
    exchange = propose(client, wilma[1], make_post(fatima.member, "Soup").id).json
    url = f"/api/v1/exchanges/{exchange['id']}"
    seen = {role: client.get(url, headers=callers[role].headers).status_code for role in callers}
    assert seen == {"member": 200, "other_member": 404, "coordinator": 200, "other_coordinator": 404, "anonymous": 401}
    looking_on = client.get(url, headers=callers["coordinator"].headers).json["status"]
    assert looking_on["happened"] == "Fatima helps Wilma: 1 hour 30 minutes." and not looking_on["needs_you"]
    assert looking_on["next"].startswith("Fatima accepts or declines by ")
    for role, expected in [("other_member", 404), ("coordinator", 403), ("other_coordinator", 404), ("anonymous", 401)]:
        response = client.post(f"{url}/accept", headers=callers[role].headers)
        assert response.status_code == expected, role
    refused = client.post(f"{url}/accept", headers=callers["coordinator"].headers).json["error"]
    assert refused == {
        "code": "not_a_party",
        "fields": {},
        "message": "This is not your exchange, so you cannot do this.",
    }
    own = client.post(f"{url}/accept", headers=wilma[1])
    assert own.status_code == 403
    assert own.json["error"]["message"] == "You proposed this exchange, so the other person accepts or declines it."
    assert stored(app, exchange["id"])[0] == "proposed"
    assert client.get("/api/v1/exchanges/999999", headers=fatima.headers).status_code == 404

    client.post(f"{url}/accept", headers=fatima.headers)
    by_receiver = client.post(f"{url}/record", json={"minutes": 60}, headers=wilma[1])
    assert by_receiver.status_code == 403
    assert by_receiver.json["error"]["message"] == "The one who helped records the time. You confirm it."
    by_provider = client.post(f"{url}/confirm", headers=fatima.headers)
    assert by_provider.status_code == 403
    assert by_provider.json["error"]["message"] == ("The one who was helped confirms. You can record how long it took.")
    assert stored(app, exchange["id"]) == ("accepted", 90, None, None)
    with app.app_context():
        assert count(Transaction) == 0


def test_bad_proposals_say_why_and_change_nothing(app, client, callers, make_post, make_member):
    fatima, jan = callers["member"], callers["other_member"]
    offer = make_post(fatima.member, "Soup")
    gift = make_post(fatima.member, "Free stroller", is_gift=True, minutes=0)
    closed = make_post(fatima.member, "Old soup", status="closed")
    elsewhere = make_post(callers["other_coordinator"].member, "Soup in Noord")
    cases = [
        ({"minutes": 0}, 422, "minutes", "Please fill in how long it takes: more than 0 minutes."),
        (
            {"minutes": 481},
            422,
            "minutes",
            "One exchange can be at most 8 hours in this neighbourhood. For more, make several exchanges.",
        ),
        ({"minutes": "90"}, 422, "minutes", "Please give a whole number."),
        ({"minutes": 1.5}, 422, "minutes", "Please give a whole number."),
        ({"message": "x" * 2001}, 422, "message", "Please keep this under 2000 characters; it has 2001."),
        ({"message": "Hi\x00"}, 422, "message", "This text contains a character we cannot store. Please remove it."),
        ({"date": "2001-01-01"}, 422, "date", "Please choose a day within a year from today."),
        ({"date": "soon"}, 422, "date", "Please give a date in ISO 8601, e.g. 2026-05-01."),
        ({"post_id": 0}, 422, "post_id", None),
        ({"colour": "red"}, 422, "colour", "We do not know this field. Please check its name."),
        ({"post_id": gift.id}, 422, None, "This is a free gift: it costs no hours. Get in touch with Fatima instead."),
        ({"post_id": closed.id}, 409, None, "This post is no longer in the market, so you cannot respond to it."),
        ({"post_id": elsewhere.id}, 404, None, None),
        ({"post_id": 999999}, 404, None, None),
    ]
    for change, expected, field, message in cases:
        response = client.post(
            "/api/v1/exchanges", json={"post_id": offer.id, "minutes": 90, **change}, headers=jan.headers
        )
        assert response.status_code == expected, change
        assert list(response.json["error"]["fields"]) == ([field] if field else []), change
        if message:
            assert (response.json["error"]["fields"].get(field) or [response.json["error"]["message"]]) == [message]
    mine = propose(client, fatima.headers, offer.id)
    assert mine.status_code == 422
    assert mine.json["error"]["message"] == "This is your own post. Wait for a neighbour to respond to it."
    missing = client.post("/api/v1/exchanges", json={}, headers=jan.headers)
    assert set(missing.json["error"]["fields"]) == {"post_id", "minutes"}
    assert propose(client, callers["anonymous"].headers, offer.id).status_code == 401
    dutch = propose(client, {**jan.headers, "Accept-Language": "nl"}, offer.id, minutes=0)
    assert dutch.json["error"]["fields"]["minutes"] == ["Vul in hoe lang het duurt: meer dan 0 minuten."]
    with app.app_context():
        assert count(Exchange) == count(Notification) == 0
        assert db.session.get(Post, offer.id).status == "active"


def test_steps_the_state_does_not_allow_are_409_and_change_nothing(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    exchange = propose(client, jan.headers, make_post(fatima.member, "Soup").id).json
    url = f"/api/v1/exchanges/{exchange['id']}"
    early = client.post(f"{url}/record", json={"minutes": 60}, headers=fatima.headers)
    assert early.status_code == 409
    assert early.json["error"] == {
        "code": "illegal_transition",
        "fields": {},
        "message": "This cannot be done now: the exchange is waiting for an answer.",
    }
    assert client.post(f"{url}/dispute", json={"reason": "No"}, headers=jan.headers).status_code == 409
    assert client.post(f"{url}/confirm", headers=jan.headers).status_code == 409
    assert client.post(f"{url}/accept", headers=fatima.headers).status_code == 200
    assert client.post(f"{url}/accept", headers=fatima.headers).json["error"]["code"] == "already_done"

    for body, field in [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": 5}, "reason"),
    ]:
        refused = client.post(f"{url}/cancel", json=body, headers=jan.headers)
        assert refused.status_code == 422 and list(refused.json["error"]["fields"]) == [field], body
    assert client.post(f"{url}/record", json={"minutes": -5}, headers=fatima.headers).status_code == 422
    assert client.post(f"{url}/confirm", json={"minutes": 0}, headers=jan.headers).status_code == 422
    assert stored(app, exchange["id"]) == ("accepted", 90, None, None)

    cancelled = client.post(f"{url}/cancel", json={"reason": "Fell ill"}, headers=jan.headers)
    assert (cancelled.json["state"], cancelled.json["reason"]) == ("cancelled", "Fell ill")
    for step, body in [
        ("accept", None),
        ("decline", {}),
        ("dispute", {"reason": "x"}),
        ("confirm", {}),
        ("record", {"minutes": 60}),
    ]:
        assert client.post(f"{url}/{step}", json=body, headers=fatima.headers).status_code in (403, 409), step
    assert (
        client.post(f"{url}/cancel", json={"reason": "again"}, headers=fatima.headers).json["error"]["code"]
        == "already_done"
    )
    with app.app_context():
        assert count(Transaction) == 0


def test_decline_and_dispute(app, client, callers, make_post, wilma):
    fatima, jan, karim = callers["member"], callers["other_member"], callers["coordinator"]
    declined = propose(client, jan.headers, make_post(fatima.member, "Soup").id).json
    answer = client.post(
        f"/api/v1/exchanges/{declined['id']}/decline", json={"reason": "Away that week"}, headers=fatima.headers
    )
    assert (answer.json["state"], answer.json["reason"]) == ("declined", "Away that week")
    plain = propose(client, wilma[1], make_post(fatima.member, "Bread").id).json
    assert client.post(f"/api/v1/exchanges/{plain['id']}/decline", headers=fatima.headers).json["state"] == "declined"

    exchange = propose(client, jan.headers, make_post(fatima.member, "Bike").id).json
    url = f"/api/v1/exchanges/{exchange['id']}"
    client.post(f"{url}/accept", headers=fatima.headers)
    client.post(f"{url}/record", json={"minutes": 180}, headers=fatima.headers)
    disputed = client.post(f"{url}/dispute", json={"reason": "It took one hour."}, headers=jan.headers)
    assert disputed.status_code == 200
    assert (disputed.json["state"], disputed.json["auto_confirm_at"]) == ("disputed", None)
    assert client.post(f"{url}/confirm", headers=jan.headers).status_code == 409
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Notification.kind).where(Notification.member_id == karim.member.id))
            == "disputed"
        )
        assert count(Transaction) == 0


def test_the_conversation(app, client, callers, make_post, wilma):
    fatima, karim = callers["member"], callers["coordinator"]
    exchange = propose(client, wilma[1], make_post(fatima.member, "Soup").id, message="Hello").json
    url = f"/api/v1/exchanges/{exchange['id']}/messages"
    written = client.post(url, json={"text": "  Ten o'clock? "}, headers=fatima.headers)
    assert written.status_code == 201
    assert {k: written.json[k] for k in ("author", "event", "summary", "text")} == {
        "author": {"id": fatima.member.id, "name": "Fatima"},
        "event": None,
        "summary": None,
        "text": "Ten o'clock?",
    }
    read = {role: client.get(url, headers=callers[role].headers).status_code for role in callers}
    assert read == {"member": 200, "other_member": 404, "coordinator": 403, "other_coordinator": 404, "anonymous": 401}
    assert (
        client.get(url, headers=karim.headers)
        .json["error"]["message"]
        .startswith("The conversation is for the members in this exchange.")
    )
    for role, expected in [("other_member", 404), ("coordinator", 403), ("other_coordinator", 404), ("anonymous", 401)]:
        assert client.post(url, json={"text": "Hi"}, headers=callers[role].headers).status_code == expected, role
    for body, field in [({}, "text"), ({"text": "  "}, "text"), ({"text": "x" * 2001}, "text"), ({"text": 1}, "text")]:
        refused = client.post(url, json=body, headers=wilma[1])
        assert refused.status_code == 422 and list(refused.json["error"]["fields"]) == [field], body
    thread = client.get(f"{url}?per_page=1&page=2", headers=wilma[1]).json
    assert (thread["total"], thread["pages"], [m["text"] for m in thread["items"]]) == (2, 2, ["Ten o'clock?"])
    with app.app_context():
        assert count(Message) == 2
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Notification.id)).where(
                    Notification.member_id == wilma[0].id, Notification.kind == "message"
                )
            )
            == 1
        )

    exchange_url = f"/api/v1/exchanges/{exchange['id']}"
    client.post(f"{exchange_url}/accept", headers=fatima.headers)
    client.post(f"{exchange_url}/dispute", json={"reason": "We disagree"}, headers=wilma[1])
    assert client.get(url, headers=karim.headers).status_code == 200  # asked to decide, the coordinator reads it
    assert client.post(url, json={"text": "I will call you both."}, headers=karim.headers).status_code == 201


def test_a_balance_limit_refuses_the_confirm_and_nothing_moves(app, client, callers, make_post, wilma):
    fatima, jan = callers["member"], callers["other_member"]
    exchange = propose(client, jan.headers, make_post(fatima.member, "Soup").id, minutes=60).json
    url = f"/api/v1/exchanges/{exchange['id']}"
    client.post(f"{url}/accept", headers=fatima.headers)
    with app.app_context():  # Jan's balance falls after the acceptance (before, both would be refused)
        ledger.transfer(
            ledger.account_for(db.session.get(Member, jan.member.id)),
            ledger.account_for(db.session.get(Member, wilma[0].id)),
            570,
            kind="gift",
            actor=None,
        )
        db.session.commit()
    refused = client.post(f"{url}/confirm", headers=jan.headers)
    assert refused.status_code == 409
    assert refused.json["error"] == {
        "code": "limit_exceeded",
        "fields": {},
        "message": "This is not possible: the balance of Jan may not go below −10 hours. It is −9 hours 30 "
        "minutes now, so at most 30 minutes can still be paid.",
    }
    dutch = client.post(f"{url}/confirm", headers={**jan.headers, "Accept-Language": "nl"})
    assert "30 minuten" in dutch.json["error"]["message"]
    assert stored(app, exchange["id"]) == ("accepted", 60, None, None)
    fits = client.post(f"{url}/confirm", json={"minutes": 30}, headers=jan.headers)
    assert (fits.status_code, fits.json["minutes"]) == (200, 30)
    assert balances(app, fatima.member, jan.member) == [30, -600]


def test_a_provider_agrees_to_fewer_minutes_through_the_api(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    offer = make_post(fatima.member, "Bike repair", minutes=90)
    url = f"/api/v1/exchanges/{propose(client, jan.headers, offer.id).json['id']}"
    client.post(f"{url}/accept", headers=fatima.headers)
    client.post(f"{url}/record", json={"minutes": 90}, headers=fatima.headers)
    offered = client.post(f"{url}/confirm", json={"minutes": 60}, headers=jan.headers)
    assert (offered.json["state"], offered.json["offered_minutes"]) == ("accepted", 60)
    assert client.post(f"{url}/agree", headers=jan.headers).status_code == 403
    agreed = client.post(f"{url}/agree", headers=fatima.headers)
    assert (agreed.json["state"], agreed.json["minutes"]) == ("completed", 60)
    assert balances(app, fatima.member, jan.member) == [60, -60]


def test_a_coordinator_looking_on_a_finished_group_exchange_is_not_asked_to_thank_anyone(app, client, callers, wilma):
    fatima, jan = (callers[role].member for role in ("member", "other_member"))
    with app.app_context():
        organiser, pupils = db.session.get(Member, fatima.id), [db.session.get(Member, m.id) for m in (jan, wilma[0])]
        lesson = exchanges.create_group(organiser, "provider", "Bread baking", 60, pupils, actor=organiser)
        for pupil in pupils:
            exchanges.confirm(lesson, actor=pupil)
        db.session.commit()
        url = f"/api/v1/exchanges/{lesson.id}"
    told = {
        role: client.get(url, headers=callers[role].headers).json["status"] for role in ("other_member", "coordinator")
    }
    assert told["other_member"]["next"] == "You can thank the others with a short note."
    assert told["coordinator"]["next"] == "Nothing more to do."
    assert told["coordinator"]["happened"] == told["other_member"]["happened"]
