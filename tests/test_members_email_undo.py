"""'This was not me': the notices to the old address lead back to it and secure the account."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member, MemberToken

from .api import token_headers
from .conftest import PASSWORD, link_in, login, mails

EN = {"Accept-Language": "en"}
NEW = "fatima.new@example.org"
NEW_PASSWORD = "a quiet street at night"


@pytest.fixture
def member(make_member):
    return make_member("Fatima", locale="en")


@pytest.fixture
def coordinator(make_member):
    return make_member("Karim", role="coordinator", locale="en")


@pytest.fixture
def logged_in(client, member):
    """The intruder's session: they know the password."""
    login(client, member)
    return client


def ask(client, email=NEW):
    client.post("/settings/email", data={"email": email, "current_password": PASSWORD})


def confirm(app, client, to=NEW):
    with app.app_context():
        client.post(link_in(mails(to=to, kind="email_change_confirm")[-1].body_text))


def undo_link(app, to, kind) -> str:
    with app.app_context():
        path = link_in(mails(to=to, kind=kind)[-1].body_text)
    assert path.startswith("/email/undo/")
    return path


def stored(app, member) -> Member:
    with app.app_context():
        return db.session.get(Member, member.id)


def actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent.action)
            .where(
                AuditEvent.action.like("member.email_change_%"), AuditEvent.action != "member.email_change_requested"
            )
            .order_by(AuditEvent.id)
        ).all()


def logs_in(app, email, password) -> bool:
    return app.test_client().post("/login", data={"email": email, "password": password}).status_code == 302


def test_a_pending_change_is_cancelled_and_the_account_secured(app, logged_in, member, coordinator):
    api = token_headers(app, member)
    ask(logged_in)
    owner = app.test_client()
    path = undo_link(app, member.email, "email_change_requested")
    page = owner.get(path, headers=EN)
    assert page.status_code == 200 and "Secure my account" in page.text and member.email in page.text
    with app.app_context():  # opening the link changes nothing
        assert db.session.scalar(sa.select(MemberToken.used_at).where(MemberToken.purpose == "undo_email")) is None

    done = owner.post(path, headers=EN)
    assert done.status_code == 302 and "/password/reset/" in done.headers["Location"]
    assert stored(app, member).email == member.email
    with app.app_context():
        refused = owner.post(link_in(mails(to=NEW, kind="email_change_confirm")[0].body_text), headers=EN)
    assert refused.status_code == 410 and "This link was used already" in refused.text
    assert stored(app, member).email == member.email

    assert logged_in.get("/settings").status_code == 302  # the intruder is logged out
    assert owner.get("/api/v1/me", headers=api).status_code == 401
    assert not logs_in(app, member.email, PASSWORD)
    assert actions(app) == ["member.email_change_cancelled"]
    with app.app_context():
        told = mails(to=coordinator.email, kind="email_change_disowned")
        assert len(told) == 1 and "Fatima" in told[0].subject
        assert f"/coordinate/members/{member.id}" in told[0].body_text
        assert member.email not in told[0].body_text and NEW not in told[0].body_text


@pytest.mark.parametrize("notice", ["email_change_requested", "email_changed"])
def test_a_completed_change_is_undone(app, logged_in, member, coordinator, notice):
    ask(logged_in)
    confirm(app, app.test_client())
    assert stored(app, member).email == NEW
    document = json.loads(logged_in.post("/settings/data/export.json").data)
    assert document["profile"]["old_email_addresses_kept_for_undo"] == [member.email]

    owner = app.test_client()
    done = owner.post(undo_link(app, member.email, notice), headers=EN, follow_redirects=True)
    assert f"Your account uses {member.email} and everyone is logged out of it" in done.text
    assert "Choose a new password" in done.text
    restored = stored(app, member)
    assert restored.email == member.email and restored.email_confirmed_at is not None
    assert restored.session_version == member.session_version + 1
    assert logged_in.get("/settings").status_code == 302
    assert not logs_in(app, member.email, PASSWORD)

    owner.post(done.request.path, data={"password": NEW_PASSWORD})
    assert logs_in(app, member.email, NEW_PASSWORD)
    assert not logs_in(app, NEW, NEW_PASSWORD)

    other = "email_changed" if notice == "email_change_requested" else "email_change_requested"
    again = app.test_client().post(undo_link(app, member.email, other), headers=EN)
    assert again.status_code == 410 and "This link was used already" in again.text
    assert actions(app) == ["member.email_changed", "member.email_change_undone"]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.email_change_undone"))
        assert (event.actor_id, event.subject_id) == (member.id, member.id)
        assert member.email not in json.dumps(event.details) and NEW not in json.dumps(event.details)
        assert len(mails(to=coordinator.email, kind="email_change_disowned")) == 1
        assert db.session.scalars(
            sa.select(MemberToken.new_email).where(MemberToken.purpose == "undo_email")
        ).all() == [None, None]


def test_an_old_address_taken_meanwhile_stays_with_its_owner(app, logged_in, member, coordinator, make_member):
    ask(logged_in)
    confirm(app, app.test_client())
    make_member("Jan", email=member.email)
    path = undo_link(app, member.email, "email_changed")
    page = app.test_client().post(path, headers=EN)
    assert page.status_code == 409 and f"Meanwhile another account uses {member.email}" in page.text
    assert "A coordinator of your neighbourhood can help you" in page.text
    assert stored(app, member).email == NEW
    assert logged_in.get("/settings").status_code == 200
    assert logs_in(app, NEW, PASSWORD)
    assert actions(app) == ["member.email_changed"]
    with app.app_context():
        assert mails(kind="email_change_disowned") == []
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(MemberToken.purpose == "undo_email", MemberToken.used_at.is_(None))
            )
            == 2
        )


def test_a_later_change_does_not_silence_the_first_notice(app, logged_in, member):
    """The intruder moves the account twice and uses the link the second notice sent to their own
    first address: the owner's link still brings the account home."""
    ask(logged_in)
    confirm(app, app.test_client())
    ask(logged_in, email="third@example.org")
    confirm(app, app.test_client(), to="third@example.org")
    app.test_client().post(undo_link(app, NEW, "email_changed"))
    assert stored(app, member).email == NEW
    app.test_client().post(undo_link(app, member.email, "email_changed"))
    assert stored(app, member).email == member.email
    assert actions(app) == ["member.email_changed"] * 2 + ["member.email_change_undone"] * 2


@pytest.mark.parametrize("problem", ["used", "expired", "foreign", "tampered"])
def test_links_that_do_not_work_change_nothing(app, logged_in, member, problem):
    ask(logged_in)
    path = undo_link(app, member.email, "email_change_requested")
    if problem == "used":
        app.test_client().post(path)
    elif problem == "expired":
        with app.app_context():
            token = db.session.scalar(sa.select(MemberToken).where(MemberToken.purpose == "undo_email"))
            token.expires_at = utcnow() - timedelta(minutes=1)
            db.session.commit()
    elif problem == "foreign":
        with app.app_context():
            confirm_token = link_in(mails(to=NEW, kind="email_change_confirm")[0].body_text).rsplit("/", 1)[1]
        path = f"/email/undo/{confirm_token}"
    else:
        path = path[:-2] + "xy"
    before = stored(app, member)
    expected = {"used": "This link was used already", "expired": "This link has expired"}.get(
        problem, "This link does not work. Please check"
    )
    for method in ("get", "post"):
        page = getattr(app.test_client(), method)(path, headers=EN)
        assert page.status_code == 410 and expected in page.text
        assert "A coordinator of your neighbourhood can help you" in page.text
    after = stored(app, member)
    assert (after.email, after.session_version, after.password_hash) == (
        before.email,
        before.session_version,
        before.password_hash,
    )
    assert actions(app) == (["member.email_change_cancelled"] if problem == "used" else [])


def test_mails_and_page_are_in_dutch(app, client, make_member):
    henk = make_member("Henk", locale="nl")
    karel = make_member("Karel", role="coordinator", locale="nl")
    login(client, henk)
    ask(client)
    confirm(app, app.test_client())
    with app.app_context():
        for kind in ("email_change_requested", "email_changed"):
            body = mails(to=henk.email, kind=kind)[0].body_text
            assert "Was jij dit niet? Dan kent iemand misschien je wachtwoord." in body
            assert "De link werkt 7 dagen en maar één keer." in body
    path = undo_link(app, henk.email, "email_changed")
    dutch = app.test_client()
    page = dutch.get(path, headers={"Accept-Language": "nl"})
    assert "Dit was ik niet" in page.text and "Beveilig mijn account" in page.text
    done = dutch.post(path, headers={"Accept-Language": "nl"}, follow_redirects=True)
    assert f"Je account gebruikt {henk.email} en iedereen is uitgelogd." in done.text
    with app.app_context():
        told = mails(to=karel.email, kind="email_change_disowned")[0]
        assert told.subject == "Misschien heeft iemand anders het account van Henk gebruikt"
