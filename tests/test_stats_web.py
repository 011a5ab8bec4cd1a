"""The statistics pages: the coordinators' page, the municipality report in HTML, PDF and CSV
(the same figures in each), a member's own impact, the opt-in public page, and who may see what."""

import base64
import csv
import io
import re

import pytest
from pypdf import PdfReader

from timebank.extensions import db

from .conftest import login
from .stats_scenario import Clock, build

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def town(app, monkeypatch, community, make_member, make_post):
    """The scenario of tests/stats_scenario.py; returns the people, detached, by name."""
    with app.app_context():
        found = build(Clock(monkeypatch), community, make_member, make_post)
        people = {name: found[name] for name in ("Ann", "Bob", "Karim", "Dirk")}
        for person in people.values():
            db.session.refresh(person)
            db.session.expunge(person)
    return people


def without_images(html: str) -> str:
    """The page without its embedded charts (base64 can spell anything)."""
    return re.sub(r'src="data:[^"]*"', "", html)


def figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{key}">([^<]*)<', html)
    assert match, key
    return match.group(1)


def test_coordinator_sees_every_figure_with_its_definition(client, town):
    login(client, town["Karim"])
    page = client.get(
        "/coordinate/statistics", query_string={**NOVEMBER, "period": "custom"}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    html = page.text
    assert figure(html, "minutes_exchanged") == "7 hours 30 minutes"
    assert figure(html, "participation_rate") == "71 %"
    assert figure(html, "distinct_pairs") == "5"
    assert figure(html, "turnover_gini") == "0.52"
    assert figure(html, "fund_balance") == "1 hour 1 minute"
    assert "Share of active members who both gave and received help in the period." in html
    assert "7 in 10 members took part in this period" in html
    assert html.count('src="data:image/svg+xml;base64,') == 3
    assert "<script" not in html.split("<main", 1)[1]


def test_named_period_and_a_bad_custom_period(client, town):
    login(client, town["Karim"])
    assert client.get("/coordinate/statistics?period=last_12_months").status_code == 200
    bad = client.get(
        "/coordinate/statistics",
        query_string={"period": "custom", "from": "2026-12-01", "to": "2026-11-01"},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422
    assert "The first date must come before the last one." in bad.text
    nonsense = client.get(
        "/coordinate/statistics",
        query_string={"period": "custom", "from": "yesterday"},
        headers={"Accept-Language": "nl"},
    )
    assert nonsense.status_code == 422 and "Geef beide datums" in nonsense.text


def test_report_page_pdf_and_csv_hold_the_same_figures(client, town):
    login(client, town["Karim"])
    html = client.get("/coordinate/statistics/report.html", query_string={**NOVEMBER, "lang": "en"}).text
    pdf = client.get("/coordinate/statistics/report.pdf", query_string={**NOVEMBER, "lang": "en"})
    assert pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    sheet = client.get("/coordinate/statistics/report.csv", query_string={**NOVEMBER, "lang": "en"})
    rows = {row[0]: row for row in csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))) if row}
    assert rows["Community"][1] == "Onze buurt" and rows["Period"][1:] == ["2026-11-01", "2026-11-30"]
    for key in (
        "minutes_exchanged",
        "active_members",
        "participation_rate",
        "distinct_pairs",
        "velocity",
        "turnover_gini",
        "fund_inflow",
        "requests_met_rate",
        "median_days_to_accept",
        "assisted_minutes",
    ):
        shown = figure(html, key)
        assert rows[key][3] == shown, key
        assert shown in text, key
        assert rows[key][4] and rows[key][4] in html.replace("&#39;", "'")
    assert rows["minutes_exchanged"][2] == "450" and rows["participation_rate"][2] == "0.7143"
    assert rows["by_month.2026-11.minutes"][2] == "450"
    assert "Onze buurt" in text and "1 November 2026 to 30 November 2026" in text
    for name in ("Ann", "Bob", "Cas", "Dirk", "Eva", "Karim", "Fay"):
        assert not re.search(rf"\b{name}\b", without_images(html) + text + sheet.data.decode()), name


def test_the_report_in_dutch(client, town):
    login(client, town["Karim"])
    html = client.get("/coordinate/statistics/report.html", query_string={**NOVEMBER, "lang": "nl"}).text
    assert 'lang="nl"' in html and "7 uur 30 minuten" in html and "1 november 2026 tot en met 30 november 2026" in html


def test_the_report_from_the_command_line(app, town, tmp_path):
    runner = app.test_cli_runner()
    for suffix in ("csv", "html", "pdf"):
        target = tmp_path / f"report.{suffix}"
        result = runner.invoke(
            args=[
                "stats",
                "report",
                "--community",
                "buurt",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--lang",
                "en",
                "-o",
                str(target),
            ]
        )
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 100
    assert "minutes_exchanged,Hours exchanged,450," in (tmp_path / "report.csv").read_text("utf-8-sig")
    bad = runner.invoke(
        args=[
            "stats",
            "report",
            "--community",
            "nowhere",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "-o",
            str(tmp_path / "x.csv"),
        ]
    )
    assert bad.exit_code != 0 and "nowhere" in bad.output
    odd = runner.invoke(
        args=[
            "stats",
            "report",
            "--community",
            "buurt",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "-o",
            str(tmp_path / "x.docx"),
        ]
    )
    assert odd.exit_code != 0 and ".csv" in odd.output


def test_a_member_sees_their_own_impact(client, town):
    login(client, town["Ann"])
    page = client.get("/account", headers={"Accept-Language": "en"}).text
    impact = page.split('id="impact-heading"', 1)[1]
    # Ann earned 54 (E0) + 108 + 27 and paid 60 + 90; she helped Bob and Eva, was helped by Bob and Cas.
    assert "3 hours 9 minutes" in impact and "2 neighbours" in impact and "by 2 neighbours" in impact
    assert "2 hours 30 minutes" in impact
    assert re.search(r"Thanks you received</span><strong[^>]*>1<", impact)


def test_members_and_other_coordinators_cannot_read_our_figures(client, town, make_member, make_community):
    login(client, town["Ann"])
    for path in ("/coordinate/statistics", "/coordinate/statistics/report.csv", "/coordinate/statistics/report.pdf"):
        assert client.get(path, query_string=NOVEMBER).status_code == 403
    assert client.post("/coordinate/statistics/public", data={"public": "1"}).status_code == 403
    client.post("/logout")
    elsewhere = make_community("noord", "Noord")
    olga = make_member("Olga", role="coordinator", community_id=elsewhere.id)
    login(client, olga)
    page = client.get("/coordinate/statistics", query_string={**NOVEMBER, "period": "custom"}).text
    assert "Noord" in page and figure(page, "minutes_exchanged") in ("0 minuten", "0 minutes")
    sheet = client.get("/coordinate/statistics/report.csv", query_string=NOVEMBER).data.decode("utf-8-sig")
    assert "Onze buurt" not in sheet and "450" not in sheet
    client.post("/coordinate/statistics/public", data={"public": "1"})
    assert client.get("/statistics/buurt").status_code == 404


def test_the_public_page_only_when_coordinators_switch_it_on(client, app, town):
    assert client.get("/statistics/buurt").status_code == 404
    assert client.get("/statistics/nowhere").status_code == 404
    login(client, town["Karim"])
    client.post("/coordinate/statistics/public", data={"public": "1"})
    client.post("/logout")
    page = client.get("/statistics/buurt", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    # On 5 December 2026 the last 12 months are December 2025 to November 2026: E0 to E7, E6 undone
    # (60 + 450 minutes); E8 (1 December, local time) belongs to this month, not yet counted.
    assert figure(page.text, "minutes_exchanged") == "8 hours 30 minutes"
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert not re.search(r"\b(Ann|Bob|Cas)\b", without_images(page.text))
    login(client, town["Karim"])
    client.post("/coordinate/statistics/public", data={"public": "0"})
    client.post("/logout")
    assert client.get("/statistics/buurt").status_code == 404


def test_coordinators_find_the_page(client, town):
    login(client, town["Karim"])
    assert 'href="/coordinate/statistics"' in client.get("/coordinate").text
    login_page = client.get("/account").text
    assert 'href="/coordinate/statistics"' in login_page


def test_the_public_page_is_worked_out_once_for_many_visitors(client, app, town, monkeypatch):
    from timebank.stats import views

    login(client, town["Karim"])
    client.post("/coordinate/statistics/public", data={"public": "1"})
    client.post("/logout")
    calls = []
    original = views.compute
    monkeypatch.setattr(views, "compute", lambda *args, **kwargs: calls.append(args) or original(*args, **kwargs))
    for _ in range(5):
        assert client.get("/statistics/buurt").status_code == 200
    assert len(calls) == 1


def charts(html: str) -> list[str]:
    return [base64.b64decode(found).decode() for found in re.findall(r'src="data:image/svg\+xml;base64,([^"]*)"', html)]


def test_the_charts_are_drawn_once_for_the_same_figures_in_each_language(client, town, monkeypatch):
    import pygal.graph.public

    from timebank.stats import present

    present._drawn.cache_clear()  # other tests of this process drew the same figures
    login(client, town["Karim"])
    drawn = []
    original = pygal.graph.public.PublicApi.render
    monkeypatch.setattr(
        pygal.graph.public.PublicApi, "render", lambda chart, **kw: drawn.append(chart) or original(chart, **kw)
    )
    query = {**NOVEMBER, "period": "custom"}
    english = [
        client.get("/coordinate/statistics", query_string=query, headers={"Accept-Language": "en"}) for _ in "12"
    ]
    dutch = client.get("/coordinate/statistics", query_string=query, headers={"Accept-Language": "nl"})
    october = client.get(
        "/coordinate/statistics",
        query_string={"from": "2026-10-01", "to": "2026-10-31", "period": "custom"},
        headers={"Accept-Language": "en"},
    )
    assert charts(english[0].text) == charts(english[1].text)
    assert "Hours" in charts(english[0].text)[0] and "Uren" in charts(dutch.text)[0]
    assert charts(october.text)[0] != charts(english[0].text)[0]
    # The first English page drew three charts, the second none; Dutch words and October's figures
    # are other charts (October's balances chart may equal November's).
    assert 3 + 3 + 2 <= len(drawn) <= 3 + 3 + 3
