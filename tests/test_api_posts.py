"""The market through the API: listing and filters, placing, reading, changing and closing posts,
for every role of the contract."""

from datetime import timedelta

import sqlalchemy as sa

from timebank.communities.models import Area, Category
from timebank.db import utcnow
from timebank.extensions import db
from timebank.market.categories import merge_category
from timebank.market.models import Post
from timebank.members.models import Member

from .conftest import count


def category_id(app, key="cooking", community_id=None, retired=False) -> int:
    with app.app_context():
        query = sa.select(Category).where(Category.key == key)
        if community_id:
            query = query.where(Category.community_id == community_id)
        category = db.session.scalar(query.order_by(Category.id))
        if retired:
            category.retired_at = utcnow()
            db.session.commit()
        return category.id


def add_area(app, community_id: int, name="Het Park") -> int:
    with app.app_context():
        area = Area(community_id=community_id, name=name)
        db.session.add(area)
        db.session.commit()
        return area.id


def stored(app, post_id: int) -> dict:
    with app.app_context():
        post = db.session.get(Post, post_id)
        return {
            "title": post.title,
            "description": post.description,
            "minutes": post.minutes,
            "gift": post.is_gift,
            "status": post.status,
            "category_id": post.category_id,
        }


def test_the_market_lists_what_is_online_with_filters_and_pages(app, client, callers, make_post):
    fatima, jan, olga = (callers[role].member for role in ("member", "other_member", "other_coordinator"))
    park = add_area(app, fatima.community_id)
    bikes = category_id(app, "bikes", fatima.community_id)
    soup = make_post(
        fatima,
        "Soup in the park",
        area_id=park,
        minutes=90,
        available_days=["sat"],
        available_parts=["evening"],
        description="Lentil soup.",
    )
    make_post(fatima, "Fixing flat tyres", category_key="bikes")
    make_post(jan, "Need a bike", kind="request", category_key="bikes")
    make_post(jan, "Free stroller", category_key="lending", is_gift=True, minutes=0)
    make_post(fatima, "Paused sewing", status="paused")
    make_post(fatima, "Past its date", expires_at=utcnow() - timedelta(days=1))
    make_post(olga, "In another neighbourhood")

    def titles(role="other_member", **query):
        response = client.get("/api/v1/posts", query_string=query, headers=callers[role].headers)
        assert response.status_code == 200, response.json
        return [post["title"] for post in response.json["items"]]

    assert titles() == ["Free stroller", "Need a bike", "Fixing flat tyres", "Soup in the park"]
    assert titles("coordinator") == titles("member") == titles()
    assert titles("other_coordinator") == ["In another neighbourhood"]
    assert titles(kind="request") == ["Need a bike"]
    assert titles(kind="offer", category=bikes) == ["Fixing flat tyres"]
    assert titles(area=park) == ["Soup in the park"]
    assert titles(gift="true") == ["Free stroller"]
    assert titles(q="TYRES flat") == ["Fixing flat tyres"]
    assert titles(q="nothing like this") == []

    last = client.get("/api/v1/posts?per_page=3&page=2", headers=callers["other_member"].headers).json
    assert (last["page"], last["pages"], last["total"]) == (2, 2, 4)
    [item] = last["items"]
    assert item == {
        "id": soup.id,
        "kind": "offer",
        "title": "Soup in the park",
        "description": "Lentil soup.",
        "category_id": soup.category_id,
        "minutes": 90,
        "gift": False,
        "status": "active",
        "owner": {"id": fatima.id, "name": "Fatima"},
        "community": "buurt",
        "area": {"id": park, "name": "Het Park"},
        "available_days": ["sat"],
        "available_parts": ["evening"],
        "available_note": "",
        "photo_url": None,
        "closed_reason": "",
        "created_at": soup.created_at.isoformat(),
        "updated_at": soup.updated_at.isoformat(),
        "expires_at": soup.expires_at.isoformat(),
    }
    assert item["expires_at"].endswith("+00:00")


def test_unknown_filters_are_422_naming_the_parameter(app, client, callers):
    elsewhere = callers["other_coordinator"].member.community_id
    headers = callers["member"].headers
    for query, field in [
        ({"kind": "gift"}, "kind"),
        ({"category": "abc"}, "category"),
        ({"category": category_id(app, community_id=elsewhere)}, "category"),
        ({"area": add_area(app, elsewhere)}, "area"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"q": "x" * 201}, "q"),
        ({"colour": "red"}, "colour"),
    ]:
        response = client.get("/api/v1/posts", query_string=query, headers=headers)
        assert response.status_code == 422, query
        assert list(response.json["error"]["fields"]) == [field], query
    dutch = client.get("/api/v1/posts?category=999", headers={**headers, "Accept-Language": "nl"})
    assert dutch.json["error"]["fields"] == {"category": ["Kies een van de categorieën uit de lijst."]}
    # marshmallow's own refusals are said in the caller's language too.
    too_many = client.get("/api/v1/posts?per_page=101&colour=red", headers={**headers, "Accept-Language": "nl"})
    assert too_many.json["error"]["fields"] == {
        "per_page": ["Geef een getal van 1 tot 100."],
        "colour": ["Dit veld kennen we niet. Kijk de naam na."],
    }


def test_member_places_a_post_once_however_often_it_is_sent(app, client, callers):
    fatima = callers["member"]
    park = add_area(app, fatima.member.community_id)
    with app.app_context():
        db.session.get(Member, fatima.member.id).area_id = park
        db.session.commit()
    body = {
        "kind": "offer",
        "title": "  Soup   for two evenings ",
        "description": "Lentil soup.",
        "category_id": category_id(app),
        "minutes": 90,
        "available_days": ["sat", "mon"],
        "available_parts": ["evening"],
    }
    headers = {**fatima.headers, "Idempotency-Key": "place-soup"}
    first = client.post("/api/v1/posts", json=body, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["title"] == "Soup for two evenings" and first.json["available_days"] == ["mon", "sat"]
    assert first.json["owner"] == {"id": fatima.member.id, "name": "Fatima"}
    assert first.json["area"] == {"id": park, "name": "Het Park"}  # left out: the owner's own area
    assert (first.json["status"], first.json["minutes"], first.json["gift"]) == ("active", 90, False)

    again = client.post("/api/v1/posts", json=body, headers=headers)
    assert again.status_code == 201 and again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/posts", json={**body, "minutes": 60}, headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    double_tap = client.post("/api/v1/posts", json=body, headers=fatima.headers)  # no key: the service sees it
    assert double_tap.status_code == 201 and double_tap.json["id"] == first.json["id"]
    with app.app_context():
        assert count(Post) == 1

    gift = client.post(
        "/api/v1/posts",
        json={
            "kind": "request",
            "title": "A stroller",
            "gift": True,
            "category_id": category_id(app, "lending"),
            "area_id": None,
        },
        headers=fatima.headers,
    )
    assert gift.status_code == 201
    assert (gift.json["minutes"], gift.json["gift"], gift.json["area"]) == (0, True, None)
    seen = client.get(f"/api/v1/posts/{gift.json['id']}", headers=callers["other_member"].headers)
    assert seen.status_code == 200 and seen.json == gift.json


def test_refused_posts_name_the_field_and_change_nothing(app, client, callers):
    elsewhere = callers["other_coordinator"].member.community_id
    good = {"kind": "offer", "title": "Soup", "category_id": category_id(app)}
    cases = [
        ({"title": "   "}, "title", "Please give your post a short title."),
        ({"title": "x" * 101}, "title", "The title can have at most 100 characters; yours has 101."),
        ({"title": "Soup\x00"}, "title", "This text contains a character we cannot store. Please remove it."),
        ({"title": "Soup\ud800"}, "title", "This text contains a character we cannot store. Please remove it."),
        (
            {"category_id": category_id(app, "sewing", retired=True)},
            "category_id",
            "The category “Sewing” is no longer used. Please choose another one.",
        ),
        (
            {"category_id": category_id(app, community_id=elsewhere)},
            "category_id",
            "Please choose one of the categories in the list.",
        ),
        ({"area_id": add_area(app, elsewhere)}, "area_id", "Please choose one of the areas in the list."),
        ({"gift": True, "minutes": 30}, "minutes", "A gift is free: please leave the time empty."),
        (
            {"minutes": 1441},
            "minutes",
            "That is more than 24 hours. Please check the time, or split the work into smaller posts.",
        ),
        ({"minutes": "90"}, "minutes", "Please give a whole number."),
        ({"minutes": True}, "minutes", "Please give a whole number."),
        ({"gift": 1}, "gift", "Please give true or false."),
        ({"kind": "gift"}, "kind", "Please choose one of: offer, request."),
        ({"available_days": ["someday"]}, "available_days", None),
        ({"colour": "red"}, "colour", "We do not know this field. Please check its name."),
    ]
    for change, field, message in cases:
        response = client.post("/api/v1/posts", json={**good, **change}, headers=callers["member"].headers)
        assert response.status_code == 422, change
        assert list(response.json["error"]["fields"]) == [field], change
        if message:
            assert response.json["error"]["fields"][field] == [message], change
    missing = client.post("/api/v1/posts", json={}, headers=callers["member"].headers)
    assert set(missing.json["error"]["fields"]) == {"kind", "title", "category_id"}
    not_json = client.post(
        "/api/v1/posts", data="{oops", content_type="application/json", headers=callers["member"].headers
    )
    assert not_json.status_code == 400 and not_json.json["error"]["code"] == "bad_request"
    anonymous = client.post("/api/v1/posts", json=good, headers=callers["anonymous"].headers)
    assert anonymous.status_code == 401
    with app.app_context():
        assert count(Post) == 0


def test_a_merged_category_finds_the_posts_it_was_merged_into(app, client, callers, make_post):
    karim = callers["coordinator"].member
    make_post(callers["member"].member, "Mending a jacket", category_key="sewing")
    make_post(callers["member"].member, "Soup")
    sewing, repairs = (category_id(app, key, karim.community_id) for key in ("sewing", "repairs"))
    with app.app_context():
        merge_category(
            db.session.get(Category, sewing), db.session.get(Category, repairs), actor=db.session.get(Member, karim.id)
        )
        db.session.commit()
    for category in (sewing, repairs):  # an old link to the market's sewing still finds the jacket
        found = client.get("/api/v1/posts", query_string={"category": category}, headers=callers["member"].headers)
        assert found.status_code == 200 and [p["title"] for p in found.json["items"]] == ["Mending a jacket"]
        assert found.json["items"][0]["category_id"] == repairs


def test_who_sees_a_post(app, client, callers, make_post):
    fatima = callers["member"].member
    post = make_post(fatima, "Soup")
    paused = make_post(fatima, "Paused sewing", status="paused")
    taken_down = make_post(
        fatima,
        "Selling things",
        status="closed",
        closed_by_id=callers["coordinator"].member.id,
        closed_reason="No selling in the time bank.",
    )

    def status(role, post_id):
        return client.get(f"/api/v1/posts/{post_id}", headers=callers[role].headers).status_code

    assert {role: status(role, post.id) for role in callers} == {
        "member": 200,
        "other_member": 200,
        "coordinator": 200,
        "other_coordinator": 404,
        "anonymous": 401,
    }
    assert status("other_member", paused.id) == 200
    assert client.get(f"/api/v1/posts/{paused.id}", headers=callers["other_member"].headers).json["status"] == "paused"
    # A post a coordinator took down: only its owner and the coordinators, as on the web pages.
    assert {role: status(role, taken_down.id) for role in callers} == {
        "member": 200,
        "other_member": 404,
        "coordinator": 200,
        "other_coordinator": 404,
        "anonymous": 401,
    }
    shown = client.get(f"/api/v1/posts/{taken_down.id}", headers=callers["member"].headers).json
    assert (shown["status"], shown["closed_reason"]) == ("closed", "No selling in the time bank.")
    missing = client.get("/api/v1/posts/999999", headers=callers["member"].headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert status("member", 2**31) == 404


def test_only_the_owner_changes_a_post_and_only_what_is_sent(app, client, callers, make_post):
    post = make_post(callers["member"].member, "Soup", minutes=90, description="Lentil soup.")
    before = stored(app, post.id)
    url = f"/api/v1/posts/{post.id}"
    for role, expected in [("other_member", 403), ("coordinator", 403), ("other_coordinator", 404), ("anonymous", 401)]:
        response = client.patch(url, json={"title": "Mine now"}, headers=callers[role].headers)
        assert response.status_code == expected, role
    refused = client.patch(url, json={"title": "Mine now"}, headers=callers["other_member"].headers)
    assert refused.json["error"]["message"] == "This is not your post, so you cannot change it."
    invalid = client.patch(url, json={"title": " ", "minutes": 60}, headers=callers["member"].headers)
    assert invalid.status_code == 422 and list(invalid.json["error"]["fields"]) == ["title"]
    assert stored(app, post.id) == before

    owner = callers["member"].headers
    changed = client.patch(url, json={"title": "Soup for three", "minutes": 120}, headers=owner)
    assert changed.status_code == 200
    assert (changed.json["title"], changed.json["minutes"], changed.json["description"]) == (
        "Soup for three",
        120,
        "Lentil soup.",
    )
    assert stored(app, post.id) == {**before, "title": "Soup for three", "minutes": 120}
    gift = client.patch(url, json={"gift": True}, headers=owner).json
    assert (gift["gift"], gift["minutes"]) == (True, 0)
    untimed = client.patch(url, json={"gift": False, "minutes": None}, headers=owner).json
    assert (untimed["gift"], untimed["minutes"]) == (False, None)
    assert client.patch(url, headers=owner).json["title"] == "Soup for three"  # no body: nothing changes


def test_changing_only_the_title_keeps_the_estimated_time(app, client, callers, make_post):
    post = make_post(callers["member"].member, "Soup", minutes=90)
    renamed = client.patch(
        f"/api/v1/posts/{post.id}", json={"title": "Soup for three"}, headers=callers["member"].headers
    )
    assert renamed.status_code == 200 and (renamed.json["minutes"], renamed.json["gift"]) == (90, False)
    assert stored(app, post.id)["minutes"] == 90


def test_a_post_keeps_its_retired_category_but_a_closed_post_is_not_changed(app, client, callers, make_post):
    post = make_post(callers["member"].member, "Soup", category_key="sewing")
    category_id(app, "sewing", retired=True)
    owner = callers["member"].headers
    kept = client.patch(f"/api/v1/posts/{post.id}", json={"title": "Mending"}, headers=owner)
    assert kept.status_code == 200 and kept.json["category_id"] == post.category_id
    with app.app_context():
        db.session.get(Post, post.id).status = "closed"
        db.session.commit()
    closed = client.patch(f"/api/v1/posts/{post.id}", json={"title": "Again"}, headers=owner)
    assert closed.status_code == 409 and closed.json["error"]["code"] == "post_state_conflict"
    assert stored(app, post.id)["title"] == "Mending"


def test_only_the_owner_closes_a_post_and_only_once(app, client, callers, make_post):
    post = make_post(callers["member"].member, "Soup")
    url = f"/api/v1/posts/{post.id}/close"
    for role, expected in [("other_member", 403), ("coordinator", 403), ("other_coordinator", 404), ("anonymous", 401)]:
        assert client.post(url, headers=callers[role].headers).status_code == expected, role
    assert stored(app, post.id)["status"] == "active"
    headers = {**callers["member"].headers, "Idempotency-Key": "close-soup"}
    closed = client.post(url, headers=headers)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert client.post(url, headers=headers).json == closed.json  # a retry: the same answer
    twice = client.post(url, headers=callers["member"].headers)
    assert twice.status_code == 409
    assert twice.json["error"] == {
        "code": "post_state_conflict",
        "message": "This post is closed already.",
        "fields": {},
    }
    assert client.get("/api/v1/posts", headers=callers["other_member"].headers).json["total"] == 0
    assert client.get(f"/api/v1/posts/{post.id}", headers=callers["other_member"].headers).json["status"] == "closed"
