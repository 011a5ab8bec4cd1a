"""Trade across links in the statistics, and the umbrella: the hand-worked November of
tests/umbrella_scenario.py as each neighbourhood counts it, as the fund and statistics pages and
the municipality report show it, and added up without counting an exchange between two
neighbourhoods twice; the umbrella's pages only for the administrator."""

import csv
import html as markup
import io
import re
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from timebank.audit.models import AuditEvent
from timebank.extensions import db
from timebank.members.models import Member
from timebank.stats import rollup
from timebank.stats.indicators import compute
from timebank.stats.present import INDICATORS
from timebank.stats.trade import trade_of
from timebank.stats.umbrella import NOT_ADDED, TOTAL_DEFINITIONS, added_up, crossing, umbrella

from .api import token_headers
from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements
from .stats_scenario import Clock, at, exchange
from .umbrella_scenario import BETWEEN, CAP, NOORD, NOORD_TRADE, NOVEMBER, UMBRELLA, ZUID, ZUID_TRADE, build

DATES = {"period": "custom", "from": "2026-11-01", "to": "2026-11-30"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def town(app, monkeypatch, make_community, make_member, make_post):
    with app.app_context():
        found = build(Clock(monkeypatch), make_community, make_member, make_post)
        return {name: (thing.id, getattr(thing, "email", None)) for name, thing in found.items()}


class Person:
    def __init__(self, email):
        self.email = email


def as_person(town, name) -> Person:
    return Person(town[name][1])


def text_of(html: str) -> str:
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", html))))


def test_each_neighbourhood_counts_its_side_of_an_exchange_across(app, town):
    with app.app_context():
        assert rollup.check(db.session.connection()) == []
        for name, expected in (("Noord", NOORD), ("Zuid", ZUID)):
            stats = compute(town[name][0], *NOVEMBER)
            assert {key: getattr(stats, key) for key in expected} == expected, name


def test_trade_per_linked_neighbourhood_from_the_clearing_postings(app, town):
    with app.app_context():
        (noord,) = trade_of(town["Noord"][0], *NOVEMBER)
        (zuid,) = trade_of(town["Zuid"][0], *NOVEMBER)
        assert (noord.peer_name, noord.cap, noord.state) == ("Zuid", CAP, "active")
        assert {key: getattr(noord, key) for key in NOORD_TRADE} == NOORD_TRADE
        assert {key: getattr(zuid, key) for key in ZUID_TRADE} == ZUID_TRADE
        # October alone: X0, Zoe helped Bob; the balance at the end of October is that exchange.
        (october,) = trade_of(town["Noord"][0], date(2026, 10, 1), date(2026, 10, 31))
        assert (october.imported, october.exported, october.balance) == (15, 0, 15)
        assert trade_of(town["West"][0], *NOVEMBER) == []


def test_the_umbrella_counts_every_exchange_once(app, town):
    with app.app_context():
        from timebank.communities.models import Community

        both = [db.session.get(Community, town[name][0]) for name in ("Noord", "Zuid")]
        found = umbrella(both, *NOVEMBER)
        assert {key: found.total[key] for key in UMBRELLA} == pytest.approx(UMBRELLA)
        crossing = found.crossing
        assert {"exchanges": crossing.exchanges, "minutes": crossing.minutes, "pairs": crossing.pairs} == BETWEEN
        assert [(m.month, m.minutes, m.exchanges) for m in found.by_month] == [("2026-11", 300, 4)]
        # The link is one line, seen from Noord, inside the umbrella.
        assert [(line.first, line.trade.peer_name, line.inside) for line in found.trade] == [("Noord", "Zuid", True)]
        # Noord alone: nothing is between chosen neighbourhoods, its figures are its own and its
        # trade with Zuid crosses the border of the choice.
        alone = umbrella(both[:1], *NOVEMBER)
        assert alone.crossing.exchanges == 0 and alone.total["exchanges_completed"] == NOORD["exchanges_completed"]
        assert [(line.trade.peer_name, line.inside) for line in alone.trade] == [("Zuid", False)]
        # Every figure has its rule for the total, in words.
        assert set(found.total) == set(INDICATORS) == set(TOTAL_DEFINITIONS)
        assert all(found.total[key] is None for key in NOT_ADDED)
        assert added_up(found.each, crossing) == found.total


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_the_exchanges_across_are_found_from_the_clearing_accounts(app, town):
    """The umbrella finds the exchanges between chosen neighbourhoods from their clearing accounts'
    postings: from the transactions' side SQLite read every transaction of the neighbourhoods (30 ms
    for a year of the large demo, twice a page) to find the few that cross."""
    with app.app_context():
        ids = [town[name][0] for name in ("Noord", "Zuid")]
        with statements(app, with_parameters=True) as sent:
            crossing(ids, *NOVEMBER)
        for marker in ("count(*) AS count_1, sum(", "lo, "):
            steps = [step for step in sqlite_plan(sent, marker).split(" | ") if step.startswith(("SEARCH", "SCAN"))]
            assert "USING INDEX uq_ledger_accounts_clearing" in steps[0], steps
            assert not [step for step in steps if "ix_ledger_transactions_community_id_id" in step], steps


def test_statistics_page_report_and_fund_show_the_trade_in_words(client, town):
    login(client, as_person(town, "Kees"))
    page = text_of(client.get("/coordinate/statistics", query_string=DATES, headers=EN).text)
    assert "Your members worked for residents of Zuid 30 minutes 1 exchange" in page
    assert "Residents of Zuid worked for your members 2 hours 1 exchange" in page
    assert "Your neighbourhood owes Zuid 1 hour 45 minutes of help." in page
    assert "Cap 4 hours" in page
    assert "Hours your members worked for residents of Zuid, in exchanges completed in the period." in page
    report = text_of(client.get("/coordinate/statistics/report.html", query_string={**DATES, "lang": "en"}).text)
    assert "Your neighbourhood owes Zuid 1 hour 45 minutes of help." in report
    sheet = client.get("/coordinate/statistics/report.csv", query_string={**DATES, "lang": "en"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))) if row}
    zuid = town["Zuid"][0]
    assert [rows[f"trade.{zuid}.{name}"][2] for name in ("exported", "imported", "balance", "cap")] == [
        "30",
        "120",
        "105",
        "240",
    ]
    assert rows[f"trade.{zuid}.balance"][4].startswith("Hours your neighbourhood owes Zuid at the end of the period")
    fund = client.get("/account/fund", headers=EN)
    assert fund.status_code == 200
    # The fund page shows this year so far (the clock stands in December 2026).
    assert "Your neighbourhood owes Zuid 1 hour 45 minutes of help." in text_of(fund.text)
    client.post("/logout")
    login(client, as_person(town, "Karim"))
    page = text_of(client.get("/coordinate/statistics", query_string=DATES, headers=EN).text)
    assert "Zuid" not in page.split("Trade with linked neighbourhoods", 1)[1].split("Report for the municipality")[0]
    assert "Noord owes your neighbourhood 1 hour 45 minutes of help." in page


def test_administrator_sees_the_umbrella_side_by_side_and_together(client, town):
    login(client, as_person(town, "Ada"))
    query = {**DATES, "c": [town["Noord"][0], town["Zuid"][0]]}
    page = client.get("/admin/statistics", query_string=query, headers=EN)
    assert page.status_code == 200
    html = page.text
    assert re.search(r'data-figure="exchanges_completed">4<', html)
    assert re.search(r'data-figure="minutes_exchanged">5 hours<', html)
    assert re.search(r'data-figure="distinct_pairs">4<', html)
    assert re.search(r'data-umbrella="between_minutes">2 hours 30 minutes<', html)
    words = text_of(html)
    assert (
        "less the exchanges between two of them: those are in both neighbourhoods' books and count once here" in words
    )
    assert "Noord owes Zuid 1 hour 45 minutes of help." in words
    bad = client.get("/admin/statistics", query_string={**query, "from": "2026-12-01"}, headers=EN)
    assert bad.status_code == 422 and "The first date must come before the last one." in bad.text
    links = text_of(client.get("/admin/links", headers=EN).text)
    assert "Now Noord owes Zuid 1 hour 45 minutes of help." in links
    # Without a choice: every neighbourhood, West too.
    every = text_of(client.get("/admin/statistics", query_string=DATES, headers=EN).text)
    assert "West" in every
    report = client.get("/admin/statistics/report.html", query_string={**query, "lang": "en"})
    assert report.status_code == 200 and 'data-figure="exchanges_completed">4<' in report.text
    pdf = client.get("/admin/statistics/report.pdf", query_string={**query, "lang": "nl"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Noord" in text and "Zuid" in text and "2 uur 30 minuten" in text
    sheet = client.get("/admin/statistics/report.csv", query_string={**query, "lang": "en"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))) if row}
    assert rows["exchanges_completed"][2:5] == ["3", "3", "4"]
    with client.application.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "stats.umbrella_report_downloaded"))
            == 3
        )


@pytest.mark.parametrize("who", ["Kees", "Ann"])
def test_coordinators_and_members_cannot_see_the_umbrella(client, town, who):
    login(client, as_person(town, who))
    for path in ("/admin/statistics", "/admin/statistics/report.html", "/admin/statistics/report.pdf"):
        assert client.get(path, query_string=DATES).status_code == 403, path


def test_nobody_logged_out_sees_the_umbrella(client, town):
    answer = client.get("/admin/statistics/report.csv", query_string=DATES)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_umbrella_over_the_api_for_administrators_only(client, town):
    """The same hand-worked November as JSON, for a municipality's own dashboard: each
    neighbourhood's figures, both together with every exchange once, what went between them, the
    link's trade and the words for each total."""
    ada = token_headers(client.application, SimpleNamespace(id=town["Ada"][0]))
    query = {"from": "2026-11-01", "to": "2026-11-30", "community": [town["Zuid"][0], town["Noord"][0]]}
    answer = client.get("/api/v1/admin/stats", query_string=query, headers=ada)
    assert answer.status_code == 200, answer.text
    found = answer.json
    figures = [
        (c["name"], c["figures"]["exchanges_completed"], c["figures"]["fund_levy"]) for c in found["communities"]
    ]
    assert figures == [("Noord", NOORD["exchanges_completed"], 0), ("Zuid", ZUID["exchanges_completed"], 21)]
    assert {key: found["total"][key] for key in UMBRELLA} == pytest.approx(UMBRELLA)
    assert (found["between"], found["by_month"]) == (BETWEEN, [{"month": "2026-11", "minutes": 300, "exchanges": 4}])
    (line,) = found["trade"]
    assert (line["community"], line["peer"], line["inside"]) == ("Noord", "Zuid", True)
    assert {key: line[f"{key}_minutes" if f"{key}_minutes" in line else key] for key in NOORD_TRADE} == NOORD_TRADE
    assert "count once here" in found["definitions"]["exchanges_completed"]
    assert "clearing accounts" in found["definitions"]["between.minutes"]
    dutch = client.get("/api/v1/admin/stats", query_string=query, headers={**ada, "Accept-Language": "nl"}).json
    assert "tellen hier één keer" in dutch["definitions"]["exchanges_completed"]
    # Without a choice: every neighbourhood, West too.
    every = client.get("/api/v1/admin/stats", query_string={"from": "2026-11-01", "to": "2026-11-30"}, headers=ada)
    names = [c["name"] for c in every.json["communities"]]
    assert {"Noord", "West", "Zuid"} <= set(names) and names == sorted(names)
    unknown = client.get("/api/v1/admin/stats", query_string={**query, "community": [999]}, headers=ada)
    assert unknown.status_code == 422 and "There is no neighbourhood" in unknown.json["error"]["fields"]["community"][0]
    backwards = client.get("/api/v1/admin/stats", query_string={**query, "from": "2026-12-01"}, headers=ada)
    assert backwards.status_code == 422
    for name in ("Kees", "Ann"):
        refused = client.get(
            "/api/v1/admin/stats",
            query_string=query,
            headers=token_headers(client.application, SimpleNamespace(id=town[name][0])),
        )
        assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden", name
    assert client.get("/api/v1/admin/stats", query_string=query).status_code == 401


def test_two_neighbours_who_helped_each_other_across_the_border_are_one_pair(app, town, make_post, monkeypatch):
    """On 6 December Ann helps Wim, who helped her in November (X1): November and December
    together have three exchanges between the two neighbourhoods and still two pairs."""
    with app.app_context():
        ann, wim = (db.session.get(Member, town[name][0]) for name in ("Ann", "Wim"))
        sewing = make_post(ann, kind="offer", title="Ann: sewing", expires_at=at(2027, 3, 1))
        exchange(Clock(monkeypatch), at(2026, 12, 6), ann, wim, 30, sewing)
        found = crossing([town["Noord"][0], town["Zuid"][0]], date(2026, 11, 1), date(2026, 12, 31))
        assert (found.exchanges, found.minutes, found.pairs) == (3, 180, 2)
