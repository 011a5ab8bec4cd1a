"""Templates translate through the catalogue bound once per rendering: each reader still gets
their own language, and words from members stay escaped inside translated sentences."""

import importlib.util
import re

import pytest
import wtforms.widgets.core
from markupsafe import Markup

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.web.templating import html_params

from .conftest import login


def test_each_member_reads_the_page_in_their_own_language(app, make_member, community):
    dutch, english = make_member("Fatima", locale="nl"), make_member("Jan", locale="en")
    with app.app_context():
        db.session.get(Community, community.id).name = "<b>Buurt</b>"
        db.session.commit()
    pages = {}
    for person in (dutch, english):
        client = app.test_client()
        login(client, person)
        pages[person.locale] = client.get("/members").text
    assert "Leden van &lt;b&gt;Buurt&lt;/b&gt;" in pages["nl"] and ">Markt<" in pages["nl"]
    assert "Members of &lt;b&gt;Buurt&lt;/b&gt;" in pages["en"] and ">Market<" in pages["en"]
    assert "<b>Buurt</b>" not in pages["nl"] + pages["en"]


def test_words_remembered_for_speed_stay_in_each_readers_language(app, make_member, make_post):
    """Amounts, a post's time and "how long ago" are remembered per language: a Dutch reader
    after an English one (and back) still reads their own words on the same posts."""
    owner = make_member("Wilma")
    make_post(owner, title="Soup", minutes=90)
    make_post(owner, title="Chair", minutes=0, is_gift=True)
    dutch, english = make_member("Fatima", locale="nl"), make_member("Jan", locale="en")
    pages = {}
    for person in (english, dutch, english, dutch):
        client = app.test_client()
        login(client, person)
        pages[person.locale] = client.get("/market").text
    assert "About 1 hour 30 minutes" in pages["en"] and "Free gift (0 hours)" in pages["en"]
    assert "Ongeveer 1 uur 30 minuten" in pages["nl"] and "Gratis weg te geven (0 uur)" in pages["nl"]
    assert "1 minute ago" in pages["en"] and "1 minuut geleden" in pages["nl"]
    assert "uur" not in pages["en"] and "About" not in pages["nl"]


def test_how_long_ago_says_what_babel_says_for_every_distance(app):
    """`ago` remembers Babel's words per unit and number; they must be Babel's own for any moment,
    past or future, near the edges between units too."""
    from datetime import timedelta

    from flask_babel import format_timedelta

    from timebank.db import utcnow
    from timebank.web.filters import ago

    moments = [0, 1, 29, 30, 31, 59, 60, 89, 90, 3000, 3060, 5400, 86400 * 5.9, 86400 * 6, 86400 * 25, 86400 * 400]
    for language in ("en", "nl"):
        with app.test_request_context(headers={"Accept-Language": language}):
            for seconds in moments + [-s for s in moments]:
                moment = utcnow() + timedelta(seconds=seconds, milliseconds=500 if seconds >= 0 else -500)
                expected = format_timedelta(moment - utcnow(), granularity="minute", add_direction=True)
                assert ago(moment) == expected, (language, seconds)


def test_addresses_built_once_for_a_list_are_the_ones_url_for_builds(app):
    from flask import url_for

    from timebank.web.templating import url_rows

    with app.test_request_context():
        post_url = url_rows("market.post_detail", "post_id")
        chip_url = url_rows("market.index", "category", kind="offer", q="soep & brood")
        for value in (1, 42, 20000):
            assert post_url(value) == url_for("market.post_detail", post_id=value)
            assert chip_url(value) == url_for("market.index", category=value, kind="offer", q="soep & brood")


def test_menu_addresses_follow_the_path_the_time_bank_is_served_under(app, member):
    """The menu's addresses are routed once per process: a second installation path (a proxy
    serving the time bank under /buurt) still gets its own links, and the root keeps its own."""
    client = app.test_client()
    login(client, member)
    at_root = client.get("/members").text
    under_path = client.get("/members", base_url="http://localhost/buurt/").text
    assert 'href="/market"' in at_root and 'href="/buurt/market"' not in at_root
    assert 'href="/buurt/market"' in under_path and 'href="/market"' not in under_path
    assert 'href="/buurt/static/css/app.css?v=' in under_path
    assert 'href="/market"' in client.get("/members").text


def test_remembered_days_times_and_months_say_what_babel_says(app):
    """Days, times of day and month names are remembered per language (and the moment is put on
    the community's clock without Flask-Babel's per-call look-up): the words must be Babel's own,
    on both sides of the summer-time changes and of midnight, in each language after the other."""
    from datetime import UTC, datetime

    from babel import dates
    from flask_babel import format_date, to_user_timezone

    from timebank.i18n import conventions, format_clock, format_day
    from timebank.stats.present import month_name

    moments = [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 01:59 in Amsterdam, then summer time
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 59, tzinfo=UTC),  # and back to winter time
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 22, 59, tzinfo=UTC),  # 23:59 on New Year's Eve
        datetime(2026, 12, 31, 23, 0, tzinfo=UTC),  # already the new year on the community's clock
    ]
    for language in ("en", "nl", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            for moment in moments:
                local = to_user_timezone(moment)
                for width in ("long", "medium"):
                    assert format_day(moment, width) == dates.format_date(local, width, locale=conventions())
                assert format_clock(moment) == dates.format_time(local, "short", locale=conventions())
            assert month_name("2026-12") == format_date(datetime(2026, 12, 1).date(), "MMM yyyy")
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        assert format_day(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "1 januari 2027"
        assert month_name("2026-03") == "mrt 2026"


def _wtforms_own_html_params():
    """WTForms' function as it ships (the app replaces it in the loaded module), from its source."""
    spec = importlib.util.spec_from_file_location("wtforms_widgets_as_shipped", wtforms.widgets.core.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.html_params


@pytest.mark.parametrize(
    "attributes",
    [
        dict(id="skills-3", name="skills", type="checkbox", value=12, checked=True, disabled=False),
        dict(class_="x", for_="y", data_member_id="7", aria_describedby="a b", aria_invalid=False),
        dict(value='Fatima "Tima" <b>&</b>', title="l'été", placeholder=None),
        dict(value=Markup('<a href="#">x</a>'), data_x=Markup("ok")),
        dict(value=""),
        {},
    ],
)
def test_form_attributes_are_written_exactly_as_wtforms_writes_them(app, attributes):
    core = wtforms.widgets.core
    used = (core.html_params, wtforms.widgets.html_params, core.CheckboxInput.html_params, core.Button.html_params)
    assert all(function is html_params for function in used)  # where WTForms' widgets and labels find it
    written = html_params(**attributes)
    assert written == _wtforms_own_html_params()(**attributes) and isinstance(written, Markup)


def test_a_form_of_checkboxes_renders_with_them(app, make_member, client):
    login(client, make_member("Fatima", locale="en"))
    page = client.get("/settings/profile").text
    assert re.search(r'<input id="skills-0" name="skills" type="checkbox" value="\d+">', page)
