"""Giving hours through the API: to a neighbour or the community fund, once however often it is
sent, refused with the limit and the room left, and nothing moved on bad input."""

import sqlalchemy as sa

from timebank.api.models import IdempotencyRecord
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transaction
from timebank.members.models import Member
from timebank.notifications.models import Notification

from .conftest import count


def balance(app, member) -> int:
    with app.app_context():
        return ledger.balance(ledger.account_for(db.session.get(Member, member.id)))


def fund(app, community_id) -> int:
    with app.app_context():
        return ledger.balance(ledger.fund_account(community_id))


def test_hours_go_to_a_neighbour_once_however_often_it_is_sent(app, client, callers):
    fatima, jan = callers["member"], callers["other_member"]
    body = {"to_member_id": jan.member.id, "minutes": 30, "memo": "Thank you for the soup!"}
    headers = {**fatima.headers, "Idempotency-Key": "thanks-soup"}
    given = client.post("/api/v1/transfers", json=body, headers=headers)
    assert given.status_code == 201, given.json
    again = client.post("/api/v1/transfers", json=body, headers=headers)
    assert again.status_code == 201 and again.json == given.json and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/transfers", json={**body, "minutes": 60}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        transaction = db.session.get(Transaction, given.json["transaction_id"])
        assert (transaction.kind, transaction.memo, count(Transaction)) == ("gift", "Thank you for the soup!", 1)
        assert db.session.scalar(sa.select(Notification.kind).where(Notification.member_id == jan.member.id)) == "gift"
    assert given.json == {"transaction_id": transaction.id}
    with app.app_context():  # even once the stored answer is gone, the ledger knows the key
        db.session.execute(sa.delete(IdempotencyRecord))
        db.session.commit()
    late = client.post("/api/v1/transfers", json=body, headers=headers)
    assert late.status_code == 201 and late.json == given.json and "Idempotent-Replayed" not in late.headers
    assert (balance(app, fatima.member), balance(app, jan.member)) == (-30, 30)
    entries = client.get("/api/v1/accounts/me/entries", headers=jan.headers).json["items"]
    assert [(e["transaction_id"], e["kind"], e["amount_minutes"]) for e in entries] == [(transaction.id, "gift", 30)]

    # Without a key every call is a new gift; the same key from another member is theirs alone.
    assert client.post("/api/v1/transfers", json=body, headers=fatima.headers).status_code == 201
    karims = client.post(
        "/api/v1/transfers",
        json={**body, "memo": ""},
        headers={**callers["coordinator"].headers, "Idempotency-Key": "thanks-soup"},
    )
    assert karims.status_code == 201 and karims.json["transaction_id"] != transaction.id
    assert balance(app, jan.member) == 90


def test_a_donation_to_the_community_fund(app, client, callers):
    fatima = callers["member"]
    donated = client.post(
        "/api/v1/transfers",
        json={"to": "community-fund", "minutes": 45, "memo": "For the fund"},
        headers=fatima.headers,
    )
    assert donated.status_code == 201
    with app.app_context():
        assert db.session.get(Transaction, donated.json["transaction_id"]).kind == "donation"
    assert (balance(app, fatima.member), fund(app, fatima.member.community_id)) == (-45, 45)
    noord = client.post(
        "/api/v1/transfers", json={"to": "community-fund", "minutes": 15}, headers=callers["other_coordinator"].headers
    )
    assert noord.status_code == 201
    assert fund(app, callers["other_coordinator"].member.community_id) == 15
    assert fund(app, fatima.member.community_id) == 45


def test_bad_transfers_name_the_field_and_move_nothing(app, client, callers, make_member):
    fatima, jan = callers["member"], callers["other_member"]
    away = make_member("Piet", status="suspended")
    good = {"to_member_id": jan.member.id, "minutes": 30}
    nobody = "There is no member with this number in your neighbourhood."
    cases = [
        (
            {"minutes": 0},
            "minutes",
            "The amount must be a whole number of minutes above zero, and not more than 10,000 hours.",
        ),
        ({"minutes": 600_001}, "minutes", None),
        ({"minutes": "30"}, "minutes", "Please give a whole number."),
        ({"memo": "x" * 501}, "memo", "Please keep this under 500 characters; it has 501."),
        ({"memo": "Hi\x00"}, "memo", "This text contains a character we cannot store. Please remove it."),
        ({"to_member_id": fatima.member.id}, "to_member_id", "You cannot give hours to yourself."),
        ({"to_member_id": callers["other_coordinator"].member.id}, "to_member_id", nobody),
        ({"to_member_id": away.id}, "to_member_id", nobody),
        ({"to_member_id": 999999}, "to_member_id", nobody),
        (
            {"to": "community-fund"},
            "to_member_id",
            'Please give one of to_member_id (a neighbour) or to: "community-fund".',
        ),
        ({"to_member_id": None}, "to_member_id", "This may not be empty (null)."),
        ({"to": "fund"}, "to", "Please choose one of: community-fund."),
        ({"colour": "red"}, "colour", "We do not know this field. Please check its name."),
    ]
    for change, field, message in cases:
        response = client.post("/api/v1/transfers", json={**good, **change}, headers=fatima.headers)
        assert response.status_code == 422, change
        assert list(response.json["error"]["fields"]) == [field], change
        if message:
            assert response.json["error"]["fields"][field] == [message], change
    neither = client.post("/api/v1/transfers", json={"minutes": 30}, headers=fatima.headers)
    assert list(neither.json["error"]["fields"]) == ["to_member_id"]
    dutch = client.post(
        "/api/v1/transfers", json={**good, "to_member_id": 999999}, headers={**fatima.headers, "Accept-Language": "nl"}
    )
    assert dutch.json["error"]["fields"]["to_member_id"] == ["Er is geen lid met dit nummer in je buurt."]
    assert client.post("/api/v1/transfers", json=good, headers=callers["anonymous"].headers).status_code == 401
    with app.app_context():
        assert count(Transaction) == count(Notification) == count(Account) == 0


def test_a_balance_limit_says_the_limit_and_the_room_left(app, client, callers):
    fatima, jan = callers["member"], callers["other_member"]
    give = {"to_member_id": jan.member.id, "minutes": 660}
    refused = client.post("/api/v1/transfers", json=give, headers=fatima.headers)
    assert refused.status_code == 409
    assert refused.json["error"] == {
        "code": "limit_exceeded",
        "fields": {},
        "message": "This is not possible: the balance of Fatima may not go below −10 hours. It is 0 minutes now, "
        "so at most 10 hours can still be paid.",
    }
    dutch = client.post("/api/v1/transfers", json=give, headers={**fatima.headers, "Accept-Language": "nl"})
    assert dutch.status_code == 409 and "10 uur" in dutch.json["error"]["message"]
    with app.app_context():
        ledger.account_for(db.session.get(Member, jan.member.id)).ceiling_override = 20
        db.session.commit()
    full = client.post("/api/v1/transfers", json={**give, "minutes": 30}, headers=fatima.headers)
    assert full.status_code == 409
    assert full.json["error"]["message"] == (
        "This is not possible: the balance of Jan may not go above 20 minutes. "
        "It is 0 minutes now, so at most 20 minutes can still be received."
    )
    with app.app_context():
        assert count(Transaction) == 0
    assert client.post("/api/v1/transfers", json={**give, "minutes": 20}, headers=fatima.headers).status_code == 201
