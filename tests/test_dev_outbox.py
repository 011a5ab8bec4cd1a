"""Development only: email that is not sent is printed with its links to the console, and shown
at /dev/outbox, so that a newcomer trying `make run` can confirm an account. Never in production."""

import pytest

from timebank.extensions import db

from .conftest import make_app

EN = {"Accept-Language": "en"}
JOIN = {
    "name": "Ayşe",
    "email": "ayse@example.org",
    "password": "zomer aan de gracht",
    "locale": "en",
    "accept_rules": "y",
}


@pytest.fixture
def dev_app(db_url, community):
    app = make_app(db_url, DEV_OUTBOX=True)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_joining_in_development_prints_the_link_and_shows_it_in_the_browser(dev_app, capsys):
    client = dev_app.test_client()
    assert client.post("/join/buurt", data=JOIN, headers=EN).status_code == 302
    printed = capsys.readouterr().err
    assert "email (development: not sent) to ayse@example.org: Please confirm your email address" in printed
    link = printed.split("link: ", 1)[1].split()[0]
    assert "/confirm/" in link and "all email: http://localhost/dev/outbox" in printed
    page = client.get("/dev/outbox", headers=EN).text
    assert "Please confirm your email address" in page and f'<a href="{link}">{link}</a>' in page
    assert client.post(link.replace("http://localhost", ""), headers=EN).status_code == 302  # the link works


def test_a_refused_join_prints_nothing(dev_app, capsys):
    page = dev_app.test_client().post("/join/buurt", data={**JOIN, "password": "short"}, headers=EN)
    assert page.status_code == 200 and "email (development" not in capsys.readouterr().err


def test_what_an_email_says_is_shown_as_text_not_markup(dev_app):
    from timebank.mail.views import linked

    shown = str(linked('<script>x</script> see https://example.org/a?b=1&c=2 "now"'))
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert '<a href="https://example.org/a?b=1&amp;c=2">' in shown


def test_there_is_no_outbox_page_outside_development(client, db_url):
    assert client.get("/dev/outbox").status_code == 404
    production = make_app(db_url, ENV="production", SECRET_KEY="x" * 32, DEV_OUTBOX=True)
    assert production.config["DEV_OUTBOX"] is False
    assert production.test_client().get("/dev/outbox").status_code == 404
    with production.app_context():
        db.engine.dispose()
