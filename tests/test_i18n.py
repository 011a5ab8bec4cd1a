"""Language choice, right-to-left readiness, and complete catalogues."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.checkers import checkers
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale

from timebank.extensions import db
from timebank.i18n import format_day, format_minutes, format_moment
from timebank.members.models import Member

from .conftest import login, make_app

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}


def html_lang(response) -> str:
    return response.text.split("<html ", 1)[1].split(">", 1)[0]


def test_browser_language_is_used_when_nothing_else_is_known(client):
    assert 'lang="nl"' in html_lang(client.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9"}))
    assert 'lang="en"' in html_lang(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert "Help je buren" in client.get("/", headers={"Accept-Language": "nl"}).text


def test_switch_in_the_page_beats_the_browser(client):
    response = client.post("/language", data={"locale": "en", "next": "/login"}, headers={"Accept-Language": "nl"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "Keep me logged in" in client.get("/login", headers={"Accept-Language": "nl"}).text


def test_switch_refuses_foreign_redirects(client):
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_member_preference_beats_the_switch_and_is_updated_by_it(app, client, make_member):
    member = make_member(locale="nl")
    login(client, member)
    assert 'lang="nl"' in html_lang(client.get("/", headers={"Accept-Language": "en"}))
    client.post("/language", data={"locale": "en"})
    with app.app_context():
        assert db.session.get(Member, member.id).locale == "en"
    assert 'lang="en"' in html_lang(client.get("/", headers={"Accept-Language": "nl"}))


def test_right_to_left_languages_get_dir_rtl(db_url):
    app = make_app(db_url, LANGUAGES=["nl", "en", "ar"])
    response = app.test_client().get("/", headers={"Accept-Language": "ar"})
    assert 'lang="ar"' in html_lang(response) and 'dir="rtl"' in html_lang(response)
    assert 'dir="ltr"' in html_lang(app.test_client().get("/", headers={"Accept-Language": "nl"}))


@pytest.mark.parametrize(
    "minutes, english, dutch",
    [
        (0, "0 minutes", "0 minuten"),
        (1, "1 minute", "1 minuut"),
        (60, "1 hour", "1 uur"),
        (90, "1 hour 30 minutes", "1 uur 30 minuten"),
        (-150, "−2 hours 30 minutes", "−2 uur 30 minuten"),
        (15673 * 60 + 45, "15,673 hours 45 minutes", "15.673 uur 45 minuten"),  # a year of a neighbourhood
    ],
)
def test_minutes_are_said_as_people_say_them(app, minutes, english, dutch):
    with app.test_request_context():
        with force_locale("en"):
            assert format_minutes(minutes) == english
        with force_locale("nl"):
            assert format_minutes(minutes) == dutch


@pytest.mark.parametrize(
    "region, english, dutch",
    [
        ("NL", "4 Dec 2026, 15:20", "4 dec 2026, 15:20"),
        ("GB", "4 Dec 2026, 15:20", "4 dec 2026, 15:20"),
        ("US", "Dec 4, 2026, 3:20\u202fPM", "4 dec 2026, 15:20"),
        ("XX", "Dec 4, 2026, 3:20\u202fPM", "4 dec 2026, 15:20"),  # unknown: the language's own default
    ],
)
def test_dates_follow_the_communitys_conventions_in_every_language(db_url, region, english, dutch):
    """14:20 UTC is 15:20 in Amsterdam in December; the day comes first unless the community
    is American, whatever language the reader chose."""
    app = make_app(db_url, LOCALE_REGION=region)
    moment = datetime(2026, 12, 4, 14, 20, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            assert format_moment(moment).replace("\u202f", " ") == english.replace("\u202f", " ")
            assert app.jinja_env.from_string("{{ m|datetimeformat('short') }}").render(m=moment) == format_moment(
                moment
            )
        with force_locale("nl"):
            assert format_moment(moment).rstrip(".") == dutch
            assert format_day(date(2026, 12, 4)) == "4 december 2026"


def test_statement_dates_are_written_day_first_in_english(client, make_member, app):
    from timebank.ledger import services as ledger

    giver, taker = make_member("Jan", locale="en"), make_member("Wilma")
    with app.app_context():
        ledger.transfer(
            ledger.account_for(db.session.get(Member, giver.id)),
            ledger.account_for(db.session.get(Member, taker.id)),
            30,
            kind="gift",
            actor=None,
        )
        db.session.commit()
    login(client, giver)
    today = format_day_in_english(app)
    assert today in client.get("/account").text


def format_day_in_english(app) -> str:
    from timebank.db import utcnow

    with app.test_request_context(), force_locale("en"):
        text = format_day(utcnow(), "medium")
    day, month, year = text.split(" ")
    assert day.isdigit() and year.isdigit() and month.isalpha()  # "5 Dec 2026", not "Dec 5, 2026"
    return text


def source_messages() -> set:
    """Every translatable string in the code and templates, extracted as `make messages` does."""
    method_map = [("timebank/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    options = {pattern: {"extensions": "jinja2.ext.do"} for pattern in ("templates/**.html", "templates/**.txt")}
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options, keywords=KEYWORDS)
    }


def test_dutch_catalogue_translates_every_message():
    with open(ROOT / "timebank/translations/nl/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f, locale="nl")
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings) and not message.fuzzy:
            translated[message.id] = message
    missing = sorted(map(str, source_messages() - set(translated)))
    assert not missing, "untranslated in nl (run `make messages`, then translate):\n" + "\n".join(map(str, missing))
    problems = [
        (m.id, str(err)) for m in translated.values() for checker in checkers for err in _errors(catalogue, m, checker)
    ]
    assert not problems, f"placeholders differ between English and Dutch: {problems}"


def test_dutch_speaks_to_members_as_je_throughout():
    """The app says "je" to everyone, as neighbours do; deciding together said the formal "u" (26
    messages), so one screen spoke to a member in another voice than the rest."""
    with open(ROOT / "timebank/translations/nl/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f, locale="nl")
    formal = [
        text
        for message in catalogue
        if message.id
        for text in (message.string if isinstance(message.string, tuple) else (message.string,))
        if re.search(r"\b(u|uw|U|Uw)\b", text)
    ]
    assert not formal, "formal Dutch (u/uw) where the app says je/jouw:\n" + "\n".join(formal)


def _errors(catalogue, message, checker):
    try:
        checker(catalogue, message)
    except Exception as err:  # babel's checkers raise TranslationError
        yield err
