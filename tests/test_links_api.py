"""Links through the API: the market with scope=linked (each post with its community's slug), an
exchange across a link through the same exchange endpoints, and GET /api/v1/links for coordinators."""

import pytest

from timebank.communities.links import set_link
from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .api import token_headers


@pytest.fixture
def world(app, make_community, make_member, make_post):
    north, south, west = (
        make_community(slug, name) for slug, name in (("noord", "Noord"), ("zuid", "Zuid"), ("west", "West"))
    )
    people = {
        "Fatima": make_member("Fatima", community_id=north.id),
        "Els": make_member("Els", role="coordinator", community_id=north.id),
        "Wilma": make_member("Wilma", community_id=south.id),
        "Anna": make_member("Anna", role="coordinator", community_id=west.id),
    }
    posts = {
        "bikes": make_post(people["Wilma"], title="Bike repair by the canal", minutes=60),
        "soup": make_post(people["Fatima"], title="Soup for two evenings"),
        "west": make_post(people["Anna"], title="Bike lessons in West"),
    }
    with app.app_context():
        set_link(
            db.session.get(Community, north.id),
            db.session.get(Community, south.id),
            cap_minutes=120,
            see_posts=True,
            reason="Neighbours across the canal",
        )
        db.session.commit()
    headers = {name: token_headers(app, member) for name, member in people.items()}
    return people, posts, headers


def titles(response) -> dict[str, str]:
    return {post["title"]: post["community"] for post in response.json["items"]}


def test_posts_with_scope_linked_carry_their_communitys_slug(client, world):
    _people, posts, headers = world
    own = client.get("/api/v1/posts", headers=headers["Fatima"])
    assert own.status_code == 200 and titles(own) == {"Soup for two evenings": "noord"}
    linked = client.get("/api/v1/posts?scope=linked", headers=headers["Fatima"])
    assert titles(linked) == {"Soup for two evenings": "noord", "Bike repair by the canal": "zuid"}
    assert linked.json["total"] == 2
    assert titles(client.get("/api/v1/posts?scope=linked&q=bike", headers=headers["Fatima"])) == {
        "Bike repair by the canal": "zuid"
    }
    assert client.get("/api/v1/posts?scope=everywhere", headers=headers["Fatima"]).status_code == 422
    assert client.get(f"/api/v1/posts/{posts['bikes'].id}", headers=headers["Fatima"]).status_code == 200
    assert client.get(f"/api/v1/posts/{posts['west'].id}", headers=headers["Fatima"]).status_code == 404
    # West is not linked: scope=linked adds nothing for its members.
    assert titles(client.get("/api/v1/posts?scope=linked", headers=headers["Anna"])) == {"Bike lessons in West": "west"}


def test_an_exchange_across_the_link_through_the_exchange_endpoints(app, client, world, make_member):
    people, posts, headers = world
    proposed = client.post(
        "/api/v1/exchanges",
        json={"post_id": posts["bikes"].id, "minutes": 60},
        headers={**headers["Fatima"], "Idempotency-Key": "across-1"},
    )
    assert proposed.status_code == 201, proposed.json
    url = f"/api/v1/exchanges/{proposed.json['id']}"
    assert client.post(f"{url}/accept", headers=headers["Wilma"]).status_code == 200
    assert client.post(f"{url}/record", json={"minutes": 60}, headers=headers["Wilma"]).status_code == 200
    key = {**headers["Fatima"], "Idempotency-Key": "confirm-across"}
    confirmed = client.post(f"{url}/confirm", headers=key)
    assert confirmed.status_code == 200 and confirmed.json["state"] == "completed", confirmed.json
    assert client.post(f"{url}/confirm", headers=key).json == confirmed.json  # a retry settles once
    with app.app_context():
        fatima, wilma = (db.session.get(Member, people[name].id) for name in ("Fatima", "Wilma"))
        assert ledger.balance(ledger.account_for(fatima)) == -60 and ledger.balance(ledger.account_for(wilma)) == 60
        assert verify().ok
    links = client.get("/api/v1/links", headers=headers["Els"])
    assert links.status_code == 200
    [link] = links.json["items"]
    assert {k: link[k] for k in ("state", "cap_minutes", "owed_minutes", "see_posts", "proposed_by_us")} == {
        "state": "active",
        "cap_minutes": 120,
        "owed_minutes": 60,
        "see_posts": True,
        "proposed_by_us": True,
    }
    assert link["community"] == {"slug": "zuid", "name": "Zuid"}
    # Zuid's coordinator sees the same link from the other side: Noord proposed it and owes Zuid.
    zuid = token_headers(app, make_member("Sam", role="coordinator", community_id=people["Wilma"].community_id))
    [theirs] = client.get("/api/v1/links", headers=zuid).json["items"]
    assert (theirs["id"], theirs["community"], theirs["owed_minutes"], theirs["proposed_by_us"]) == (
        link["id"],
        {"slug": "noord", "name": "Noord"},
        -60,
        False,
    )


def test_links_are_for_the_coordinators_of_the_community_only(client, world):
    _people, _posts, headers = world
    refused = client.get("/api/v1/links", headers=headers["Fatima"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/links", headers=headers["Anna"]).json == {"items": []}
