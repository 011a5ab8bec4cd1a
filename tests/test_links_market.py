"""Members of linked communities: they see each other's posts (marked, filtered, searched), agree
exchanges with the same workflow, settle across the link, and a dispute reaches the coordinators
of both; members of other communities see none of it, and outsiders see no private details."""

from contextlib import nullcontext

import pytest
import sqlalchemy as sa
from flask import has_app_context

from timebank.audit.models import AuditEvent
from timebank.communities.links import pause_link, set_link
from timebank.communities.models import Community, CommunityLink
from timebank.exchanges import services as exchanges
from timebank.exchanges.errors import NotAllowed
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import LimitExceeded
from timebank.ledger.verify import verify
from timebank.market.models import Post
from timebank.market.posts import close_post, pause_post
from timebank.members.models import Member
from timebank.permissions import can_read_thread, can_see_email, can_see_exchange, can_see_post

from .api import token_headers
from .conftest import login, web

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, make_community, make_member, make_post):
    """Noord and Zuid linked (cap 3 hours, posts shown); West not linked. A post in each."""
    north, south, west = (
        make_community(slug, name) for slug, name in (("noord", "Noord"), ("zuid", "Zuid"), ("west", "West"))
    )
    people = {
        "Fatima": make_member("Fatima", community_id=north.id),
        "Els": make_member("Els", role="coordinator", community_id=north.id),
        "Wilma": make_member("Wilma", community_id=south.id, show_email_to="community", bio="Fixes bikes"),
        "Karim": make_member("Karim", role="coordinator", community_id=south.id),
        "Piet": make_member("Piet", community_id=west.id),
        "Anna": make_member("Anna", role="coordinator", community_id=west.id),
    }
    posts = {
        "bikes": make_post(people["Wilma"], title="Bike repair by the canal", category_key="repairs"),
        "soup": make_post(people["Fatima"], title="Soup for two evenings"),
        "west": make_post(people["Piet"], title="Bike lessons in West", category_key="repairs"),
    }
    with nullcontext() if has_app_context() else app.app_context():
        set_link(
            db.session.get(Community, north.id), db.session.get(Community, south.id), cap_minutes=180, see_posts=True
        )
        db.session.commit()
    return people, posts


def get(model, instance):
    return db.session.get(model, instance.id)


def test_members_see_linked_posts_marked_filtered_and_searched(client, world):
    people, posts = world
    login(client, people["Fatima"])
    market = client.get("/market", headers=EN).text
    assert "Bike repair by the canal" in market and "From Zuid" in market and "Soup for two evenings" in market
    assert "Bike lessons in West" not in market
    assert "Bike repair by the canal" not in client.get("/market?from=ours", headers=EN).text
    with client.application.app_context():
        south_id = db.session.scalar(sa.select(Community.id).where(Community.slug == "zuid"))
    only_south = client.get(f"/market?from={south_id}", headers=EN).text
    assert "Bike repair by the canal" in only_south and "Soup for two evenings" not in only_south
    found = client.get("/market?q=bike", headers=EN).text
    assert "Bike repair by the canal" in found and "Bike lessons in West" not in found
    detail = client.get(f"/market/posts/{posts['bikes'].id}", headers=EN)
    assert detail.status_code == 200 and "From Zuid" in detail.text
    assert "Fixes bikes" not in detail.text and f"/members/{people['Wilma'].id}" not in detail.text
    assert client.get(f"/market/posts/{posts['west'].id}").status_code == 404


def test_a_category_filter_finds_the_same_kind_of_help_in_the_linked_community(app, client, world):
    people, _posts = world
    login(client, people["Fatima"])
    with app.app_context():
        repairs = db.session.scalar(sa.select(Post.category_id).where(Post.title == "Bike repair by the canal"))
        own = db.session.scalar(
            sa.text(
                "SELECT c.id FROM categories c JOIN categories o ON o.key = c.key WHERE o.id = :id AND c.id <> :id "
                "AND c.community_id = (SELECT community_id FROM members WHERE id = :member)"
            ),
            {"id": repairs, "member": people["Fatima"].id},
        )
    page = client.get(f"/market?category={own}", headers=EN).text
    assert "Bike repair by the canal" in page and "Soup for two evenings" not in page


@pytest.mark.usefixtures("ctx")
def test_outsiders_see_no_private_details_and_unlinked_communities_see_nothing(world):
    people, posts = world
    fatima, wilma, piet = get(Member, people["Fatima"]), get(Member, people["Wilma"]), get(Member, people["Piet"])
    assert can_see_post(fatima, get(Post, posts["bikes"])) and not can_see_post(piet, get(Post, posts["bikes"]))
    assert not can_see_email(fatima, wilma)  # "community" means her own neighbours, not a linked community
    link = db.session.scalar(sa.select(CommunityLink))
    link.see_posts = False
    db.session.commit()
    assert not can_see_post(fatima, get(Post, posts["bikes"]))


def settle_across(world, minutes=90):
    people, posts = world
    fatima, wilma = get(Member, people["Fatima"]), get(Member, people["Wilma"])
    exchange = exchanges.propose(get(Post, posts["bikes"]), fatima, minutes, actor=fatima, message="My chain")
    exchanges.accept(exchange, actor=wilma)
    exchanges.record_minutes(exchange, minutes, actor=wilma)
    db.session.commit()
    return exchange


@pytest.mark.usefixtures("ctx")
def test_an_exchange_across_the_link_settles_in_both_books(world):
    people, _posts = world
    exchange = settle_across(world)
    exchanges.confirm(exchange, actor=get(Member, people["Fatima"]))
    db.session.commit()
    fatima, wilma = get(Member, people["Fatima"]), get(Member, people["Wilma"])
    assert exchange.state == "completed"
    assert ledger.balance(ledger.account_for(fatima)) == -90 and ledger.balance(ledger.account_for(wilma)) == 90
    assert ledger.balance(ledger.clearing_account(fatima.community_id, wilma.community_id)) == 90
    assert verify().ok


@pytest.mark.usefixtures("ctx")
def test_the_cap_stops_a_settlement_and_nothing_changes(world):
    people, _posts = world
    db.session.scalar(sa.select(CommunityLink)).cap_minutes = 60
    ledger.open_clearing(db.session.scalar(sa.select(CommunityLink)))
    db.session.commit()
    exchange = settle_across(world)
    with pytest.raises(LimitExceeded):
        exchanges.confirm(exchange, actor=get(Member, people["Fatima"]))
    db.session.rollback()
    assert get(Exchange, exchange).state == "accepted" and verify().ok


@pytest.mark.usefixtures("ctx")
def test_a_paused_link_takes_no_new_exchanges_but_open_ones_finish(world):
    people, posts = world
    exchange = settle_across(world)
    pause_link(db.session.scalar(sa.select(CommunityLink)), actor=get(Member, people["Karim"]), reason="Busy")
    db.session.commit()
    fatima = get(Member, people["Fatima"])
    with pytest.raises(NotAllowed):
        exchanges.propose(get(Post, posts["bikes"]), fatima, 30, actor=fatima)
    db.session.rollback()
    exchanges.confirm(exchange, actor=fatima)
    db.session.commit()
    assert exchange.state == "completed" and verify().ok


def test_a_dispute_across_the_link_reaches_the_coordinators_of_both_and_no_others(app, client, world):
    people, _posts = world
    with app.app_context():
        exchange = settle_across(world)
        exchanges.dispute(exchange, "It took half the time", actor=get(Member, people["Fatima"]))
        db.session.commit()
        exchange_id = exchange.id
        exchange = db.session.get(Exchange, exchange_id)
        for name in ("Els", "Karim"):
            coordinator = get(Member, people[name])
            assert can_see_exchange(coordinator, exchange) and can_read_thread(coordinator, exchange), name
            assert exchange_id in [e.id for e in exchanges.open_disputes(coordinator.community_id)], name
        anna = get(Member, people["Anna"])
        assert not can_see_exchange(anna, exchange) and not can_read_thread(anna, exchange)
        assert exchanges.open_disputes(anna.community_id) == []
    login(client, people["Els"])
    page = client.get(f"/exchanges/{exchange_id}", headers=EN)
    assert page.status_code == 200 and "It took half the time" in page.text
    assert f"/exchanges/{exchange_id}/resolve" in page.text  # Fatima's coordinators may decide too
    assert "/exchanges/grant?to=" in page.text  # and give her hours from Noord's fund
    client.post("/logout")
    login(client, people["Karim"])
    page = client.get(f"/exchanges/{exchange_id}", headers=EN)
    assert f"/exchanges/{exchange_id}/resolve" in page.text and "/exchanges/grant?to=" not in page.text
    client.post("/logout")
    login(client, people["Anna"])
    assert client.get(f"/exchanges/{exchange_id}").status_code in (403, 404)
    with app.app_context():
        exchange, els = db.session.get(Exchange, exchange_id), get(Member, people["Els"])
        # West's coordinator has no member in it; no limit, and so no cap, can be passed across a link.
        with pytest.raises(NotAllowed):
            exchanges.resolve(exchange, actor=get(Member, people["Anna"]), reason="Mine now", minutes=1)
        db.session.rollback()
        with pytest.raises(NotAllowed):
            exchanges.resolve(db.session.get(Exchange, exchange_id), actor=els, reason="Half", override_limits=True)
        db.session.rollback()
        # Each community's coordinators handle disputes for their own member: Noord's decides here.
        exchanges.resolve(db.session.get(Exchange, exchange_id), actor=els, reason="Half", minutes=45)
        db.session.commit()
        fatima = get(Member, people["Fatima"])
        assert ledger.balance(ledger.account_for(fatima)) == -45 and verify().ok
        columns = (AuditEvent.community_id, AuditEvent.on_behalf_of_id)
        logged = db.session.execute(sa.select(*columns).where(AuditEvent.action == "exchange.resolved")).all()
        north, south = people["Fatima"].community_id, people["Wilma"].community_id
        assert sorted(logged) == sorted([(north, people["Fatima"].id), (south, people["Wilma"].id)])


def test_a_linked_neighbour_loses_sight_of_a_post_its_owner_paused_or_closed(app, client, world):
    people, posts = world
    bikes = posts["bikes"].id
    login(client, people["Fatima"])
    assert client.get(f"/market/posts/{bikes}").status_code == 200
    for step in (pause_post, close_post):
        with app.app_context():
            step(db.session.get(Post, bikes), actor=db.session.get(Member, people["Wilma"].id))
            db.session.commit()
        assert client.get(f"/market/posts/{bikes}").status_code == 404
        assert "Bike repair by the canal" not in client.get("/market", headers=EN).text
    # The coordinator of her own neighbourhood still opens the closed post.
    coordinator = web(app, people["Karim"])
    assert coordinator.get(f"/market/posts/{bikes}").status_code == 200


@pytest.mark.parametrize("change", ["posts not shared", "paused"])
def test_a_link_that_shares_no_posts_or_is_paused_lists_none_of_them(app, client, world, change):
    people, _posts = world
    with app.app_context():
        link = db.session.scalar(sa.select(CommunityLink))
        if change == "paused":
            pause_link(link, actor=get(Member, people["Karim"]), reason="Busy")
        else:
            link.see_posts = False
        db.session.commit()
        headers = token_headers(app, people["Fatima"])
    login(client, people["Fatima"])
    market = client.get("/market?q=bike", headers=EN).text
    assert "Bike repair by the canal" not in market and "From Zuid" not in market
    linked = client.get("/api/v1/posts?scope=linked", headers=headers).json["items"]
    assert [post["title"] for post in linked] == ["Soup for two evenings"]
