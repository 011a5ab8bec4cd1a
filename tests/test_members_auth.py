"""Brute-force limits, password reset, and every way a member's sessions end."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from argon2 import PasswordHasher

from timebank.db import utcnow
from timebank.extensions import db
from timebank.members import tokens
from timebank.members.models import LoginFailures, Member, MemberToken, SignIn
from timebank.members.passwords import password_problem, verify_password
from timebank.members.tokens import issue_token

from .conftest import PASSWORD, count, link_in, login, mails, make_app
from .stats_scenario import Clock

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a brand new passphrase"


def fail_login(client, email, address="10.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": "wrong password"}, environ_base={"REMOTE_ADDR": address}, headers=EN
    )


def test_failures_per_account_ask_a_growing_wait_but_leave_other_accounts_alone(app, client, member, make_member):
    for i in range(5):
        assert fail_login(client, member.email, address=f"10.0.0.{i}").status_code == 200
    waits = client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
        headers=EN,
    )
    assert waits.status_code == 429 and "Please wait 1 minute" in waits.text
    other = make_member("Jan")
    assert login(client, other).status_code == 302  # other accounts are not affected
    with app.app_context():
        db.session.execute(sa.update(LoginFailures).values(last_failed_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    assert fail_login(app.test_client(), member.email, address="10.0.1.1").status_code == 200
    longer = app.test_client().post(
        "/login",
        data={"email": member.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.8"},
        headers=EN,
    )
    assert longer.status_code == 429 and "Please wait 2 minutes" in longer.text


def test_ten_failures_per_address_block_that_address(client, member, make_member):
    for i in range(10):
        fail_login(client, f"nobody{i}@example.org", address="10.0.0.7")
    blocked = client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
        headers=EN,
    )
    assert blocked.status_code == 429
    elsewhere = client.post(
        "/login", data={"email": member.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.8"}
    )
    assert elsewhere.status_code == 302


def test_behind_a_proxy_each_visitor_is_counted_by_their_own_address(db_url, member):
    client = make_app(db_url, TRUSTED_PROXIES=1).test_client()

    def attempt(visitor, email, password):
        return client.post(
            "/login",
            data={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": visitor},
        )

    for i in range(10):
        attempt("203.0.113.7", f"nobody{i}@example.org", "wrong password")
    assert attempt("203.0.113.7", member.email, PASSWORD).status_code == 429
    assert attempt("198.51.100.2", member.email, PASSWORD).status_code == 302


def test_successful_logins_do_not_count(client, member):
    for _ in range(12):
        assert login(client, member).status_code == 302
        client.post("/logout")


def test_429_page_is_translated(client, member):
    for i in range(10):
        fail_login(client, f"nobody{i}@example.org")
    page = client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers={"Accept-Language": "nl"},
    )
    assert page.status_code == 429 and "Te vaak geprobeerd" in page.text


def test_each_new_app_starts_with_fresh_counts(db_url, member):
    first = make_app(db_url).test_client()
    for i in range(10):
        fail_login(first, f"nobody{i}@example.org")
    assert fail_login(first, member.email).status_code == 429
    assert fail_login(make_app(db_url).test_client(), member.email).status_code == 200


@pytest.fixture
def redis_url():
    url = "redis://127.0.0.1:6379/0"
    server = redis.Redis.from_url(url)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"timebank-test-{uuid.uuid4().hex}"
    yield url, prefix
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)
    server.close()


def test_limits_are_shared_through_redis_between_processes(db_url, member, redis_url):
    url, prefix = redis_url
    config = {"RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix}
    first = make_app(db_url, **config).test_client()
    for i in range(10):
        fail_login(first, f"nobody{i}@example.org")
    second_worker = make_app(db_url, **config).test_client()
    assert fail_login(second_worker, member.email).status_code == 429
    assert any(redis.Redis.from_url(url).scan_iter(f"*{prefix}*"))


def test_password_reset_by_emailed_link(app, client, member):
    other_device = app.test_client()
    login(other_device, member)
    response = client.post("/password/forgot", data={"email": member.email}, headers=EN, follow_redirects=True)
    assert "If there is an account with this address, we sent a link" in response.text
    with app.app_context():
        path = link_in(mails(to=member.email, kind="password_reset")[0].body_text)
    assert "Choose a new password" in client.get(path, headers=EN).text
    weak = client.post(path, data={"password": "12345678"}, headers=EN)
    assert "Many people use this password" in weak.text  # and the link still works:
    done = client.post(path, data={"password": NEW_PASSWORD}, headers=EN, follow_redirects=True)
    assert "Your new password is saved" in done.text
    assert "used already" in client.post(path, data={"password": "another new passphrase"}, headers=EN).text
    with app.app_context():
        stored = db.session.get(Member, member.id)
        assert verify_password(stored.password_hash, NEW_PASSWORD)
        assert mails(to=member.email, kind="password_changed")
    assert other_device.get("/settings").status_code == 302  # that session ended
    assert login(client, member, NEW_PASSWORD).status_code == 302


def test_reset_link_expires(app, client, member):
    client.post("/password/forgot", data={"email": member.email})
    with app.app_context():
        path = link_in(mails(to=member.email, kind="password_reset")[0].body_text)
        token = db.session.scalar(sa.select(MemberToken).where(MemberToken.purpose == "reset"))
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.post(path, data={"password": NEW_PASSWORD}, headers=EN)
    assert page.status_code == 410 and "This link has expired" in page.text
    with app.app_context():
        assert verify_password(db.session.get(Member, member.id).password_hash, PASSWORD)


def test_reset_for_unknown_address_says_the_same_and_sends_nothing(app, client, community):
    page = client.post("/password/forgot", data={"email": "nobody@example.org"}, headers=EN, follow_redirects=True)
    assert "If there is an account with this address" in page.text
    with app.app_context():
        assert mails() == []


def test_asking_for_many_links_is_limited(client, member):
    statuses = [client.post("/password/forgot", data={"email": member.email}).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]


# Sessions end on: password change, log out everywhere, suspension, erasure.


@pytest.fixture
def two_devices(app, member):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, member)
    login(laptop, member)
    assert phone.get("/settings").status_code == laptop.get("/settings").status_code == 200
    return phone, laptop


def test_changing_the_password_ends_the_other_sessions(app, member, two_devices):
    phone, laptop = two_devices
    wrong = phone.post(
        "/settings/password", data={"current_password": "not it", "new_password": NEW_PASSWORD}, headers=EN
    )
    assert "This is not your current password." in wrong.text
    assert laptop.get("/settings").status_code == 200
    phone.post("/settings/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert phone.get("/settings").status_code == 200  # this device stays logged in
    assert laptop.get("/settings").status_code == 302


def test_guessing_the_current_password_counts_as_failed_logins(app, client, member):
    login(client, member)
    for _ in range(10):
        guess = client.post("/settings/password", data={"current_password": "guess", "new_password": NEW_PASSWORD})
        assert guess.status_code == 200
    assert (
        client.post("/settings/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD}).status_code
        == 429
    )
    # Someone with a stolen session guesses here: the member can still log in elsewhere.
    assert (
        app.test_client()
        .post("/login", data={"email": member.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        .status_code
        == 302
    )
    with app.app_context():
        assert verify_password(db.session.get(Member, member.id).password_hash, PASSWORD)


def test_log_out_everywhere_ends_every_session(member, two_devices):
    phone, laptop = two_devices
    phone.post("/settings/logout-everywhere")
    assert phone.get("/settings").status_code == 302 and laptop.get("/settings").status_code == 302


def test_remember_me_cookie_stops_working_too(app, member):
    device = app.test_client()
    device.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    device.delete_cookie("session", domain="localhost")  # the browser was closed
    assert device.get("/settings").status_code == 200  # remembered
    other = app.test_client()
    login(other, member)
    other.post("/settings/logout-everywhere")
    device.delete_cookie("session", domain="localhost")
    assert device.get("/settings").status_code == 302


def test_suspension_ends_every_session(app, client, make_member, member, two_devices):
    phone, laptop = two_devices
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    client.post(f"/coordinate/members/{member.id}/suspend", data={"reason": "Did not show up three times."})
    assert phone.get("/settings").status_code == 302 and laptop.get("/settings").status_code == 302
    with app.app_context():
        assert db.session.get(Member, member.id).status == "suspended"


def test_erasure_ends_every_session(app, client, make_member, member, two_devices):
    phone, _laptop = two_devices
    login(client, make_member("Karim", role="coordinator"))
    client.post(f"/coordinate/members/{member.id}/erase", data={"confirm": "yes"})
    assert phone.get("/settings").status_code == 302


def test_password_hash_is_upgraded_on_login_when_parameters_change(app, client, member):
    with app.app_context():
        stored = db.session.get(Member, member.id)
        stored.password_hash = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(PASSWORD)
        old = stored.password_hash
        db.session.commit()
    login(client, member)
    with app.app_context():
        assert db.session.get(Member, member.id).password_hash != old


def test_a_reset_link_works_as_long_as_the_email_says_and_no_longer(app, client, member, monkeypatch):
    clock = Clock(monkeypatch)
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    client.post("/password/forgot", data={"email": member.email})
    with app.app_context():
        email = mails(to=member.email, kind="password_reset")[0].body_text
    minutes = app.config["RESET_LINK_MINUTES"]
    assert f"{minutes} minut" in email  # minutes, minuten
    path = link_in(email)
    clock.set(clock.now + timedelta(minutes=minutes - 1))
    assert "Choose a new password" in client.get(path, headers=EN).text
    clock.set(clock.now + timedelta(minutes=1))
    assert client.post(path, data={"password": NEW_PASSWORD}, headers=EN).status_code == 410


def test_two_clicks_at_the_same_moment_use_a_link_once(app, member, monkeypatch):
    """Both clicks found the link unused; the one that comes second must not use it again."""
    with app.test_request_context(headers=EN):
        raw = issue_token(db.session.get(Member, member.id), "reset")
        db.session.commit()
        seen_unused = tokens.check_token(raw, "reset")
        assert tokens.use_token(raw, "reset").id == member.id
        monkeypatch.setattr(tokens, "check_token", lambda *_: seen_unused)
        with pytest.raises(tokens.TokenError, match="used already"):
            tokens.use_token(raw, "reset")


def test_wrong_passwords_are_forgotten_after_a_quiet_day(app, client, member):
    for i in range(5):
        fail_login(client, member.email, address=f"10.0.0.{i}")
    with app.app_context():
        db.session.execute(sa.update(LoginFailures).values(last_failed_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    fail_login(client, member.email, address="10.0.0.9")  # the first of a new day
    again = app.test_client().post(
        "/login", data={"email": member.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert again.status_code == 302


def test_no_reset_link_for_a_paused_member(app, client, make_member):
    paused = make_member("Piet", status="suspended")
    page = client.post("/password/forgot", data={"email": paused.email}, headers=EN, follow_redirects=True)
    assert "If there is an account with this address" in page.text
    with app.app_context():
        assert mails() == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * 7, "at least 8 characters"),
        ("a long passphrase " * 57, "at most 1024 characters"),  # 1,026: the hashing cost is not for abuse
        ("password1", "Many people use this password"),
        ("Fatima Benali", "your name or email address"),
        ("fatima.benali", "your name or email address"),  # the address before the @
        ("FATIMA.BENALI@EXAMPLE.ORG", "your name or email address"),
        ("soup on thursdays", None),
    ],
)
def test_a_new_password_is_refused_only_for_a_reason_a_person_understands(app, password, problem):
    with app.test_request_context(headers=EN):
        found = password_problem(password, name="Fatima Benali", email="fatima.benali@example.org")
        assert (problem in str(found)) if problem else found is None


def test_keep_me_logged_in_lasts_thirty_days_and_no_longer(app, member, monkeypatch):
    """Whatever the browser keeps: the sign-in behind its cookie is too old after 30 days."""
    clock = Clock(monkeypatch)
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    device = app.test_client()
    device.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    clock.set(clock.now + app.config["REMEMBER_COOKIE_DURATION"] - timedelta(minutes=1))
    assert device.get("/settings").status_code == 200
    clock.set(clock.now + timedelta(minutes=2))
    assert device.get("/settings").status_code == 302


def test_the_daily_prune_forgets_expired_logins_and_links_of_members_who_never_come_back(
    app, runner, member, monkeypatch
):
    clock = Clock(monkeypatch)
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    clock.set(start)
    gone, kept = app.test_client(), app.test_client()
    gone.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})
    with app.app_context():
        unconfirmed = issue_token(db.session.get(Member, member.id), "email", new_email="new.plan@example.org")
        db.session.commit()
    clock.set(start + timedelta(days=29))
    kept.post("/login", data={"email": member.email, "password": PASSWORD, "remember": "y"})

    clock.set(start + timedelta(days=31))
    with app.app_context():
        undo = issue_token(db.session.get(Member, member.id), "undo_email", new_email="old.address@example.org")
        db.session.commit()
    result = runner.invoke(args=["members", "prune-sign-ins"])
    assert "1 expired logins and 0 emailed links" in result.output
    assert kept.get("/settings").status_code == 200 and gone.get("/settings").status_code == 302
    with app.app_context():
        assert count(SignIn) == 1
        addresses = db.session.scalars(sa.select(MemberToken.new_email).order_by(MemberToken.id)).all()
        assert addresses == [None, "old.address@example.org"]  # the expired link forgot its address
        with app.test_request_context(headers=EN), pytest.raises(tokens.TokenError, match="expired"):
            tokens.check_token(unconfirmed, "email")

    clock.set(start + timedelta(days=31 + app.config["UNDO_EMAIL_CHANGE_LINK_DAYS"] + 91))
    result = runner.invoke(args=["members", "prune-sign-ins"])
    assert "1 expired logins and 2 emailed links" in result.output
    with app.app_context():
        assert count(MemberToken) == 0
        with app.test_request_context(headers=EN), pytest.raises(tokens.TokenError, match="does not work"):
            tokens.check_token(undo, "undo_email")
