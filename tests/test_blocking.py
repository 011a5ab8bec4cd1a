"""A member blocks another: neither sees the other's posts, proposes an exchange to the other or
writes to them, on the pages and through the API alike; an exchange under way can still be
finished or disputed."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.communities.models import Category
from timebank.db import utcnow
from timebank.exchanges import services as exchanges
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.market.services import queue_digests
from timebank.members.export import collect
from timebank.members.models import Member
from timebank.members.services import erase_member
from timebank.moderation.blocks import Blocked, BlockError, block
from timebank.moderation.models import Block

from .api import token_headers
from .conftest import mails, web


def mails_to(member):
    return mails(to=db.session.get(Member, member.id).email, kind="market_digest")


def _under_way(app, neighbours):
    """Jan asked for Fatima's bike repair and she accepted, before anyone blocked anyone."""
    with app.app_context():
        jan = db.session.get(Member, neighbours["Jan"].id)
        fatima = db.session.get(Member, neighbours["Fatima"].id)
        exchange = exchanges.propose(
            db.session.get(type(neighbours["offer"]), neighbours["offer"].id), jan, 90, actor=jan
        )
        exchanges.accept(exchange, actor=fatima)
        db.session.commit()
        return exchange.id


def test_blocked_members_no_longer_see_each_others_posts_on_pages_and_api(app, neighbours, make_post):
    fatima, jan, wilma = neighbours["Fatima"], neighbours["Jan"], neighbours["Wilma"]
    request = make_post(jan, title="Need a ladder", kind="request", category_key="repairs")
    offer = make_post(fatima, title="Lentil soup pot", kind="offer", minutes=60)
    client = web(app, fatima)
    answer = client.post(f"/members/{jan.id}/block", follow_redirects=True)
    assert "You blocked Jan" in answer.text and "Unblock Jan" in answer.text
    jans = web(app, jan)
    for viewer, own, other in ((client, "Lentil soup pot", request), (jans, "Need a ladder", offer)):
        market = viewer.get("/market").text
        assert own in market and other.title not in market
        assert other.title not in viewer.get(f"/market?q={other.title.split()[-1]}").text
        assert other.title not in viewer.get("/").text
        assert viewer.get(f"/market/posts/{other.id}").status_code in (403, 404)
    headers = token_headers(app, jan)
    items = client.get("/api/v1/posts", headers=headers).json["items"]
    assert [p["title"] for p in items] == ["Need a ladder"]
    assert client.get(f"/api/v1/posts/{offer.id}", headers=headers).status_code == 404
    # Wilma, who blocked nobody, sees both.
    market = web(app, wilma).get("/market").text
    assert "Lentil soup pot" in market and "Need a ladder" in market
    # Unblocking brings them back.
    client.post(f"/members/{jan.id}/unblock")
    assert "Lentil soup pot" in jans.get("/market").text


def test_blocked_members_cannot_propose_or_write_but_finish_what_is_under_way(app, neighbours):
    fatima, jan = neighbours["Fatima"], neighbours["Jan"]
    exchange_id = _under_way(app, neighbours)
    web(app, jan).post(f"/members/{fatima.id}/block")  # Jan blocks Fatima; it works both ways
    fatima_web = web(app, fatima)
    written = fatima_web.post(f"/exchanges/{exchange_id}/messages", data={"text": "Hello?"}, follow_redirects=True)
    assert "one of you blocked the other" in written.text
    api = token_headers(app, fatima)
    refused = fatima_web.post(f"/api/v1/exchanges/{exchange_id}/messages", json={"text": "Hello?"}, headers=api)
    assert refused.status_code == 403 and "blocked" in str(refused.json), refused.json
    with app.app_context():
        jan_member = db.session.get(Member, jan.id)
        with pytest.raises(Blocked):  # a group lesson with Jan in it is refused too
            exchanges.create_group(
                db.session.get(Member, fatima.id),
                "provider",
                "Sewing",
                60,
                [jan_member],
                actor=db.session.get(Member, fatima.id),
            )
        db.session.rollback()
    # Jan cannot propose a new exchange on a post of Fatima's (he would not find it either).
    jan_api = token_headers(app, jan)
    with app.app_context():
        db.session.execute(sa.update(Exchange).values(state="cancelled"))  # free the post for a new proposal
        db.session.commit()
    proposal = fatima_web.post(
        "/api/v1/exchanges", json={"post_id": neighbours["offer"].id, "minutes": 60}, headers=jan_api
    )
    assert proposal.status_code in (403, 404)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Exchange.id))) == 1
        db.session.execute(sa.update(Exchange).values(state="accepted"))
        db.session.commit()
    # The exchange under way: Fatima records it, Jan confirms or disputes it as ever.
    recorded = fatima_web.post(f"/exchanges/{exchange_id}/record", data={"hours": "1", "minutes": "30"})
    assert recorded.status_code == 302
    disputed = web(app, jan).post(f"/exchanges/{exchange_id}/dispute", data={"reason": "It took 1 hour"})
    assert disputed.status_code == 302
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "disputed"


def test_blocking_is_for_neighbours_only_and_erasure_forgets_it(app, neighbours, make_community, make_member):
    fatima, jan = neighbours["Fatima"], neighbours["Jan"]
    elsewhere = make_member("Piet", community_id=make_community("noord", "Noord").id)
    client = web(app, fatima)
    assert client.post(f"/members/{elsewhere.id}/block").status_code == 404
    with app.app_context(), pytest.raises(BlockError):  # the service refuses too, whatever calls it
        block(db.session.get(Member, fatima.id), db.session.get(Member, elsewhere.id))
    assert "cannot block yourself" in client.post(f"/members/{fatima.id}/block", follow_redirects=True).text
    client.post(f"/members/{jan.id}/block")
    client.post(f"/members/{jan.id}/block")  # twice: one block
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 1
        assert collect(db.session.get(Member, fatima.id))["blocks"][0]["blocked"] == "Jan"
        assert collect(db.session.get(Member, jan.id))["blocks"] == []  # not told who blocked him
        erase_member(db.session.get(Member, fatima.id), actor=db.session.get(Member, neighbours["Karim"].id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0


def test_the_services_refuse_a_proposal_between_blocked_members_whatever_the_caller(app, neighbours):
    """The pages and the API hide the post; the service refuses even a caller that knows its id."""
    with app.app_context():
        fatima, jan = (db.session.get(Member, neighbours[name].id) for name in ("Fatima", "Jan"))
        block(fatima, jan)
        offer = db.session.get(type(neighbours["offer"]), neighbours["offer"].id)
        with pytest.raises(Blocked):
            exchanges.propose(offer, jan, 60, actor=jan)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Exchange.id))) == 0


def test_blocking_and_reporting_through_the_api(app, neighbours, make_community, make_member):
    fatima, jan = neighbours["Fatima"], neighbours["Jan"]
    piet = make_member("Piet", community_id=make_community("noord", "Noord").id)
    client = app.test_client()
    headers = token_headers(app, fatima)
    answer = client.post(f"/api/v1/members/{jan.id}/block", headers=headers)
    assert answer.status_code == 200 and answer.json == {"member_id": jan.id, "blocked": True}
    assert client.post(f"/api/v1/members/{piet.id}/block", headers=headers).status_code == 404
    assert client.post(f"/api/v1/members/{fatima.id}/block", headers=headers).status_code == 422
    offer = neighbours["offer"]
    jans = token_headers(app, jan)
    assert client.get(f"/api/v1/posts/{offer.id}", headers=jans).status_code == 404
    assert client.delete(f"/api/v1/members/{jan.id}/block", headers=headers).json["blocked"] is False
    gone = make_member("Gone", status="erased")  # as if they never existed, whichever way
    assert client.post(f"/api/v1/members/{gone.id}/block", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/members/{gone.id}/block", headers=headers).status_code == 404
    assert client.get(f"/api/v1/posts/{offer.id}", headers=jans).status_code == 200
    filed = client.post(
        "/api/v1/reports", headers=jans, json={"item_type": "post", "item_id": offer.id, "reason": "spam"}
    )
    assert filed.status_code == 201 and filed.json["outcome"] is None
    again = client.post(
        "/api/v1/reports", headers=jans, json={"item_type": "post", "item_id": offer.id, "reason": "spam"}
    )
    assert again.status_code == 422
    assert (
        client.post(
            "/api/v1/reports",
            headers=token_headers(app, piet),
            json={"item_type": "post", "item_id": offer.id, "reason": "spam"},
        ).status_code
        == 404
    )


def test_the_market_digest_leaves_out_requests_of_someone_blocked(app, neighbours, make_post):
    fatima, jan, wilma = neighbours["Fatima"], neighbours["Jan"], neighbours["Wilma"]
    with app.app_context():
        reader = db.session.get(Member, fatima.id)
        reader.market_digest = True
        reader.market_digest_sent_until = utcnow() - timedelta(days=2)
        reader.skills.append(
            db.session.scalar(
                sa.select(Category).where(Category.community_id == reader.community_id, Category.key == "repairs")
            )
        )
        block(reader, db.session.get(Member, jan.id))
        db.session.commit()
    make_post(jan, title="Jan's wobbly chair", kind="request", category_key="repairs")
    make_post(wilma, title="Wilma's leaking tap", kind="request", category_key="repairs")
    with app.app_context():
        assert queue_digests() == 1
        db.session.commit()
        body = mails_to(fatima)[0].body_text
    assert "Wilma's leaking tap" in body and "wobbly chair" not in body
