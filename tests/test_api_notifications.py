"""Notifications through the API: each caller reads their own, in their language, newest first,
and marks them as read."""

import sqlalchemy as sa

from timebank.extensions import db
from timebank.notifications.models import Notification


def unread(app, member) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.member_id == member.id, Notification.read_at.is_(None)
            )
        )


def test_each_caller_reads_their_own_notifications(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    offer = make_post(fatima.member, "Bike repair", minutes=90)
    exchange = client.post("/api/v1/exchanges", json={"post_id": offer.id, "minutes": 90}, headers=jan.headers).json
    client.post(f"/api/v1/exchanges/{exchange['id']}/messages", json={"text": "Saturday?"}, headers=jan.headers)
    client.post("/api/v1/transfers", json={"to_member_id": fatima.member.id, "minutes": 15}, headers=jan.headers)

    listed = client.get("/api/v1/notifications", headers=fatima.headers)
    assert listed.status_code == 200
    assert (listed.json["total"], listed.json["pages"]) == (3, 1)
    assert [(n["kind"], n["text"], n["exchange_id"], n["read_at"]) for n in listed.json["items"]] == [
        ("gift", "Jan gave you 15 minutes.", None, None),
        ("message", "Jan wrote about “Bike repair”.", exchange["id"], None),
        (
            "proposed",
            "Jan proposes an exchange: “Bike repair”, 1 hour 30 minutes. Please accept or decline.",
            exchange["id"],
            None,
        ),
    ]
    newest, _message, proposed = listed.json["items"]
    assert proposed["web_url"] == f"http://localhost/exchanges/{exchange['id']}"
    assert newest["web_url"] == "http://localhost/account" and newest["created_at"].endswith("+00:00")
    dutch = client.get("/api/v1/notifications?per_page=1", headers={**fatima.headers, "Accept-Language": "nl"}).json
    assert dutch["items"][0]["text"] == "Jan heeft je 15 minuten gegeven." and dutch["pages"] == 3

    for role in ("other_member", "coordinator", "other_coordinator"):
        assert client.get("/api/v1/notifications", headers=callers[role].headers).json["total"] == 0, role
    assert client.get("/api/v1/notifications", headers=callers["anonymous"].headers).status_code == 401
    refused = client.get("/api/v1/notifications?unread=maybe&per_page=101", headers=fatima.headers)
    assert refused.status_code == 422 and set(refused.json["error"]["fields"]) == {"unread", "per_page"}


def test_marking_notifications_as_read(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    first = client.post(
        "/api/v1/exchanges", json={"post_id": make_post(fatima.member, "Soup").id, "minutes": 60}, headers=jan.headers
    ).json
    client.post(
        "/api/v1/exchanges", json={"post_id": make_post(fatima.member, "Bread").id, "minutes": 30}, headers=jan.headers
    )
    client.post("/api/v1/transfers", json={"to_member_id": fatima.member.id, "minutes": 15}, headers=jan.headers)
    url = "/api/v1/notifications/read"

    # Another caller's ids mark nothing of Fatima's.
    assert client.post(url, json={"exchange_id": first["id"]}, headers=jan.headers).json == {"marked": 0}
    for role in ("coordinator", "other_coordinator"):
        assert client.post(url, headers=callers[role].headers).json == {"marked": 0}
    assert client.post(url, headers=callers["anonymous"].headers).status_code == 401
    refused = client.post(url, json={"exchange_id": "one"}, headers=fatima.headers)
    assert refused.status_code == 422 and list(refused.json["error"]["fields"]) == ["exchange_id"]
    assert unread(app, fatima.member) == 3

    about_soup = client.post(url, json={"exchange_id": first["id"]}, headers=fatima.headers)
    assert about_soup.status_code == 200 and about_soup.json == {"marked": 1}
    waiting = client.get("/api/v1/notifications?unread=true", headers=fatima.headers).json
    assert [n["kind"] for n in waiting["items"]] == ["gift", "proposed"]
    one = client.post(url, json={"notification_id": waiting["items"][0]["id"]}, headers=fatima.headers)
    assert one.json == {"marked": 1}
    assert client.post(url, headers=fatima.headers).json == {"marked": 1}
    assert client.post(url, headers=fatima.headers).json == {"marked": 0}
    assert unread(app, fatima.member) == 0
    assert all(n["read_at"] for n in client.get("/api/v1/notifications", headers=fatima.headers).json["items"])
