"""GET /api/v1/stats: every indicator of the hand-built November (tests/stats_scenario.py) under
the issue's names and types, for coordinators of the caller's community only."""

import pytest

from .api import token_headers
from .stats_scenario import EXPECTED, HISTOGRAM, Clock, build

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
NAMES = {
    "minutes_exchanged",
    "exchanges_completed",
    "members_total",
    "new_members",
    "active_members",
    "participation_rate",
    "distinct_pairs",
    "partners_per_active_member",
    "reciprocity_rate",
    "velocity",
    "turnover_gini",
    "balance_histogram",
    "members_at_floor",
    "members_at_ceiling",
    "dormant_members",
    "fund_inflow",
    "fund_outflow",
    "fund_balance",
    "by_category",
    "by_month",
    "requests_met_rate",
    "median_days_to_accept",
    "group_activities",
    "group_people_reached",
    "assisted_minutes",
}


@pytest.fixture
def town(app, monkeypatch, community, make_member, make_post, make_community):
    with app.app_context():
        people = build(Clock(monkeypatch), community, make_member, make_post)
        elsewhere = make_community("noord", "Noord")
        olga = make_member("Olga", role="coordinator", community_id=elsewhere.id)
        return {
            name: token_headers(app, person)
            for name, person in (
                ("coordinator", people["Karim"]),
                ("member", people["Ann"]),
                ("other_coordinator", olga),
            )
        }


def test_every_indicator_under_its_name_and_type(client, town):
    answer = client.get("/api/v1/stats", query_string=NOVEMBER, headers=town["coordinator"])
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert NAMES <= set(body)
    assert {key: body[key] for key in EXPECTED} == pytest.approx(EXPECTED)
    for key in ("minutes_exchanged", "members_total", "distinct_pairs", "fund_balance", "assisted_minutes"):
        assert type(body[key]) is int, key
    for key in ("participation_rate", "reciprocity_rate", "requests_met_rate", "turnover_gini"):
        assert 0 <= body[key] <= 1, key
    assert {b["key"]: b["members"] for b in body["balance_histogram"] if b["members"]} == HISTOGRAM
    assert body["by_month"] == [
        {"month": "2026-11", "minutes": 450, "exchanges": 6, "active_members": 5, "new_members": 1}
    ]
    assert [(c["name"], c["exchanges"], c["minutes"]) for c in body["by_category"]] == [
        ("Cooking and catering", 2, 210),
        ("No category", 2, 150),
        ("Odd jobs and repairs", 2, 90),
    ]
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30"
    assert body["definitions"]["velocity"].startswith("Hours exchanged in the period divided by")


def test_a_member_gets_403_and_another_community_sees_only_its_own(client, town):
    refused = client.get("/api/v1/stats", query_string=NOVEMBER, headers=town["member"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    theirs = client.get("/api/v1/stats", query_string=NOVEMBER, headers=town["other_coordinator"]).json
    assert (theirs["minutes_exchanged"], theirs["fund_balance"], theirs["by_category"]) == (0, 0, [])
    assert client.get("/api/v1/stats", query_string=NOVEMBER).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-11-31", "to": "2026-12-01"}, "from"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "to"),
        ({"from": "1990-01-01", "to": "2026-11-01"}, "to"),
        ({"from": "2016-11-01", "to": "2026-11-09"}, "to"),  # one day more than the longest period
        ({"to": "2026-11-01"}, "from"),
        ({**NOVEMBER, "community_id": "2"}, "community_id"),
    ],
)
def test_bad_dates_are_422_naming_the_field(client, town, query, field):
    answer = client.get("/api/v1/stats", query_string=query, headers=town["coordinator"])
    assert answer.status_code == 422
    assert field in answer.json["error"]["fields"]


def test_a_single_day_is_a_period(client, town):
    answer = client.get(
        "/api/v1/stats", query_string={"from": "2026-11-30", "to": "2026-11-30"}, headers=town["coordinator"]
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["from"] == answer.json["to"] == "2026-11-30"


def test_bad_dates_are_explained_in_dutch(client, town):
    answer = client.get(
        "/api/v1/stats",
        query_string={"from": "2026-12-01", "to": "2026-11-01"},
        headers={**town["coordinator"], "Accept-Language": "nl"},
    )
    assert answer.json["error"]["fields"]["to"] == ["De eerste datum moet vóór de laatste liggen."]


def test_the_openapi_document_describes_it(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/stats"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to"}
    assert {"200", "403", "422"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["Stats"]
    assert NAMES <= set(schema["properties"])
    assert "fraction" in schema["properties"]["participation_rate"]["description"]
