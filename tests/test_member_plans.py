"""A member's own pages look up that member's rows through an index, never by reading a whole table
that grows with the neighbourhood (SQLite's plans; PostgreSQL plans from statistics)."""

import pytest

from timebank.extensions import db
from timebank.ledger.services import fund_account

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from statistics")


SUBQUERY_READS = ("SCAN CONSTANT ROW", "SCAN anon_")


@pytest.mark.parametrize(
    ("page", "statement", "expected"),
    [
        # A member's impact on their account page: over their accounts, pots included.
        (
            "/account",
            "FROM stats_account_months WHERE stats_account_months.account_id IN",
            "SEARCH ledger_accounts USING INDEX ix_ledger_accounts_member_id (member_id=?)",
        ),
        # What coordinators did for the member: on behalf of them, or to them.
        (
            "/settings/done-for-you",
            "FROM audit_events WHERE",
            "ix_audit_events_subject (subject_type=? AND subject_id=?)",
        ),
        # The common pot's twelve months: a year of the fund's day rows, not every posting it had.
        (
            "/pots/common",
            "FROM stats_fund_days WHERE",
            "SEARCH stats_fund_days USING INDEX sqlite_autoindex_stats_fund_days_1 (community_id=? AND day>?)",
        ),
        # The common pot's latest grants, one transaction in a hundred.
        (
            "/pots/common",
            "ledger_transactions.kind = 'grant'",
            "SEARCH ledger_transactions USING INDEX ix_ledger_transactions_grants",
        ),
    ],
)
def test_a_members_page_finds_their_rows_through_an_index(app, client, member, page, statement, expected):
    with app.app_context():
        fund_account(member.community_id)  # the common pot shows nothing more without a fund
        db.session.commit()
    login(client, member)
    with statements(app, with_parameters=True) as sent:
        assert client.get(page).status_code == 200
    with app.app_context():
        plan = sqlite_plan(sent, statement)
    # Reading a subquery's few grouped rows (anon_…) is no table scan.
    scans = [step for step in plan.split(" | ") if step.startswith("SCAN") and not step.startswith(SUBQUERY_READS)]
    assert expected in plan and scans == [], plan


def test_a_post_page_finds_the_neighbourhoods_coordinators_without_reading_every_member(
    app, client, member, make_member, make_post
):
    """Jan asks for more hours than fit between the two balances: the page names the coordinators."""
    make_member("Karim", role="coordinator")
    post = make_post(make_member("Jan"), title="Help me move", kind="request", minutes=6000)
    login(client, member)
    with statements(app, with_parameters=True) as sent:
        page = client.get(f"/market/posts/{post.id}")
    assert page.status_code == 200 and "Karim" in page.text
    with app.app_context():
        plan = sqlite_plan(sent, "members.role =")
    assert "SEARCH members USING INDEX ix_members_role" in plan, plan
