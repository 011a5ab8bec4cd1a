"""Placing, changing and closing posts: through the forms, with every kind of bad input, for
oneself or for an assisted member, and what a coordinator may do."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Category
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.market.models import Post
from timebank.uploads.models import Image
from timebank.uploads.services import upload_folder

from .conftest import count, login, web
from .test_uploads_acting_profile import photo_bytes

EN = {"Accept-Language": "en"}


def category_id(app, key="cooking", community_id=None):
    with app.app_context():
        query = sa.select(Category.id).where(Category.key == key)
        if community_id:
            query = query.where(Category.community_id == community_id)
        return db.session.scalar(query.order_by(Category.id))


def offer_form(app, **changes):
    form = {
        "title": "Soup for two evenings",
        "category_id": str(category_id(app)),
        "description": "Lentil soup.\nI bring it to your door.",
        "time_hours": "1",
        "time_minutes": "30",
        "available_days": ["mon", "sat"],
        "available_parts": ["evening"],
        "available_note": "after 3 pm",
    }
    form.update(changes)
    return form


def posts(app) -> list[Post]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Post).options(sa.orm.joinedload(Post.image))))


def test_member_places_an_offer_that_neighbours_find(app, client, member, make_member):
    login(client, member)
    response = client.post(
        "/market/offers/new",
        headers=EN,
        data=offer_form(app, description="Lentil soup.\n<script>alert(1)</script>"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Your offer is online" in response.text
    [post] = posts(app)
    assert (post.kind, post.minutes, post.owner_id, post.status) == ("offer", 90, member.id, "active")
    assert post.available_days == ["mon", "sat"] and post.available_parts == ["evening"]
    assert post.expires_at - utcnow() > timedelta(weeks=8) - timedelta(minutes=1)
    assert "Lentil soup.<br>\n&lt;script&gt;" in response.text and "<script>alert" not in response.text
    assert "About 1 hour 30 minutes" in response.text and "Monday" in response.text

    client.post("/logout")
    login(client, make_member("Jan"))
    listing = client.get("/market", headers=EN)
    assert "Soup for two evenings" in listing.text and "Fatima" in listing.text
    page = client.get(f"/market/posts/{post.id}", headers=EN)
    assert f"/members/{member.id}" in page.text and "Ask Fatima for this" in page.text


def test_a_gift_is_free(app, client, member):
    login(client, member)
    client.post(
        "/market/offers/new",
        data=offer_form(app, title="Baby stroller to give away", is_gift="y", time_hours="", time_minutes=""),
    )
    [post] = posts(app)
    assert post.is_gift and post.minutes == 0
    assert "Free gift (0 hours)" in client.get(f"/market/posts/{post.id}", headers=EN).text


def test_double_submit_places_one_post(app, client, member):
    login(client, member)
    first = client.post("/market/offers/new", data=offer_form(app))
    second = client.post("/market/offers/new", data=offer_form(app))
    assert first.headers["Location"] == second.headers["Location"]
    assert len(posts(app)) == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"title": "  "}, "Please give your post a short title."),
        ({"title": "x" * 101}, "at most 100 characters; yours has 101"),
        ({"category_id": "999999"}, "Please choose one of the categories in the list."),
        ({"category_id": "fiets"}, "Please choose a category."),
        ({"time_hours": "-2"}, "cannot be less than nothing"),
        ({"time_hours": "25"}, "more than 24 hours"),
        ({"time_hours": "", "time_minutes": "1441"}, "more than 24 hours"),
        ({"time_hours": "anderhalf"}, "Please fill in a whole number"),
        ({"is_gift": "y"}, "A gift is free: please leave the time empty."),
        ({"available_days": ["someday"]}, "Please choose days and times of day from the list."),
        ({"available_note": "n" * 201}, "Please keep this under 200 characters."),
        ({"area_id": "999999"}, "Please choose one of the areas in the list."),
        ({"description": "d" * 4001}, "at most 4000 characters"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(app, client, member, changes, message):
    login(client, member)
    response = client.post("/market/offers/new", headers=EN, data=offer_form(app, **changes))
    assert response.status_code == 422
    assert message in response.text
    assert posts(app) == []
    if "title" not in changes:
        assert 'value="Soup for two evenings"' in response.text  # what was typed is kept
    if "time_hours" in changes:
        assert f'value="{changes["time_hours"]}"' in response.text


def test_retired_and_foreign_categories_are_refused(app, client, member, make_community):
    other = make_community("noord", "Noord")
    with app.app_context():
        db.session.get(Category, category_id(app, "hair")).retired_at = utcnow()
        db.session.commit()
    login(client, member)
    retired = client.post("/market/offers/new", headers=EN, data=offer_form(app, category_id=category_id(app, "hair")))
    assert retired.status_code == 422 and "“Hair” is no longer used" in retired.text
    foreign = client.post(
        "/market/offers/new", headers=EN, data=offer_form(app, category_id=category_id(app, "cooking", other.id))
    )
    assert foreign.status_code == 422 and "Please choose one of the categories" in foreign.text
    assert posts(app) == []


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<html>not a photo</html>", "not a photo we can use"),
        (b"\xff\xd8\xff" + b"x" * (6 * 1024 * 1024), "too large"),
    ],
)
def test_bad_photo_is_refused_and_nothing_is_kept(app, client, member, data, message):
    login(client, member)
    form = offer_form(app, photo=(io.BytesIO(data), "holiday.jpg"))
    response = client.post("/market/offers/new", headers=EN, data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.text
    assert posts(app) == []
    with app.app_context():
        assert count(Image) == 0


def test_photo_goes_with_the_post(app, client, member):
    login(client, member)
    form = offer_form(app, photo=(io.BytesIO(photo_bytes("PNG", (80, 60))), "soup.png"))
    client.post("/market/offers/new", data=form, content_type="multipart/form-data")
    [post] = posts(app)
    assert post.image.width == 80
    page = client.get(f"/market/posts/{post.id}")
    assert f'src="/images/{post.image_id}"' in page.text
    assert client.get(f"/images/{post.image_id}").status_code == 200
    replaced = offer_form(app, photo=(io.BytesIO(photo_bytes("PNG", (40, 30))), "soup.png"))
    client.post(f"/market/posts/{post.id}/edit", data=replaced, content_type="multipart/form-data")
    assert posts(app)[0].image.width == 40
    with app.app_context():  # the old photo and its file are gone
        assert count(Image) == 1 and len(list(upload_folder().iterdir())) == 1
    refused = offer_form(app, photo=(io.BytesIO(b"<html>not a photo</html>"), "soup.png"))
    client.post(f"/market/posts/{post.id}/edit", data=refused, content_type="multipart/form-data")
    assert client.get(f"/images/{posts(app)[0].image_id}").status_code == 200  # a bad upload keeps the old one
    client.post(f"/market/posts/{post.id}/edit", data=offer_form(app, remove_photo="y"))
    assert posts(app)[0].image_id is None
    with app.app_context():
        assert count(Image) == 0 and not any(upload_folder().iterdir())


def test_owner_edits_pauses_resumes_renews_and_closes(app, client, member, make_post):
    post = make_post(member, title="Soup", minutes=60, expires_at=utcnow() + timedelta(days=3))
    login(client, member)
    edit = client.get(f"/market/posts/{post.id}/edit")
    assert 'value="Soup"' in edit.text and 'name="time_hours" type="text" value="1"' in edit.text
    client.post(f"/market/posts/{post.id}/edit", data=offer_form(app, title="Fresh soup"))
    assert posts(app)[0].title == "Fresh soup"

    def act(action):
        return client.post(f"/market/posts/{post.id}/{action}", headers=EN, follow_redirects=True)

    assert "Your post is paused" in act("pause").text
    assert "Fresh soup" not in client.get("/market").text
    assert "Only a post that is online can be paused" in act("pause").text
    assert "back online" in act("resume").text and "Fresh soup" in client.get("/market").text
    act("renew")
    assert posts(app)[0].expires_at - utcnow() > timedelta(weeks=8) - timedelta(minutes=1)
    assert "Your post is closed" in act("close").text
    assert "Fresh soup" not in client.get("/market").text
    assert "A closed post cannot be renewed" in act("renew").text
    assert client.post(f"/market/posts/{post.id}/edit", data=offer_form(app)).status_code == 422
    assert posts(app)[0].status == "closed"
    assert "Fresh soup" in client.get("/market/mine").text  # it stays in the owner's history


def test_someone_elses_post_cannot_be_changed(app, client, member, make_member, make_post, make_community):
    post = make_post(member)
    neighbour = make_member("Jan")
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    login(client, neighbour)
    for action in ("pause", "close", "renew"):
        refused = client.post(f"/market/posts/{post.id}/{action}", headers=EN)
        assert refused.status_code == 403 and "This is not your post" in refused.text
    assert client.get(f"/market/posts/{post.id}/edit").status_code == 403
    assert client.post(f"/market/posts/{post.id}/edit", data=offer_form(app, title="Mine now")).status_code == 403
    client.post("/logout")
    login(client, stranger)
    assert client.get(f"/market/posts/{post.id}").status_code == 404
    assert client.post(f"/market/posts/{post.id}/close").status_code == 404
    assert client.get("/market/posts/999999").status_code == 404
    [unchanged] = posts(app)
    assert (unchanged.status, unchanged.title) == ("active", post.title)


def test_coordinator_places_and_renews_posts_for_an_assisted_member(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    assisted = make_member("Wilma", assisted=True, email=None)
    login(client, coordinator)
    with client.session_transaction() as session:
        session["acting_for"] = assisted.id
    form_page = client.get("/market/requests/new", headers=EN)
    assert "You are doing this for Wilma" in form_page.text
    client.post(
        "/market/requests/new",
        data=offer_form(app, title="Company on Tuesdays", category_id=category_id(app, "elderly")),
    )
    [post] = posts(app)
    assert post.owner_id == assisted.id and post.kind == "request"
    client.post(f"/market/posts/{post.id}/renew")
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.on_behalf_of_id).order_by(AuditEvent.id)
        ).all()
    assert [tuple(e) for e in events] == [
        ("post.created", coordinator.id, assisted.id),
        ("post.renewed", coordinator.id, assisted.id),
    ]

    with client.session_transaction() as session:
        session.pop("acting_for")
    assert client.post(f"/market/posts/{post.id}/close").status_code == 403  # only while acting for Wilma


def test_own_posts_leave_no_audit_trail(app, client, member, make_post):
    post = make_post(member)
    login(client, member)
    client.post(f"/market/posts/{post.id}/pause")
    with app.app_context():
        assert count(AuditEvent) == 0


def test_a_post_taken_out_of_the_market_takes_its_photo_with_it(app, client, member, make_member):
    login(client, member)
    form = offer_form(app, photo=(io.BytesIO(photo_bytes("PNG", (80, 60))), "car.png"))
    client.post("/market/offers/new", data=form, content_type="multipart/form-data")
    [post] = posts(app)
    photo = f"/images/{post.image_id}"
    neighbour, coordinator = web(app, make_member("Jan")), web(app, make_member("Karim", role="coordinator"))
    assert neighbour.get(photo).status_code == 200
    coordinator.post(f"/market/posts/{post.id}/moderate", data={"reason": "Selling for money is not allowed."})
    assert neighbour.get(photo).status_code == 404
    assert (client.get(photo).status_code, coordinator.get(photo).status_code) == (200, 200)


def test_coordinator_takes_a_post_out_and_the_owner_sees_why(app, client, member, make_member, make_post):
    post = make_post(member, title="Selling my old car for 500 euro")
    coordinator = make_member("Karim", role="coordinator")
    neighbour = make_member("Jan")
    login(client, neighbour)
    assert client.post(f"/market/posts/{post.id}/moderate", data={"reason": "no"}).status_code == 403
    client.post("/logout")
    login(client, coordinator)
    empty = client.post(f"/market/posts/{post.id}/moderate", headers=EN, data={"reason": " "})
    assert empty.status_code == 422 and "Please write why" in empty.text and posts(app)[0].status == "active"
    client.post(f"/market/posts/{post.id}/moderate", data={"reason": "Selling for money is not allowed."})
    [closed] = posts(app)
    assert (closed.status, closed.closed_by_id) == ("closed", coordinator.id)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        assert (event.action, event.actor_id, event.on_behalf_of_id, event.reason) == (
            "post.moderated",
            coordinator.id,
            member.id,
            "Selling for money is not allowed.",
        )
        mail = db.session.scalar(sa.select(OutboxMessage))
        assert mail.member_id == member.id and "Selling for money is not allowed." in mail.body_text
    client.post("/logout")
    login(client, neighbour)
    assert client.get(f"/market/posts/{post.id}").status_code == 404
    client.post("/logout")
    login(client, member)
    page = client.get(f"/market/posts/{post.id}", headers=EN)
    assert "A coordinator took this post out of the market" in page.text
    assert "Selling for money is not allowed." in page.text


def test_coordinator_puts_a_wrongly_closed_post_back(app, client, member, make_member, make_post):
    post = make_post(member, title="Lending my ladder", expires_at=utcnow() + timedelta(days=2))
    coordinator = make_member("Karim", role="coordinator")
    neighbour = make_member("Jan")
    login(client, coordinator)
    not_yet = client.post(f"/market/posts/{post.id}/reinstate", headers=EN, follow_redirects=True)
    assert "Only a post that a coordinator took out of the market can be put back." in not_yet.text
    client.post(f"/market/posts/{post.id}/moderate", data={"reason": "Looks like a sale."})
    assert "Put it back in the market" in client.get(f"/market/posts/{post.id}", headers=EN).text
    client.post("/logout")
    login(client, neighbour)
    assert client.post(f"/market/posts/{post.id}/reinstate").status_code == 404  # taken down: hidden from him
    client.post("/logout")
    login(client, coordinator)
    done = client.post(f"/market/posts/{post.id}/reinstate", headers=EN, follow_redirects=True)
    assert "The post is back in the market." in done.text
    [back] = posts(app)
    assert (back.status, back.closed_by_id, back.closed_reason) == ("active", None, "")
    assert back.expires_at > utcnow() + timedelta(weeks=7)  # a full period from today
    with app.app_context():
        assert (
            db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "post.reinstated"
        )
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "market_post_reinstated"))
        assert mail.member_id == member.id and "Karim" in mail.body_text
    client.post("/logout")
    login(client, neighbour)
    assert "Lending my ladder" in client.get("/market", headers=EN).text
