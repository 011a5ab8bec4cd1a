"""Attacks on the pages from the security review (issue 11), each reproduced and shown harmless:
a grant to oneself through the page, a decompression bomb, the photo of a taken-down post, unsafe
`next` addresses."""

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from timebank.exchanges import transfers
from timebank.extensions import db
from timebank.ledger.models import Transaction
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.uploads.models import Image

from .conftest import PASSWORD, count, login
from .test_market_posts import offer_form, posts

EN = {"Accept-Language": "en"}


def request_key(page) -> str:
    return re.search(r'name="request_key" type="hidden" value="(\w+)"', page.text).group(1)


def test_the_grant_page_refuses_a_grant_to_oneself(app, client, make_member):
    karim, jan = make_member("Karim", role="coordinator"), make_member("Jan")
    with app.app_context():
        transfers.give_hours(
            db.session.get(Member, jan.id), None, 120, "For the fund", actor=db.session.get(Member, jan.id)
        )
        db.session.commit()
    login(client, karim)
    key = request_key(client.get(f"/exchanges/grant?to={karim.id}", headers=EN))
    refused = client.post(
        f"/exchanges/grant?to={karim.id}", data={"hours": "1", "reason": "Me", "request_key": key}, headers=EN
    )
    assert refused.status_code == 422 and "would go into your own account" in refused.text
    with app.app_context():
        assert count(Transaction) == 1


def bomb() -> bytes:
    """An 8,900 × 8,900 PNG of a few hundred KB: 79 million pixels once decoded."""
    out = io.BytesIO()
    PILImage.new("1", (8900, 8900)).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app, client, make_member):
    data = bomb()
    assert len(data) < 400_000
    login(client, make_member("Fatima"))
    form = offer_form(app, photo=(io.BytesIO(data), "holiday.png"))
    response = client.post("/market/offers/new", headers=EN, data=form, content_type="multipart/form-data")
    assert response.status_code == 422 and "too many pixels" in response.text
    assert posts(app) == []
    with app.app_context():
        assert count(Image) == 0


def test_the_photo_of_a_taken_down_post_is_not_served(app, client, make_member):
    owner, neighbour = make_member("Fatima"), make_member("Jan")
    karim = make_member("Karim", role="coordinator")
    login(client, owner)
    photo = io.BytesIO()
    PILImage.new("RGB", (40, 30), "red").save(photo, "PNG")
    photo.seek(0)
    client.post(
        "/market/offers/new", data=offer_form(app, photo=(photo, "soup.png")), content_type="multipart/form-data"
    )
    with app.app_context():
        post = db.session.scalar(sa.select(Post))
        post_id, image_id = post.id, post.image_id
    client.post("/logout")
    login(client, karim)
    client.post(f"/market/posts/{post_id}/moderate", data={"reason": "Selling medicine"})
    assert client.get(f"/images/{image_id}").status_code == 200  # coordinators still see it
    client.post("/logout")
    login(client, neighbour)
    assert client.get(f"/images/{image_id}").status_code == 404
    client.post("/logout")
    login(client, owner)
    assert client.get(f"/images/{image_id}").status_code == 200  # the owner sees why it was taken down


@pytest.mark.parametrize(
    "target",
    ["/\\evil.com", "//evil.com", "https://evil.com/", "/ok\r\nSet-Cookie: x=1", "/\tevil", "javascript:alert(1)"],
)
def test_next_addresses_never_lead_off_the_site(client, make_member, target):
    member = make_member("Fatima")
    response = client.post(
        "/login", query_string={"next": target}, data={"email": member.email, "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    language = client.post("/language", data={"locale": "en", "next": target})
    assert language.status_code == 302 and language.headers["Location"] == "/"


def test_the_undo_page_does_not_link_to_another_site(app, client, make_member):
    karim, jan, fatima = make_member("Karim", role="coordinator"), make_member("Jan"), make_member("Fatima")
    with app.app_context():
        gift = transfers.give_hours(
            db.session.get(Member, jan.id), db.session.get(Member, fatima.id), 30, actor=db.session.get(Member, jan.id)
        )
        db.session.commit()
        gift_id = gift.id
    login(client, karim)
    page = client.get(f"/account/transactions/{gift_id}/undo", query_string={"next": "/\\evil.com"})
    assert page.status_code == 200 and '<input type="hidden" name="next" value="/">' in page.text
    assert 'href="/\\evil.com"' not in page.text and 'value="/\\evil.com"' not in page.text


def cookies_of(client) -> dict:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def signed_in_with(app, cookies: dict) -> bool:
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value)
    return "Hello" in fresh.get("/", headers=EN).text


@pytest.mark.parametrize("how", ["logout", "everywhere"])
def test_logging_out_ends_the_session_and_the_remember_cookie_on_the_server(app, client, make_member, how):
    member = make_member("Fatima")
    client.post("/login", data={"email": member.email, "password": "correct horse battery", "remember": "y"})
    cookies = cookies_of(client)
    assert {"session", "remember_token"} <= set(cookies)
    assert signed_in_with(app, cookies)
    assert signed_in_with(app, {"remember_token": cookies["remember_token"]})
    client.post("/logout" if how == "logout" else "/settings/logout-everywhere")
    assert not signed_in_with(app, cookies)
    assert not signed_in_with(app, {"session": cookies["session"]})
    assert not signed_in_with(app, {"remember_token": cookies["remember_token"]})


def test_logging_out_one_browser_leaves_the_others(app, make_member):
    member = make_member("Fatima")
    phone, laptop = app.test_client(), app.test_client()
    for browser in (phone, laptop):
        browser.post("/login", data={"email": member.email, "password": "correct horse battery"})
    phone.post("/logout")
    assert "Hello" in laptop.get("/", headers=EN).text and "Hello" not in phone.get("/", headers=EN).text


def test_a_reset_link_dies_when_the_password_is_changed_another_way(app, client, make_member):
    from .conftest import link_in, mails

    member = make_member("Fatima")
    client.post("/password/forgot", data={"email": member.email})
    with app.app_context():
        link = link_in(mails(kind="password_reset")[-1].body_text)
    login(client, member)
    client.post(
        "/settings/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "a brand new secret 42",
            "new_password_again": "a brand new secret 42",
        },
    )
    client.post("/logout")
    response = client.post(
        link, data={"password": "stolen password 77", "password_again": "stolen password 77"}, headers=EN
    )
    assert response.status_code == 410 and "used already" in response.text
    assert client.post("/login", data={"email": member.email, "password": "stolen password 77"}).status_code == 200


def test_guessing_from_many_addresses_does_not_lock_the_member_out(app, make_member):
    member = make_member("Fatima")
    home = app.test_client()
    assert home.post("/login", data={"email": member.email, "password": "correct horse battery"}).status_code == 302
    home.post("/logout")
    thief = app.test_client()  # a browser known to the app, but for the thief's own account
    assert thief.post("/login", data={"email": make_member("Jan").email, "password": PASSWORD}).status_code == 302
    thief.post("/logout")
    for number in range(12):
        thief.post(
            "/login",
            data={"email": member.email, "password": f"guess {number}"},
            environ_base={"REMOTE_ADDR": f"10.1.0.{number}"},
        )
    # The account now asks to wait: even the right password from a new browser must wait…
    stranger = app.test_client().post(
        "/login",
        data={"email": member.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "10.2.0.1"},
        headers=EN,
    )
    assert stranger.status_code == 429 and "Please wait" in stranger.text
    # …and so must the thief's browser, although it is known for his own account…
    known_elsewhere = thief.post(
        "/login",
        data={"email": member.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "10.2.0.2"},
        headers=EN,
    )
    assert known_elsewhere.status_code == 429
    # …but Fatima's own phone, which she logged in with before, still gets in.
    own = home.post(
        "/login",
        data={"email": member.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "10.3.0.1"},
    )
    assert own.status_code == 302
    # And after the right password the count starts afresh for everyone.
    fresh = app.test_client().post(
        "/login",
        data={"email": member.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "10.4.0.1"},
    )
    assert fresh.status_code == 302


def test_the_api_asks_to_wait_after_many_wrong_passwords(app, client, make_member):
    member = make_member("Fatima")
    for number in range(6):
        client.post(
            "/api/v1/tokens",
            json={"email": member.email, "password": f"guess {number}"},
            environ_base={"REMOTE_ADDR": f"10.5.0.{number}"},
        )
    refused = client.post(
        "/api/v1/tokens",
        json={"email": member.email, "password": "correct horse battery"},
        environ_base={"REMOTE_ADDR": "10.6.0.1"},
        headers=EN,
    )
    assert refused.status_code == 429 and "Please wait" in refused.json["error"]["message"]


def test_joining_does_not_tell_whether_an_address_has_an_account(app, client, make_member):
    member = make_member("Fatima")
    form = {"name": "Someone", "password": "zomer aan de gracht", "locale": "en", "accept_rules": "y"}
    taken = client.post("/join/buurt", data={**form, "email": member.email.upper()}, headers=EN)
    new = app.test_client().post("/join/buurt", data={**form, "email": "new@example.org"}, headers=EN)
    assert taken.status_code == new.status_code == 302
    assert taken.headers["Location"] == new.headers["Location"]
    pages = [
        c.get(r.headers["Location"], headers=EN).text.replace(e, "ADDRESS")
        for c, r, e in ((client, taken, member.email), (app.test_client(), new, "new@example.org"))
    ]
    assert "Please check your email" in pages[0]
    with app.app_context():
        from .conftest import mails

        assert [m.kind for m in mails(to=member.email)] == ["join_address_taken"]
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 2


def test_join_and_reset_emails_are_limited_per_address_and_per_email(app, make_member):
    member = make_member("Fatima")
    limited = [
        app.test_client()
        .post("/password/forgot", data={"email": member.email}, environ_base={"REMOTE_ADDR": f"10.7.0.{n}"})
        .status_code
        for n in range(7)
    ]
    assert limited[:5] == [302] * 5 and limited[5:] == [429, 429]
    form = {"name": "Someone", "password": "zomer aan de gracht", "locale": "en", "accept_rules": "y"}
    joins = [
        app.test_client()
        .post("/join/buurt", data={**form, "email": f"n{n}@example.org"}, environ_base={"REMOTE_ADDR": "10.8.0.1"})
        .status_code
        for n in range(32)
    ]
    assert joins.count(302) == 30 and joins[-1] == 429
