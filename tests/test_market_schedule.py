"""The scheduled work: reminders and expiry, the digest of new requests, and the community's
expiry period. Each may run twice without sending anything twice."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.communities.models import Category
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.market.models import Post
from timebank.market.services import queue_digests, remind_and_expire, set_digest
from timebank.members.models import Member

from .conftest import login

EN = {"Accept-Language": "en"}


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def category(key) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.key == key))


def post_row(app, post_id) -> Post:
    with app.app_context():
        return db.session.get(Post, post_id)


def test_owner_is_reminded_once_then_the_post_expires_and_one_click_renews_it(app, client, runner, member, make_post):
    now = utcnow()
    soon = make_post(member, "Soup for two evenings", expires_at=now + timedelta(days=5))
    later = make_post(member, "Bread on Sundays", expires_at=now + timedelta(days=20))
    past = make_post(member, "Old request", kind="request", expires_at=now - timedelta(hours=1))

    first = runner.invoke(args=["market", "expire"])
    assert first.exit_code == 0 and "Reminders queued: 1. Posts expired: 1." in first.output
    again = runner.invoke(args=["market", "expire"])
    assert "Reminders queued: 0. Posts expired: 0." in again.output
    [mail] = outbox(app)
    assert mail.member_id == member.id and "Soup for two evenings" in mail.subject
    assert f"http://localhost/market/posts/{soon.id}" in mail.body_text
    assert post_row(app, past.id).status == "expired" and post_row(app, later.id).reminded_at is None

    login(client, member)
    assert "Old request" not in client.get("/market").text
    mine = client.get("/market/mine", headers=EN).text
    assert "Old request" in mine and "Expired on" in mine
    renewed = client.post(
        f"/market/posts/{past.id}/renew", data={"next": "/market/mine"}, headers=EN, follow_redirects=True
    )
    assert "Your post stays online until" in renewed.text
    row = post_row(app, past.id)
    assert row.status == "active" and row.expires_at > utcnow() + timedelta(weeks=8) - timedelta(minutes=1)
    assert "Old request" in client.get("/market").text

    client.post(f"/market/posts/{soon.id}/renew")
    assert post_row(app, soon.id).reminded_at is None  # the next period gets its own reminder


@pytest.mark.parametrize(
    "command",
    [
        "market digest",
        "market expire",
        "exchanges auto-confirm",
        "exchanges expire-proposals",
        "notifications digest",
        "desk weekly-summary",
        "governance close",
    ],
)
def test_scheduled_commands_need_the_site_address_for_their_links(app, runner, command):
    """Every scheduled command that may email says in one sentence that it needs the site's address
    (`governance close` stopped with a traceback at its first email)."""
    app.config["SERVER_NAME"] = None
    result = runner.invoke(args=command.split())
    assert result.exit_code == 1 and "set TIMEBANK_SERVER_NAME" in result.output


def test_digest_tells_opted_in_members_about_new_matching_requests_once(app, client, runner, make_member, make_post):
    fixer = make_member("Kees", locale="en")
    cook = make_member("Latifa", locale="nl")
    quiet = make_member("Henk")
    with app.app_context():
        kees = db.session.get(Member, fixer.id)
        kees.skills.append(category("bikes"))
        db.session.commit()
    make_post(cook, "Curry for the street", category_key="cooking")  # Latifa's offer: cooking interests her
    make_post(quiet, "Henk also bikes", category_key="bikes")

    for person in (fixer, cook):
        login(client, person)
        assert client.post("/market/mine/digest", data={"enabled": "y"}).status_code == 302
        client.post("/logout")
    before = make_post(
        quiet, "Old bike request", kind="request", category_key="bikes", created_at=utcnow() - timedelta(days=1)
    )
    asker = make_member("Wilma")
    make_post(asker, "Flat tyre on my bike", kind="request", category_key="bikes")
    make_post(asker, "Soup when I am ill", kind="request", category_key="cooking")
    make_post(asker, "Help with my laptop", kind="request", category_key="computers")
    make_post(fixer, "Kees needs a bike too", kind="request", category_key="bikes")

    # They just opted in: the first digest comes a day later, with what was placed since.
    assert "Digest emails queued: 0." in runner.invoke(args=["market", "digest"]).output
    tomorrow = utcnow() + timedelta(days=1)
    with app.app_context():
        assert queue_digests(now=tomorrow) == 2
        db.session.commit()
        assert queue_digests(now=tomorrow) == 0
        assert queue_digests(now=tomorrow + timedelta(days=1)) == 0  # nothing new since
        db.session.commit()
    mails = {m.member_id: m for m in outbox(app)}
    assert set(mails) == {fixer.id, cook.id}
    assert "Flat tyre on my bike" in mails[fixer.id].body_text
    for absent in ("Soup when I am ill", "Help with my laptop", "Kees needs a bike too", before.title):
        assert absent not in mails[fixer.id].body_text
    assert "Soup when I am ill" in mails[cook.id].body_text and "Flat tyre" not in mails[cook.id].body_text
    assert mails[cook.id].subject.startswith("1 nieuwe hulpvraag")

    login(client, fixer)
    client.post("/market/mine/digest", data={})
    make_post(asker, "Brakes squeak", kind="request", category_key="bikes")
    with app.app_context():
        assert queue_digests(now=tomorrow + timedelta(days=2)) == 0
        db.session.commit()
    assert len(outbox(app)) == 2


def test_coordinator_sets_how_long_posts_stay_online(app, client, member, make_member):
    coordinator = make_member("Karim", role="coordinator")
    login(client, member)
    assert client.get("/market/manage").status_code == 403
    assert client.post("/market/manage/expiry", data={"weeks": "2"}).status_code == 403
    client.post("/logout")
    login(client, coordinator)
    for bad in ("0", "53", "twee", ""):
        refused = client.post("/market/manage/expiry", data={"weeks": bad}, headers=EN)
        assert refused.status_code == 422
    assert (
        "Please choose between 1 and 52 weeks."
        in client.post("/market/manage/expiry", data={"weeks": "53"}, headers=EN).text
    )
    with app.app_context():
        assert db.session.get(Member, member.id).community.post_expiry_weeks == 8
    saved = client.post("/market/manage/expiry", data={"weeks": "4"}, headers=EN, follow_redirects=True)
    assert "stay online for 4 weeks" in saved.text
    client.post("/logout")
    login(client, member)
    with app.app_context():
        cooking = category("cooking").id
    client.post("/market/offers/new", data={"title": "Soup", "category_id": cooking})
    with app.app_context():
        post = db.session.scalar(sa.select(Post))
        assert timedelta(weeks=4) - timedelta(minutes=1) < post.expires_at - utcnow() <= timedelta(weeks=4)


def test_the_digest_mails_only_what_is_still_asked_to_who_can_still_help(app, make_member, make_post):
    """Kees (bikes) opted in ten days ago and saved the setting again yesterday; Anna (bikes) had her
    last digest two days ago; Piet (bikes) was paused; Latifa's only cooking offer has expired.
    Kees hears of the flat tyre only: the stolen bike was taken out, the chain's request expired."""
    now = utcnow()
    kees, anna, piet, latifa = (make_member(name) for name in ("Kees", "Anna", "Piet", "Latifa"))
    make_post(latifa, "Curry", category_key="cooking", expires_at=now - timedelta(hours=1))
    asker = make_member("Wilma")
    ago = {days: now - timedelta(days=days) for days in (1, 2, 3, 4, 5, 10)}
    make_post(asker, "Flat tyre", kind="request", category_key="bikes", created_at=ago[5])
    make_post(asker, "Stolen bike for sale", kind="request", category_key="bikes", created_at=ago[4], status="closed")
    make_post(asker, "Oil my chain", kind="request", category_key="bikes", created_at=ago[3], expires_at=now)
    make_post(asker, "Soup please", kind="request", category_key="cooking", created_at=ago[1])
    with app.app_context():
        for person in (kees, anna, piet, latifa):
            member = db.session.get(Member, person.id)
            if person is not latifa:
                member.skills.append(category("bikes"))
            set_digest(member, True, now=ago[10])
        set_digest(db.session.get(Member, kees.id), True, now=ago[1])  # saved again: starts no later
        db.session.get(Member, anna.id).market_digest_sent_until = ago[2]
        db.session.get(Member, piet.id).status = "suspended"
        db.session.commit()
        assert queue_digests(now=now) == 1
        db.session.commit()
    [mail] = outbox(app)
    assert mail.member_id == kees.id and "Flat tyre" in mail.body_text
    assert not any(title in mail.body_text for title in ("Stolen bike", "Oil my chain", "Soup please"))


def test_a_paused_member_is_not_reminded_of_a_post_that_expires(app, make_member, make_post):
    owner = make_member("Piet", status="suspended")
    post = make_post(owner, "Ladder to lend", expires_at=utcnow() + timedelta(days=3))
    with app.app_context():
        assert remind_and_expire() == (1, 0)
        db.session.commit()
    assert outbox(app) == [] and post_row(app, post.id).reminded_at is not None
