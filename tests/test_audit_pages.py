"""Reading the audit log: a coordinator their community's (filtered, and as CSV), a member what
concerns them, an administrator everything; every power a coordinator or administrator holds
leaves an entry."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.audit.services import ACTION_LABELS, record
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation.services import DECISION_ACTIONS

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements
from .test_audit_labels import recorded_actions

# Every power of a coordinator or administrator, and the entry it leaves.
POWERS = {
    "approvals": ["member.approved", "member.rejected"],
    "role changes": ["member.coordinator_appointed", "member.coordinator_removed"],
    "suspensions": ["member.suspended", "member.reactivated", "ledger.account_status"],
    "moderation": [
        "post.moderated",
        "post.reinstated",
        "governance.comment_hidden",
        "moderation.hidden",
        "moderation.restored",
        "moderation.warned",
        "moderation.suspended",
        "moderation.dismissed",
    ],
    "limit changes": ["ledger.limits_changed", "ledger.settings_changed"],
    "grants": ["hours.granted", "hours.given"],
    "reversals": ["ledger.reversed"],
    "overrides": ["ledger.limit_override"],
    "disputes and slips": ["exchange.resolved", "exchange.slip"],
    "acting for a member": ["member.acting_started", "member.acting_stopped", "member.registered_assisted"],
    "data exports": [
        "member.data_exported",
        "ledger.statement_exported",
        "ledger.fund_exported",
        "audit.exported",
        "stats.report_downloaded",
    ],
    "erasures": ["member.erased", "ledger.settled"],
    "settings changes": [
        "community.updated",
        "community.area_added",
        "community.area_renamed",
        "community.created",
        "market.expiry_changed",
        "exchange.settings_changed",
        "governance.settings_changed",
        "category.added",
        "category.renamed",
        "category.merged",
        "category.retired",
        "category.restored",
        "stats.public_changed",
    ],
}


def test_every_power_of_a_coordinator_or_administrator_is_logged_with_words(app):
    # Some are chosen by a condition or from a table.
    recorded = recorded_actions() | {"member.rejected", "member.coordinator_removed"} | set(DECISION_ACTIONS.values())
    powers = {action for actions in POWERS.values() for action in actions}
    assert sorted(powers - recorded) == []
    assert sorted(powers - set(ACTION_LABELS)) == []


def _world(make_community, make_member):
    noord = make_community("noord", "Noord")
    people = {
        "fatima": make_member("Fatima"),
        "jan": make_member("Jan"),
        "karim": make_member("Karim", role="coordinator"),
        "olga": make_member("Olga", role="coordinator", community_id=noord.id),
        "ada": make_member("Ada", is_admin=True, community_id=noord.id),
    }
    return noord, people


def _log(app, people):
    with app.app_context():
        fatima, jan, karim, olga = (db.session.get(Member, people[n].id) for n in ("fatima", "jan", "karim", "olga"))
        record("member.suspended", actor=karim, subject=fatima, reason='=HYPERLINK("x") rude')
        record("member.reactivated", actor=karim, subject=fatima, reason="Talked it over")
        record("ledger.limits_changed", actor=karim, subject=jan, reason="Moving house")
        record("member.profile_updated", actor=jan, subject=jan)
        record("member.suspended", actor=olga, subject=olga, reason="Noord's business")
        db.session.commit()
        # An entry of last year, written as it would have been then.
        db.session.add(
            AuditEvent(
                action="member.approved",
                actor_id=karim.id,
                community_id=karim.community_id,
                subject_type="members",
                subject_id=jan.id,
                created_at=utcnow() - timedelta(days=400),
            )
        )
        db.session.commit()


def test_a_coordinator_reads_and_filters_their_communitys_log_only(app, client, make_community, make_member):
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, people["karim"])
    page = client.get("/coordinate/log")
    assert page.status_code == 200
    assert "paused the account" in page.text and "Talked it over" in page.text
    assert "Noord&#39;s business" not in page.text and "Noord's business" not in page.text
    assert "5 entries found" in page.text
    assert "Hours and limits" in page.text and "Undone transactions" in page.text  # kinds explained
    # Who, kind, member, period.
    assert "3 entries found" in client.get(f"/coordinate/log?who={people['karim'].id}&kind=member").text
    assert "1 entry found" in client.get("/coordinate/log?kind=member.reactivated").text
    assert "2 entries found" in client.get("/coordinate/log?name=fatim").text
    assert "3 entries found" in client.get(f"/coordinate/log?member={people['jan'].id}").text
    year_ago = (people["karim"].created_at - timedelta(days=300)).date().isoformat()
    assert "4 entries found" in client.get(f"/coordinate/log?since={year_ago}").text
    assert "1 entry found" in client.get(f"/coordinate/log?until={year_ago}").text
    # Another community's member by id is nobody here; nonsense filters are ignored, never a 500.
    assert "0 entries found" in client.get(f"/coordinate/log?member={people['olga'].id}").text
    for nonsense in ("who=abc", "since=2024-13-45", "kind=%27;drop", "member=99999999999999", "page=-1"):
        assert client.get(f"/coordinate/log?{nonsense}").status_code == 200


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_a_page_of_the_log_is_read_newest_first_not_sorted(app, client, make_community, make_member):
    """The newest fifty entries are read in the index's order and the reading stops there: sorting
    every entry of the community (and joining each to its members first) grew with every vote."""
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    login(client, people["karim"])
    with statements(app, with_parameters=True) as sent:
        assert client.get("/coordinate/log").status_code == 200
    with app.app_context():
        plan = sqlite_plan(sent, "FROM audit_events LEFT OUTER JOIN members")
    assert "INDEX ix_audit_events_community_newest (community_id=?)" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_who_did_it_reads_the_staff_not_every_member(app, client, make_community, make_member):
    """The coordinators and administrators come from their partial index and the chosen member by
    id: one OR of the three read every member of every neighbourhood on every page of the log."""
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    login(client, people["karim"])
    with statements(app, with_parameters=True) as sent:
        assert client.get(f"/coordinate/log?who={people['jan'].id}").status_code == 200
    with app.app_context():
        plan = sqlite_plan(sent, "FROM members WHERE (role = 'coordinator' OR is_admin)")
    assert "SCAN members USING INDEX ix_members_staff" in plan
    assert "SEARCH members USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert plan.count("SCAN members") == 1 and "ix_audit_events_actor_id (actor_id=?)" in plan


def test_who_did_it_lists_coordinators_and_reaches_a_member_by_their_entry(app, client, make_community, make_member):
    """In a big neighbourhood every member who ever did something would be thousands of names in
    the filter; it offers the coordinators and administrators, and a member through their entry."""
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, people["karim"])
    page = client.get("/coordinate/log").text
    choices = page[page.index('<select id="who"') : page.index("</select>", page.index('<select id="who"'))]
    assert f'value="{people["karim"].id}"' in choices and "Karim" in choices
    assert "Jan" not in choices
    # Jan's own entry names him with a link to what he did; following it chooses him in the filter.
    link = f'href="/coordinate/log?who={people["jan"].id}"'
    assert link in page
    mine = client.get(f"/coordinate/log?who={people['jan'].id}").text
    assert "1 entry found" in mine
    assert f'<option value="{people["jan"].id}" selected>Jan</option>' in mine


def test_the_log_downloads_as_csv_with_the_filters_and_the_download_is_logged(app, client, make_community, make_member):
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    login(client, people["karim"])
    response = client.get(f"/coordinate/log.csv?member={people['fatima'].id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [(r["kind"], r["by"], r["about_member"]) for r in rows] == [
        ("member.reactivated", "Karim", "Fatima"),
        ("member.suspended", "Karim", "Fatima"),
    ]
    assert rows[1]["reason"].startswith("'=HYPERLINK")  # a spreadsheet shows it, never runs it
    with app.app_context():
        download = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.exported")).one()
        assert download.actor_id == people["karim"].id and download.details["rows"] == 2
        assert download.details["filters"] == {"member": people["fatima"].id}


def test_members_and_other_coordinators_cannot_read_the_log(app, client, make_community, make_member):
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    for name in ("fatima", "olga"):
        other = app.test_client()
        other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(other, people[name])
        if name == "fatima":
            assert other.get("/coordinate/log").status_code == 403
            assert other.get("/coordinate/log.csv").status_code == 403
        else:
            assert "Talked it over" not in other.get("/coordinate/log").text
            assert "Talked it over" not in other.get("/coordinate/log.csv").text
        assert other.get("/admin/log").status_code == 403
        assert other.get("/admin/log.csv").status_code == 403
    assert client.get("/coordinate/log").status_code == 302  # not logged in: to the login page
    assert client.get("/admin/log").status_code == 302


def test_an_administrator_reads_every_community_and_can_choose_one(app, client, make_community, make_member):
    noord, people = _world(make_community, make_member)
    _log(app, people)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, people["ada"])
    everything = client.get("/admin/log")
    assert "Talked it over" in everything.text and "Noord&#39;s business" in everything.text
    assert "· Onze buurt" in everything.text and "· Noord" in everything.text  # which neighbourhood
    only_noord = client.get(f"/admin/log?community={noord.id}")
    assert "Talked it over" not in only_noord.text and "1 entry found" in only_noord.text
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/log.csv").text.lstrip("\ufeff"))))
    assert len(rows) == 6


def test_a_member_reads_what_concerns_them_and_nothing_about_others(app, client, make_community, make_member):
    _noord, people = _world(make_community, make_member)
    _log(app, people)
    login(client, people["fatima"])
    assert "Done for you" in client.get("/settings", headers={"Accept-Language": "en"}).text
    mine = client.get("/settings/done-for-you", headers={"Accept-Language": "en"})
    assert "Talked it over" in mine.text and "paused the account" in mine.text
    assert "Moving house" not in mine.text  # about Jan
    dutch = client.get("/settings/done-for-you", headers={"Accept-Language": "nl"})
    assert "paused the account" not in dutch.text


def test_coordinators_downloads_of_statements_and_the_fund_and_stopping_to_act_are_logged(app, client, make_member):
    fatima, karim = make_member("Fatima"), make_member("Karim", role="coordinator")
    helped = make_member("Mien", assisted=True, email=None)
    login(client, karim)
    assert client.get(f"/account/members/{fatima.id}/statement.csv").status_code == 200
    assert client.get("/account/fund/statement.csv").status_code == 200
    client.post(f"/coordinate/members/{helped.id}/act")
    client.post("/coordinate/stop-acting")
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject_id).order_by(AuditEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ledger.statement_exported", karim.id, fatima.id),
        ("ledger.fund_exported", karim.id, None),
        ("member.acting_started", karim.id, helped.id),
        ("member.acting_stopped", karim.id, helped.id),
    ]
    own = app.test_client()
    login(own, fatima)
    own.get("/account/statement.csv")
    own.get(f"/account/members/{fatima.id}/statement.csv")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 4  # one's own statement: no entry


def test_an_administrator_making_a_community_is_logged(app, client, make_member):
    ada = make_member("Ada", is_admin=True)
    login(client, ada)
    client.post("/admin", data={"slug": "zuid", "name": "Zuid", "join_policy": "approval"})
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "community.created")).one()
        assert event.actor_id == ada.id and event.details["slug"] == "zuid"


def test_the_municipality_report_and_making_figures_public_are_logged(app, client, make_member):
    karim = make_member("Karim", role="coordinator")
    login(client, karim)
    client.post("/coordinate/statistics/public", data={"public": "1"})
    assert client.get("/coordinate/statistics/report.csv").status_code == 200
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.details).order_by(AuditEvent.id)
        ).all()
    assert [(r.action, r.actor_id) for r in rows] == [
        ("stats.public_changed", karim.id),
        ("stats.report_downloaded", karim.id),
    ]
    assert rows[0].details == {"public": True} and rows[1].details["format"] == "csv"
