"""A member's own pages look up that member's rows through an index, never by reading a whole table
that grows with the neighbourhood (SQLite's plans; PostgreSQL plans from statistics)."""

import pytest

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from statistics")


@pytest.mark.parametrize(
    ("page", "statement", "table"),
    [
        # The statement's totals over the member's accounts, pots included.
        ("/account", "FROM stats_account_days WHERE stats_account_days.account_id IN", "ledger_accounts"),
        # What coordinators did for the member: on behalf of them, or to them.
        ("/settings/done-for-you", "FROM audit_events WHERE", "audit_events"),
    ],
)
def test_a_members_page_finds_their_rows_through_an_index(app, client, member, page, statement, table):
    login(client, member)
    with statements(app, with_parameters=True) as sent:
        assert client.get(page).status_code == 200
    with app.app_context():
        plan = sqlite_plan(sent, statement)
    assert f"SCAN {table}" not in plan and f"SEARCH {table}" in plan, plan
