"""The base layout, error pages, security headers, CSRF and the health check."""

import re
import time
from pathlib import Path

import pytest
from flask import abort
from itsdangerous import URLSafeTimedSerializer

from timebank.extensions import db, limiter
from timebank.members.models import Member

from .conftest import PASSWORD, login, make_app


@pytest.fixture
def app_with_failures(db_url):
    """An app with routes that fail in each way a person might meet."""
    app = make_app(db_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/fail/<int:code>")
    def fail(code):
        abort(code)

    @app.route("/crash")
    def crash():
        raise RuntimeError("bug")

    @app.route("/crash-in-the-database")
    def crash_in_the_database():
        db.session.add(Member(community_id=1))  # no name nor email: the database refuses the row
        db.session.flush()

    @app.route("/limited")
    @limiter.limit("1/minute")
    def limited():
        return "ok"

    return app


@pytest.mark.parametrize(
    "code, english, dutch",
    [
        (400, "Something is wrong with that request", "Er is iets mis met dit verzoek"),
        (403, "This is not for you", "Dit is niet voor jou"),
        (404, "Page not found", "Pagina niet gevonden"),
        (405, "That does not work here", "Dat werkt hier niet"),
        (429, "Too many attempts", "Te veel pogingen"),
        (500, "Something went wrong on our side", "Er ging bij ons iets mis"),
        (503, "The time bank is resting for a moment", "De tijdbank rust even uit"),
    ],
)
def test_error_pages_in_both_languages(app_with_failures, code, english, dutch):
    client = app_with_failures.test_client()
    en = client.get(f"/fail/{code}", headers={"Accept-Language": "en"})
    nl = client.get(f"/fail/{code}", headers={"Accept-Language": "nl"})
    assert en.status_code == nl.status_code == code
    assert english in en.text and dutch in nl.text
    assert "Traceback" not in en.text


def test_unknown_page_405_and_crash(app_with_failures):
    client = app_with_failures.test_client()
    assert "Pagina niet gevonden" in client.get("/nowhere", headers={"Accept-Language": "nl"}).text
    wrong_method = client.delete("/healthz")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    crash = client.get("/crash", headers={"Accept-Language": "en"})
    assert crash.status_code == 500 and "It is not your fault" in crash.text and "bug" not in crash.text


def test_a_crash_in_the_database_still_shows_the_calm_page_with_the_menu(app_with_failures, make_member):
    """A statement the database refused leaves the session's transaction unusable; the error page
    must not run the menu's queries in it (a bare "Internal Server Error" in English otherwise)."""
    client = app_with_failures.test_client()
    login(client, make_member("Fatima", locale="nl"))
    crash = client.get("/crash-in-the-database", headers={"Accept-Language": "nl"})
    assert crash.status_code == 500 and "Er ging bij ons iets mis" in crash.text and "Meldingen" in crash.text
    assert client.get("/account").status_code == 200


def test_rate_limited_page_is_plain_429(app_with_failures):
    client = app_with_failures.test_client()
    assert client.get("/limited").status_code == 200
    response = client.get("/limited", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many attempts" in response.text and response.headers["Retry-After"]


def test_api_clients_get_json_errors(app_with_failures):
    client = app_with_failures.test_client()
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert set(response.json["error"]) == {"code", "message", "fields"}
    wants_json = client.get("/fail/403", headers={"Accept": "application/json"})
    assert wants_json.json["error"]["code"] == "forbidden"


def test_database_outage_is_a_calm_503():
    app = make_app(
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        PROPAGATE_EXCEPTIONS=False,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    client = app.test_client()
    page = client.get("/", headers={"Accept-Language": "en"})
    assert page.status_code == 503
    assert "Nothing was lost" in page.text and "Traceback" not in page.text
    assert page.headers["Retry-After"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unreachable"


def test_healthz_pings_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_security_headers_on_every_response(client):
    for response in (client.get("/"), client.get("/nowhere"), client.get("/static/css/app.css")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # only in production


def test_templates_write_no_style_attributes_or_elements():
    """The Content-Security-Policy (style-src 'self', no 'unsafe-inline') makes browsers ignore
    them: a pot's thermometer set its fill with a style attribute and was drawn full at 0 %."""
    root = Path(__file__).resolve().parent.parent / "templates"
    inline = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        for match in re.finditer(r"\sstyle=|<style\b", path.read_text())
    ]
    assert not inline, inline


def test_layout_is_accessible_and_self_contained(client):
    html = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<a class="skip-link" href="#main">' in html
    for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
        assert landmark in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "<script>" not in html and " style=" not in html  # the CSP forbids inline code
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), f"external asset {url}"


def test_static_assets_are_served_locally(client):
    for path in ("/static/css/app.css", "/static/js/app.js", "/static/img/logo.svg"):
        assert client.get(path).status_code == 200


@pytest.fixture
def csrf_app(db_url):
    return make_app(db_url, WTF_CSRF_ENABLED=True)


def expired_token(app, client) -> str:
    """A form token this client's session was given nine hours ago (forms live eight)."""

    class Past(URLSafeTimedSerializer):
        def make_signer(self, salt=None):
            signer = super().make_signer(salt)
            signer.get_timestamp = lambda: int(time.time()) - 9 * 3600
            return signer

    client.get("/login")
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    return Past(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def test_expired_form_keeps_what_was_typed_but_not_the_password(csrf_app, member):
    client = csrf_app.test_client()
    response = client.post(
        "/login",
        data={"email": member.email, "password": PASSWORD, "csrf_token": expired_token(csrf_app, client)},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "Please try again" in response.text
    assert f'value="{member.email}"' in response.text
    assert PASSWORD not in response.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
    retry = client.post("/login", data={"email": member.email, "csrf_token": token})
    assert retry.status_code == 200  # back on the form: the email is kept, only the password is asked again
    assert f'value="{member.email}"' in retry.text and "Please try again" not in retry.text


def test_a_cross_site_form_is_never_rebuilt_behind_a_fresh_token(csrf_app, make_member):
    """One-click CSRF: another site posts a gift to the fund without a token (or with a token of
    another session). The answer must not offer its fields again with a valid token."""
    victim = make_member("Fatima")
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    assert (
        client.post("/login", data={"email": victim.email, "password": PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    attacker = csrf_app.test_client()
    foreign = expired_token(csrf_app, attacker)
    for token in (None, "forged", foreign):
        data = {"hours": "8", "memo": "Thanks", "request_key": "x"} | ({"csrf_token": token} if token else {})
        response = client.post(
            "/exchanges/give?to=fund",
            data=data,
            headers={"Accept-Language": "en"},
            environ_base={"HTTP_REFERER": "https://evil.example/"},
        )
        assert response.status_code == 400
        assert 'name="hours"' not in response.text and "Send again" not in response.text
        assert "Open the page again" in response.text and "evil.example" not in response.text


def test_forms_refuse_posts_without_csrf_token(csrf_app):
    response = csrf_app.test_client().post("/language", data={"locale": "en"})
    assert response.status_code == 400


def test_invisible_nul_character_is_refused_and_changes_nothing(app, client, member):
    """PostgreSQL cannot store NUL; a pasted one must give a clear page, not a crash."""
    from timebank.market.models import Post
    from timebank.members.models import Member

    from .conftest import count, login

    joined = client.post(
        "/join/buurt",
        headers={"Accept-Language": "en"},
        data={
            "name": "Ay\x00şe",
            "email": "ayse@example.org",
            "password": "zomer aan de gracht",
            "locale": "nl",
            "accept_rules": "y",
        },
    )
    assert joined.status_code == 400 and "invisible control character" in joined.get_data(as_text=True)
    login(client, member)
    searched = client.get("/market?q=fiets%00", headers={"Accept-Language": "nl"})
    assert searched.status_code == 400 and "onzichtbaar" in searched.get_data(as_text=True)
    assert client.get("/join/bu%00rt").status_code == 400
    with app.app_context():
        assert count(Member) == 1 and count(Post) == 0


def test_the_menu_keeps_the_daily_pages_in_front_and_the_rest_under_more(client, make_member):
    """On a phone the menu must stay short: the pages a resident uses every day are always shown,
    the others one tap away, and the "More" part is open when one of its pages is the current one."""
    from .conftest import login

    login(client, make_member("Karim", role="coordinator"))
    nav = re.search(
        r'<nav class="site-nav".*?</nav>', client.get("/market", headers={"Accept-Language": "en"}).text, re.S
    ).group(0)
    front, more = nav.split("<details", 1)
    for page in ("Home", "Market", "My exchanges", "Notifications", "My account"):
        assert f">{page}<" in front or f">{page} <" in front
    for page in ("Members", "My profile", "Coordination", "Community fund", "Log out"):
        assert page in more and page not in front
    assert more.startswith(">")  # closed on the market page
    on_settings = client.get("/settings", headers={"Accept-Language": "en"}).text
    assert "<details open>" in on_settings
