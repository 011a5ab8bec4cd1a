"""The circulation indicators on a hand-built neighbourhood (tests/stats_scenario.py works every
figure out), the roll-ups the ledger keeps against a rebuild from the postings, and periods."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from timebank.exchanges import services as exchanges
from timebank.exchanges import transfers
from timebank.extensions import db
from timebank.ledger.models import Account
from timebank.members.models import Member
from timebank.pots import services as pots
from timebank.pots.common import common_pot
from timebank.stats import rollup
from timebank.stats.indicators import InvalidPeriod, check_period, compute, period, previous

from .conftest import ON_POSTGRES
from .queries import sqlite_plan, statements
from .stats_scenario import BY_CATEGORY, EXPECTED, HISTOGRAM, NOVEMBER, Clock, at, balance, build

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def scenario(monkeypatch, community, make_member, make_post):
    return build(Clock(monkeypatch), community, make_member, make_post)


def test_the_scenario_moved_the_hours_the_table_says(scenario):
    now = {name: balance(scenario[name]) for name in ("Ann", "Bob", "Cas", "Dirk", "Eva")}
    assert now == {"Ann": 24, "Bob": -174, "Cas": 186, "Dirk": -90, "Eva": -10}


def test_every_indicator_of_november(scenario, community):
    stats = compute(community, *NOVEMBER)
    found = {name: getattr(stats, name) for name in EXPECTED}
    assert found == pytest.approx(EXPECTED)
    assert isinstance(stats.minutes_exchanged, int) and isinstance(stats.distinct_pairs, int)


def test_balance_histogram_at_the_end_of_november(scenario, community):
    stats = compute(community, *NOVEMBER)
    assert {b.key: b.members for b in stats.balance_histogram if b.members} == HISTOGRAM
    assert sum(b.members for b in stats.balance_histogram) == stats.members_total


def test_by_category_merges_nothing_and_leaves_the_undone_exchange_out(scenario, community, english):
    from timebank.communities.models import Category

    keys = {c.id: c.key for c in db.session.scalars(sa.select(Category))}
    stats = compute(community, *NOVEMBER)
    assert [(keys.get(c.category_id), c.exchanges, c.minutes) for c in stats.by_category] == BY_CATEGORY
    assert stats.by_category[1].name == "No category"


def test_by_month_counts_each_month_in_local_dates(scenario, community):
    stats = compute(community, date(2026, 10, 1), date(2026, 12, 31))
    # October: E0 (Ann and Bob, 23:30 local on the 31st). December: E8 (00:30 local on the 1st), Hal joined.
    assert [(m.month, m.minutes, m.exchanges, m.active_members, m.new_members) for m in stats.by_month] == [
        ("2026-10", 60, 1, 2, 0),
        ("2026-11", 450, 6, 5, 1),
        ("2026-12", 30, 1, 2, 1),
    ]
    assert stats.minutes_exchanged == 540


@pytest.mark.parametrize(
    ("day", "minutes"),
    [(date(2026, 10, 31), 60), (date(2026, 11, 30), 30), (date(2026, 12, 1), 30), (date(2026, 11, 20), 0)],
)
def test_one_day_periods_end_inclusive_in_local_dates(scenario, community, day, minutes):
    stats = compute(community, day, day)
    assert stats.minutes_exchanged == minutes
    assert stats.exchanges_completed == (1 if minutes else 0)


def test_an_undone_exchange_counts_nowhere(scenario, community):
    """E6 (Dirk helped Cas on 20 November) was reversed on the 25th: not on its day, not in the pairs."""
    stats = compute(community, date(2026, 11, 20), date(2026, 11, 25))
    assert (
        stats.exchanges_completed,
        stats.minutes_exchanged,
        stats.active_members,
        stats.distinct_pairs,
        stats.fund_levy,
        stats.fund_grants,
    ) == (0, 0, 0, 0, 0, 20)


def test_the_live_roll_ups_equal_a_rebuild_from_the_ledger(scenario, app):
    conn = db.session.connection()
    assert rollup.check(conn) == []
    live = rollup.stored(conn)
    assert live[rollup.DAYS]
    result = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert rollup.stored(db.session.connection()) == live
    result = app.test_cli_runner().invoke(args=["stats", "check"])
    assert result.exit_code == 0 and "OK" in result.output


@pytest.mark.parametrize("table", ["DAYS", "ACCOUNT_MONTHS", "PAIR_MONTHS", "FUND_DAYS"])
def test_check_reports_a_roll_up_that_drifted_and_rebuild_mends_it(scenario, app, table):
    """The month tables are kept by the database from the day rows; check covers them too."""
    drifting = getattr(rollup, table)
    column = next(name for name in ("exchanges", "net", "came_in") if name in drifting.c)
    db.session.execute(sa.update(drifting).values({column: drifting.c[column] + 1}))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["stats", "check"])
    assert result.exit_code == 1 and drifting.name in result.output and "stats rebuild" in result.output
    assert app.test_cli_runner().invoke(args=["stats", "rebuild"]).exit_code == 0
    assert "OK" in app.test_cli_runner().invoke(args=["stats", "check"]).output


def test_the_median_days_to_accept_of_an_even_number_of_requests_is_the_middle_pair(scenario, community):
    """Requests posted from 1 to 10 November: R1 taken up in 2 days, R2 in 4, R3 never; none after."""
    stats = compute(community, date(2026, 11, 1), date(2026, 11, 10))
    assert (stats.requests_posted, stats.median_days_to_accept) == (3, 3.0)
    assert compute(community, date(2026, 12, 1), date(2026, 12, 31)).median_days_to_accept is None


def test_the_common_pot_reads_its_twelve_months_from_the_funds_days(scenario, community):
    """The fund by kind, from the scenario's table: the levy of every exchange (10 %, rounded down:
    E0 6, E1 12, E2 6, E3 9, E4 3, E5 12, E6 4, E7 3, E8 3), Dirk's donation, the grant to Eva and the
    reversal of E6, which gave its 4 back. Twelve months are today and the 364 local days before."""
    pot = common_pot(community.id, now=at(2026, 12, 3))
    assert (pot.came_in, pot.went_out) == ({"exchange": 58, "donation": 30}, {"grant": 20, "reversal": 4})
    assert pot.balance == pot.total_in - pot.total_out == 64
    # A year after 31 October: E0 (23:30 local on the 31st) has dropped out.
    pot = common_pot(community.id, now=at(2027, 10, 31))
    assert (pot.came_in, pot.went_out) == ({"exchange": 52, "donation": 30}, {"grant": 20, "reversal": 4})
    # A year after 30 November only E8 is left: 23:30 UTC on the 30th, but 1 December in Amsterdam.
    pot = common_pot(community.id, now=at(2027, 11, 30))
    assert (pot.came_in, pot.went_out) == ({"exchange": 3}, {})


def test_rebuilding_a_day_table_alone_does_not_count_its_month_rows_twice(scenario):
    """Migration 0160 rebuilds the day tables by name; its month table, kept by triggers from the day
    rows, is emptied and refilled with them, not added to."""
    conn = db.session.connection()
    live = rollup.stored(conn)
    db.session.execute(sa.update(rollup.PAIR_DAYS).values(exchanges=rollup.PAIR_DAYS.c.exchanges + 1))
    for name in ("stats_account_days", "stats_pair_days"):
        assert rollup.rebuild(conn, tables=(name,)) > 0
    assert rollup.check(conn) == []
    assert rollup.stored(conn) == live


def test_month_rows_follow_every_posting(scenario):
    """The month tables sum the day rows: November's pairs in one month row each, and each
    account's balance change per month (the fund took 6 in October, 55 in November, 3 in December)."""
    kept = rollup.stored(db.session.connection())
    fund = db.session.scalar(
        sa.select(Account.id).where(Account.kind == "fund", Account.community_id == scenario["Ann"].community_id)
    )
    months = {key[1].month: row["net"] for key, row in kept[rollup.ACCOUNT_MONTHS].items() if key[0] == fund}
    assert months == {10: 6, 11: 55, 12: 3}
    ann, bob = scenario["Ann"].id, scenario["Bob"].id
    november = date(2026, 11, 1)
    assert kept[rollup.PAIR_MONTHS][(scenario["Ann"].community_id, november, ann, bob)]["exchanges"] == 1
    assert kept[rollup.PAIR_MONTHS][(scenario["Ann"].community_id, november, bob, ann)]["exchanges"] == 1


@pytest.mark.parametrize(
    ("start", "end", "pairs", "fund"),
    [
        (date(2026, 10, 1), date(2026, 10, 31), 1, 6),  # a whole month: month rows only
        (date(2026, 10, 31), date(2026, 12, 15), 5, 64),  # a day, a whole month, half a month
        (date(2026, 11, 11), date(2026, 12, 31), 3, 64),  # E3 (10 Nov, Ann and Cas) left out
        (date(2026, 11, 1), date(2026, 11, 12), 3, 66),  # the fund's balance mid-month: day rows up to the month's end
        (date(2026, 11, 13), date(2026, 11, 20), 2, 82),
        (date(2026, 12, 1), date(2026, 12, 5), 1, 64),  # ends today (the clock's): the balances as they are
    ],
)
def test_pairs_and_balances_from_month_and_day_rows(scenario, community, start, end, pairs, fund):
    """Whole months are read from the month rows and the edges from the day rows: the pairs of
    neighbours and the fund's balance at the period's end come out as the table in the scenario says."""
    stats = compute(community, start, end)
    assert (stats.distinct_pairs, stats.fund_balance) == (pairs, fund)


def test_another_community_sees_none_of_it(scenario, make_community):
    elsewhere = make_community("noord", "Noord")
    stats = compute(elsewhere, *NOVEMBER)
    assert (stats.minutes_exchanged, stats.members_total, stats.fund_balance, stats.by_category) == (0, 0, 0, [])


def test_an_empty_period_divides_by_nothing(community):
    stats = compute(community, *NOVEMBER)
    assert (stats.participation_rate, stats.velocity, stats.turnover_gini, stats.reciprocity_rate) == (
        None,
        None,
        None,
        None,
    )


def test_named_periods_and_the_one_before():
    today = date(2026, 3, 15)
    assert period("this_month", today) == (date(2026, 3, 1), today)
    assert period("last_month", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert period("this_year", today) == (date(2026, 1, 1), today)
    assert previous(date(2026, 2, 1), date(2026, 2, 28)) == (date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(InvalidPeriod):
        check_period(date(2026, 2, 1), date(2026, 1, 1))
    check_period(date(2016, 1, 1), date(2026, 1, 7))  # ten years of 366 days, both ends included
    with pytest.raises(InvalidPeriod):
        check_period(date(2016, 1, 1), date(2026, 1, 8))
    # This month so far, on the 30th of July: the same 30 days of June, its whole month.
    assert previous(date(2026, 7, 1), date(2026, 7, 30)) == (date(2026, 6, 1), date(2026, 6, 30))


def test_last_12_months_are_whole_months_before_this_one_and_compare_like_for_like():
    """On 15 March the last 12 months are March to February: this month's first half is left out,
    and the period before is the twelve whole months before those, not 365 days."""
    today = date(2026, 3, 15)
    start, end = period("last_12_months", today)
    assert (start, end) == (date(2025, 3, 1), date(2026, 2, 28))
    assert previous(start, end) == (date(2024, 3, 1), date(2025, 2, 28))
    # At the start of a year and in a leap year, too.
    assert period("last_12_months", date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert previous(*period("last_12_months", date(2025, 3, 31))) == (date(2023, 3, 1), date(2024, 2, 29))


def test_a_period_so_far_compares_with_the_same_days_before():
    """This month so far against the same days of last month; this year so far against the same
    dates last year; a custom stretch of days against as many days just before it."""
    assert previous(date(2026, 3, 1), date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 15))
    assert previous(date(2026, 3, 1), date(2026, 3, 30)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert previous(date(2026, 1, 1), date(2026, 3, 15)) == (date(2025, 1, 1), date(2025, 3, 15))
    assert previous(date(2028, 1, 1), date(2028, 2, 28)) == (date(2027, 1, 1), date(2027, 2, 28))
    assert previous(date(2028, 1, 1), date(2028, 2, 29)) == (date(2027, 11, 1), date(2027, 12, 31))
    assert previous(date(2026, 3, 10), date(2026, 3, 19)) == (date(2026, 2, 28), date(2026, 3, 9))


def test_a_pot_is_the_members_own_money_and_its_share_was_earned(monkeypatch, community, make_member, make_post):
    """Fatima puts 20 % of what she earns into a pot, then saves 30 more minutes in it. Jan pays
    her 100 for a repair: 80 to her account, 20 to her pot. Her pot and account together are her
    balance; saving is no exchange; she earned the whole 100."""
    from timebank.pots import services as pots

    from .stats_scenario import at, exchange

    clock = Clock(monkeypatch)
    fatima, jan = make_member("Fatima", created_at=at(2026, 6, 1)), make_member("Jan", created_at=at(2026, 6, 1))
    clock.set(at(2026, 11, 2))
    pot = pots.open_pot(fatima, "New bike", 600)
    pots.set_share(pot, fatima, 20)
    db.session.commit()
    exchange(clock, at(2026, 11, 3), fatima, jan, 100, make_post(fatima, kind="offer", created_at=at(2026, 11, 1)))
    clock.set(at(2026, 11, 4))
    pots.deposit(pot, fatima, 30)
    db.session.commit()
    stats = compute(community, *NOVEMBER)
    assert (stats.minutes_exchanged, stats.exchanges_completed, stats.active_members, stats.velocity) == (
        100,
        1,
        2,
        1.0,
    )
    assert {b.key: b.members for b in stats.balance_histogram if b.members} == {"owes_up_to_5": 1, "has_up_to_5": 1}
    # x = 100 (Jan paid) and 100 (Fatima earned): everyone equal.
    assert stats.turnover_gini == 0
    assert rollup.check(db.session.connection()) == []


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_no_member_is_compared_with_every_other_member(scenario, community, app):
    """Each member's turnover is looked up, never searched for among all the others: joining every
    member to the turnover by a scan made the page take 1.6 s with 5,000 members."""
    with statements(app, with_parameters=True) as sent:
        compute(community, *NOVEMBER)
    plan = sqlite_plan(sent, "WITH turnover AS")
    assert "MATERIALIZE turnover" in plan
    assert not [step for step in plan.split(" | ") if step.startswith("SCAN") and step.endswith("LEFT-JOIN")]


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_a_partial_month_reads_the_day_rows_index_alone(scenario, community, app):
    """A period that starts or ends inside a month (this month so far, its first week compared) reads
    that month's day rows: their figures come from the index, not a look-up of every row in its
    table, which was a third of the statistics page's time with 5,000 members."""
    with statements(app, with_parameters=True) as sent:
        compute(community, NOVEMBER[0], NOVEMBER[0] + timedelta(days=6))
    plan = sqlite_plan(sent, "WITH turnover AS")
    day_reads = [step for step in plan.split(" | ") if "stats_account_days" in step and "INDEX" in step]
    assert day_reads
    assert all("COVERING INDEX ix_stats_account_days_figures" in step for step in day_reads if "community_id=" in step)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_the_requests_of_a_period_are_found_by_their_date(scenario, community, app):
    """Requests posted in the period are read by community, kind and date, not by walking every post
    of the community (three statements of 8 ms each, twice a page, with 20,000 posts; two since the
    median is read with its count)."""
    with statements(app, with_parameters=True) as sent:
        compute(community, *NOVEMBER)
    reads = [
        sqlite_plan([(statement, parameters)], "posts")
        for statement, parameters in sent
        if "posts.kind = " in " ".join(statement.split())
    ]
    assert len(reads) == 2
    for plan in reads:
        assert "INDEX ix_posts_created (community_id=? AND kind=? AND created_at>? AND created_at<?)" in plan


def test_the_period_compared_with_has_every_figure_but_the_breakdowns(scenario, community):
    """The page compares the period before figure by figure; only its charts' breakdowns are left out."""
    whole = compute(community, *NOVEMBER).as_dict()
    compared = compute(community, *NOVEMBER, breakdowns=False).as_dict()
    assert whole["by_month"] and whole["by_category"]
    assert compared == {**whole, "by_month": [], "by_category": []}


def test_a_member_is_quiet_after_ninety_days_without_an_exchange_not_a_day_sooner(scenario, community):
    """Ann and Eva last took part on 12 November (Ann's paper slip for Eva): on 9 February that is the
    90th day back, so they are not quiet yet; on 10 February they are. Karim never took part."""
    assert compute(community, date(2026, 12, 1), date(2027, 2, 9)).dormant_members == 1
    assert compute(community, date(2026, 12, 1), date(2027, 2, 10)).dormant_members == 3


def test_a_period_with_parts_of_months_at_both_ends_counts_those_days(scenario, community):
    """15 October to 5 December: the end of October and the start of December are read day by day,
    November as a whole month; each month shows what the whole-month periods show (E0 on 31 October,
    E8 on 1 December, Hal joined on the 2nd). Karim, thanked with a gift today, exchanged nothing."""
    transfers.give_hours(scenario["Bob"], scenario["Karim"], 15, "Thanks for the ladder", actor=scenario["Bob"])
    db.session.commit()
    stats = compute(community, date(2026, 10, 15), date(2026, 12, 5))
    assert [(m.month, m.minutes, m.exchanges, m.active_members, m.new_members) for m in stats.by_month] == [
        ("2026-10", 60, 1, 2, 0),
        ("2026-11", 450, 6, 5, 1),
        ("2026-12", 30, 1, 2, 1),
    ]


def test_what_happens_today_leaves_a_period_that_ended_yesterday_alone(scenario, community):
    """It is 5 December: a grant today changes neither the fund nor Eva's balance as they were at the
    end of the 4th (the fund: 61 at the end of November and E8's levy of 3 on 1 December)."""
    before = compute(community, date(2026, 12, 1), date(2026, 12, 4))
    transfers.grant_from_fund(scenario["Eva"], 20, "Bus fare", actor=scenario["Karim"])
    db.session.commit()
    after = compute(community, date(2026, 12, 1), date(2026, 12, 4))
    assert before.fund_balance == after.fund_balance == 64
    assert after.balance_histogram == before.balance_histogram


def test_hours_saved_in_a_pot_count_in_the_balance_but_not_against_the_limit(scenario, community):
    """Ann is at her highest balance (24 minutes). Once she puts them in a savings pot she can earn
    again, so she is no longer at her ceiling, and her 24 minutes still count as hers."""
    today = date(2026, 12, 1), date(2026, 12, 5)
    assert compute(community, *today).members_at_ceiling == 1
    pots.deposit(pots.open_pot(scenario["Ann"], "Bike", 600), scenario["Ann"], 24)
    db.session.commit()
    stats = compute(community, *today)
    assert stats.members_at_ceiling == 0 and stats.saved_minutes == 24 + 186


def test_a_member_who_took_part_and_was_paused_later_still_counts_in_that_period(scenario, community):
    db.session.execute(sa.update(Member).where(Member.id == scenario["Eva"].id).values(status="suspended"))
    db.session.commit()
    stats = compute(community, *NOVEMBER)
    assert (stats.members_total, stats.active_members) == (EXPECTED["members_total"], EXPECTED["active_members"])


def test_a_merged_category_counts_what_was_exchanged_under_its_old_name(scenario, community, english):
    from timebank.communities.models import Category
    from timebank.market.categories import merge_category

    by_key = {c.key: c for c in db.session.scalars(sa.select(Category).where(Category.community_id == community.id))}
    merge_category(by_key["repairs"], by_key["cooking"], actor=scenario["Karim"])
    db.session.commit()
    keys = {c.id: c.key for c in db.session.scalars(sa.select(Category))}
    stats = compute(community, *NOVEMBER)
    assert [(keys.get(c.category_id), c.exchanges, c.minutes) for c in stats.by_category] == [
        ("cooking", 4, 300),
        (None, 2, 150),
    ]


def test_days_until_a_request_is_taken_up_count_to_the_agreement_not_the_offer_of_help(
    scenario, community, make_post, monkeypatch
):
    """Bob asks on 6 December, Cas offers to help on the 7th, Bob agrees on the 9th: three days."""
    clock = Clock(monkeypatch)
    clock.set(at(2026, 12, 6))
    request = make_post(scenario["Bob"], kind="request", title="Help me move a cupboard", created_at=clock.now)
    clock.set(at(2026, 12, 7))
    offer = exchanges.propose(request, scenario["Cas"], 60, actor=scenario["Cas"])
    clock.set(at(2026, 12, 9))
    exchanges.accept(offer, actor=scenario["Bob"])
    db.session.commit()
    assert compute(community, date(2026, 12, 6), date(2026, 12, 31)).median_days_to_accept == 3.0
