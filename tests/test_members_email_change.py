"""Changing one's email address: a link to the new address, notices to the old one."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member, MemberToken

from .conftest import PASSWORD, count, link_in, login, mails

EN = {"Accept-Language": "en"}
NEW = "fatima.new@example.org"


def ask(client, email=NEW, password=PASSWORD, **kwargs):
    return client.post("/settings/email", data={"email": email, "current_password": password}, headers=EN, **kwargs)


def confirmation_link(app, to=NEW) -> str:
    with app.app_context():
        return link_in(mails(to=to, kind="email_change_confirm")[-1].body_text)


def stored(app, member) -> Member:
    with app.app_context():
        return db.session.get(Member, member.id)


def assert_nothing_changed(app, member):
    with app.app_context():
        assert db.session.get(Member, member.id).email == member.email
        assert mails(kind="email_change_confirm") == mails(kind="email_change_requested") == []
        assert count(MemberToken) == 0


@pytest.fixture
def member(make_member):
    return make_member("Fatima", locale="en")


@pytest.fixture
def logged_in(client, member):
    login(client, member)
    return client


def test_new_address_works_after_the_link_is_used_and_the_old_one_no_longer(app, logged_in, member):
    assert "/settings/email" in logged_in.get("/settings", headers=EN).text
    assert f"You log in with {member.email} now" in logged_in.get("/settings/email", headers=EN).text
    sent = ask(logged_in, email="Fatima.New@Example.org", follow_redirects=True)
    assert f"We sent a link to {NEW}" in sent.text
    assert f"You asked to change it to {NEW}" in logged_in.get("/settings/email", headers=EN).text
    with app.app_context():
        notice = mails(to=member.email, kind="email_change_requested")
        assert len(notice) == 1 and NEW in notice[0].body_text and "/email/undo/" in notice[0].body_text
        assert mails(to=member.email, kind="email_change_confirm") == []
    assert stored(app, member).email == member.email  # not before the link is used

    other_device = app.test_client()  # the link is opened elsewhere, not logged in
    path = confirmation_link(app)
    assert f"use {NEW} for your time bank account" in other_device.get(path, headers=EN).text
    assert stored(app, member).email == member.email  # opening the link changes nothing
    done = other_device.post(path, headers=EN, follow_redirects=True)
    assert f"Your email address is now {NEW}" in done.text
    with app.app_context():
        changed = db.session.get(Member, member.id)
        assert changed.email == NEW and changed.email_confirmed_at is not None
        told = mails(to=member.email, kind="email_changed")
        assert len(told) == 1 and NEW in told[0].body_text
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.email_changed"))
        assert (event.actor_id, event.subject_id) == (member.id, member.id)
        assert member.email not in json.dumps(event.details) and NEW not in json.dumps(event.details)

    assert logged_in.get("/settings").status_code == 200  # the session goes on
    refused = other_device.post("/login", data={"email": member.email, "password": PASSWORD}, headers=EN)
    assert refused.status_code == 200 and "do not match" in refused.text
    assert other_device.post("/login", data={"email": NEW, "password": PASSWORD}).status_code == 302


def test_the_member_who_is_logged_in_goes_back_to_the_settings(app, logged_in, member):
    ask(logged_in)
    done = logged_in.post(confirmation_link(app), headers=EN)
    assert done.headers["Location"].endswith("/settings")


def test_wrong_password_is_refused_and_changes_nothing(app, logged_in, member):
    page = ask(logged_in, password="not my password")
    assert page.status_code == 200 and "This is not your current password." in page.text
    assert_nothing_changed(app, member)


@pytest.mark.parametrize("taken", ["own", "other"])
def test_an_address_in_use_is_refused(app, logged_in, member, make_member, taken):
    address = member.email if taken == "own" else make_member("Jan", email="jan@example.org").email
    page = ask(logged_in, email=address.upper())
    expected = (
        "This is your email address already."
        if taken == "own"
        else "There is already an account with this email address."
    )
    assert expected in page.text
    assert_nothing_changed(app, member)


@pytest.mark.parametrize(
    ("address", "status", "message"),
    [
        ("not an address", 200, "Please fill in a valid email address, like name@example.org."),
        ("fatima@", 200, "Please fill in a valid email address, like name@example.org."),
        ("", 200, "Please fill this in."),
        ("fatima@exam\x00ple.org", 400, "invisible control character"),
    ],
)
def test_a_malformed_address_is_refused(app, logged_in, member, address, status, message):
    page = ask(logged_in, email=address)
    assert page.status_code == status and message in page.text
    assert_nothing_changed(app, member)


def test_a_link_works_once(app, logged_in, member):
    ask(logged_in)
    path = confirmation_link(app)
    logged_in.post(path)
    again = logged_in.post(path, headers=EN)
    assert again.status_code == 410 and "This link was used already" in again.text
    with app.app_context():
        assert len(mails(kind="email_changed")) == 1


def test_a_newer_request_cancels_the_older_link(app, logged_in, member):
    ask(logged_in, email="first@example.org")
    older = confirmation_link(app, to="first@example.org")
    ask(logged_in, email="second@example.org")
    refused = logged_in.post(older, headers=EN)
    assert refused.status_code == 410 and "This link was used already" in refused.text
    assert stored(app, member).email == member.email
    logged_in.post(confirmation_link(app, to="second@example.org"))
    assert stored(app, member).email == "second@example.org"
    with app.app_context():  # the cancelled link forgot the address it was for
        assert db.session.scalars(sa.select(MemberToken.new_email).where(MemberToken.purpose == "email")).all() == [
            None,
            None,
        ]


def test_an_expired_link_changes_nothing(app, logged_in, member):
    ask(logged_in)
    with app.app_context():
        token = db.session.scalar(sa.select(MemberToken).where(MemberToken.purpose == "email"))
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = logged_in.post(confirmation_link(app), headers=EN)
    assert page.status_code == 410 and "This link has expired" in page.text
    assert stored(app, member).email == member.email
    assert "You asked to change it" not in logged_in.get("/settings/email", headers=EN).text


def test_tampered_and_foreign_links_do_not_work(app, client, logged_in, member):
    ask(logged_in)
    path = confirmation_link(app)
    client.post("/password/forgot", data={"email": member.email})
    with app.app_context():
        reset_token = link_in(mails(kind="password_reset")[0].body_text).rsplit("/", 1)[1]
    for wrong in (path[:-2] + "xy", path.rsplit("/", 1)[0] + "/" + reset_token):
        page = client.post(wrong, headers=EN)
        assert page.status_code == 410 and "This link does not work" in page.text
    assert stored(app, member).email == member.email


def test_an_address_taken_before_the_link_is_used_stays_with_its_owner(app, logged_in, member, make_member):
    ask(logged_in)
    make_member("Jan", email=NEW)
    page = logged_in.post(confirmation_link(app), headers=EN)
    assert page.status_code == 409 and f"Meanwhile another account uses {NEW}" in page.text
    assert stored(app, member).email == member.email
    with app.app_context():
        assert mails(kind="email_changed") == []
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.email_changed")) is None


def test_mails_are_in_the_members_language(app, client, make_member):
    dutch = make_member("Henk", locale="nl")
    login(client, dutch)
    client.post("/settings/email", data={"email": NEW, "current_password": PASSWORD})
    with app.app_context():
        assert mails(to=NEW)[0].subject == "Bevestig je nieuwe e-mailadres"
        assert mails(to=dutch.email)[0].subject == "Je e-mailadres wordt veranderd"
    client.post(confirmation_link(app))
    with app.app_context():
        assert mails(to=dutch.email, kind="email_changed")[0].subject == "Je e-mailadres is veranderd"


def test_wrong_passwords_are_limited_but_do_not_lock_the_member_out(app, logged_in, member):
    for _ in range(10):
        assert ask(logged_in, password="guess").status_code == 200
    assert ask(logged_in).status_code == 429
    # Guesses with a stolen session are limited, but cannot keep the member from logging in elsewhere.
    elsewhere = app.test_client().post(
        "/login", data={"email": member.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert elsewhere.status_code == 302


def test_not_for_a_coordinator_acting_for_an_assisted_member(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    wilma = make_member("Wilma", email=None, assisted=True)
    login(client, coordinator)
    client.post(f"/coordinate/members/{wilma.id}/act")
    assert "/settings/email" not in client.get("/settings", headers=EN).text
    refused = ask(client, follow_redirects=True)
    assert "Stop acting for Wilma first" in refused.text
    assert stored(app, coordinator).email == coordinator.email and stored(app, wilma).email is None
    with app.app_context():
        assert count(MemberToken) == 0


def test_the_address_asked_for_is_in_the_data_export(app, logged_in, member):
    ask(logged_in)
    document = json.loads(logged_in.post("/settings/data/export.json").data)
    assert document["profile"]["email_change_asked_for"] == NEW
    assert NEW in [mail["to"] for mail in document["mail"]]


def test_sending_links_to_many_addresses_is_limited(logged_in):
    statuses = [ask(logged_in, email=f"new{i}@example.org").status_code for i in range(6)]
    assert statuses == [302] * 5 + [429]
