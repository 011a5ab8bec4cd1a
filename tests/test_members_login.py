"""Signing in and out, and sessions that end when the member's session version changes."""

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member

from .conftest import PASSWORD, login


def test_login_and_logout(client, member):
    page = client.post(
        "/login",
        data={"email": member.email.upper(), "password": PASSWORD},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert f"Hello {member.name}!" in page.text
    out = client.post("/logout", follow_redirects=True, headers={"Accept-Language": "en"})
    assert "You are logged out" in out.text and "Hello" not in out.text


def test_wrong_password_is_refused_in_plain_words(client, member):
    page = client.post(
        "/login", data={"email": member.email, "password": "wrong password"}, headers={"Accept-Language": "nl"}
    )
    assert page.status_code == 200
    assert "horen niet bij elkaar" in page.text


def test_pending_member_is_told_to_wait(client, make_member):
    pending = make_member(status="pending", email_confirmed_at=utcnow())
    page = client.post(
        "/login",
        data={"email": pending.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "Your request is with the coordinators of Onze buurt. You will get an email." in page.text
    assert "Hello" not in client.get("/", headers={"Accept-Language": "en"}).text


def test_login_redirect_stays_on_this_site(client, member):
    response = client.post("/login?next=https://evil.example/", data={"email": member.email, "password": PASSWORD})
    assert "evil.example" not in response.headers["Location"]


def test_bumping_the_session_version_ends_existing_sessions(app, client, member):
    login(client, member)
    assert "Hello" in client.get("/", headers={"Accept-Language": "en"}).text
    with app.app_context():
        db.session.get(Member, member.id).session_version += 1
        db.session.commit()
    assert "Hello" not in client.get("/", headers={"Accept-Language": "en"}).text


def test_suspended_member_is_logged_out(app, client, member):
    login(client, member)
    with app.app_context():
        db.session.get(Member, member.id).status = "suspended"
        db.session.commit()
    assert "Hello" not in client.get("/", headers={"Accept-Language": "en"}).text
