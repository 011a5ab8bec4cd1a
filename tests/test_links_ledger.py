"""Hours across a link between two communities: four postings in one database transaction, each
community's books balanced on their own, the clearing accounts mirrored, the cap held as the
clearing accounts' limits (also under concurrent requests), idempotent, undone on both sides."""

from contextlib import nullcontext

import pytest
import sqlalchemy as sa
from flask import has_app_context

from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import IdempotencyConflict, InvalidTransaction, LimitExceeded, NotAllowed
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.verify import verify
from timebank.members.models import Member
from timebank.stats import rollup

from .concurrency import in_threads, refusals
from .conftest import count, link_between

CAP = 120


@pytest.fixture
def linked(app, make_community, make_member):
    """Noord and Zuid linked with a cap of two hours; Fatima and Jan in Noord, Wilma and Karim
    (a coordinator) in Zuid. Returns ids: (members by name, the two community ids)."""
    north, south = make_community("noord", "Noord"), make_community("zuid", "Zuid")
    people = {
        name: make_member(name, community_id=community.id, role=role).id
        for name, community, role in (
            ("Fatima", north, "member"),
            ("Jan", north, "member"),
            ("Wilma", south, "member"),
            ("Karim", south, "coordinator"),
            ("Els", north, "coordinator"),
        )
    }
    with nullcontext() if has_app_context() else app.app_context():
        ledger.open_clearing(link_between(north.id, south.id, CAP, "active"))
        ledger.accounts_for(*(db.session.get(Member, i) for i in people.values()))
        db.session.commit()
    return people, (north.id, south.id)


def account(member_id: int) -> Account:
    return ledger.account_for(db.session.get(Member, member_id))


def across(payer: int, provider: int, minutes: int, key: str, **options):
    return ledger.transfer_across(
        account(payer), account(provider), minutes, actor=None, idempotency_key=key, **options
    )


def clearing(north: int, south: int) -> tuple[int, int]:
    return (
        ledger.balance(ledger.clearing_account(north, south)),
        ledger.balance(ledger.clearing_account(south, north)),
    )


def community_sums() -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(Account.community_id, sa.func.sum(Account.balance)).group_by(Account.community_id)
        ).all()
    )


@pytest.mark.usefixtures("ctx")
def test_four_postings_in_two_books_that_each_balance_and_mirror(linked):
    people, (north, south) = linked
    payer_side, provider_side = across(people["Fatima"], people["Wilma"], 90, "exchange:1:settle", memo="Bike repair")
    db.session.commit()
    assert ledger.balance(account(people["Fatima"])) == -90 and ledger.balance(account(people["Wilma"])) == 90
    assert clearing(north, south) == (90, -90)  # Noord owes Zuid an hour and a half
    assert (payer_side.community_id, provider_side.community_id) == (north, south)
    assert {p.account_id: p.amount for p in payer_side.postings} == {
        account(people["Fatima"]).id: -90,
        ledger.clearing_account(north, south).id: 90,
    }
    assert {p.account_id: p.amount for p in provider_side.postings} == {
        account(people["Wilma"]).id: 90,
        ledger.clearing_account(south, north).id: -90,
    }
    assert set(community_sums().values()) == {0}
    assert verify().ok
    # Checked one community at a time, each finds its own side only: one transaction, two postings.
    for community in (north, south):
        report = verify(community)
        assert report.ok and (report.totals["transactions"], report.totals["postings"]) == (1, 2)
    assert ledger.mirror_of(payer_side).id == provider_side.id and ledger.mirror_of(provider_side).id == payer_side.id
    assert rollup.check(db.session.connection()) == []  # the statistics' roll-ups agree with the journal
    # The payer's statement names where the hours went.
    assert "Zuid" in " ".join(ledger.statement(account(people["Fatima"]))[0].others)


@pytest.mark.usefixtures("ctx")
def test_the_cap_is_the_most_one_community_may_owe_the_other(linked):
    people, (north, south) = linked
    across(people["Fatima"], people["Wilma"], 100, "k1")
    db.session.commit()
    before = count(Transaction)
    with pytest.raises(LimitExceeded) as refused:
        across(people["Jan"], people["Wilma"], 21, "k2")  # 121 > 120, though Jan himself could pay it
    db.session.rollback()
    assert refused.value.limit == CAP and count(Transaction) == before
    across(people["Jan"], people["Wilma"], 20, "k3")  # exactly the cap
    # Zuid pays back: Zuid's members may now receive help from Noord up to 240 minutes.
    across(people["Wilma"], people["Fatima"], 240, "k4")
    db.session.commit()
    assert clearing(north, south) == (-120, 120)
    with pytest.raises(LimitExceeded):
        across(people["Wilma"], people["Jan"], 1, "k5")
    db.session.rollback()
    assert verify().ok


@pytest.mark.usefixtures("ctx")
def test_the_payers_floor_and_the_providers_ceiling_hold_and_nothing_is_written(linked, app):
    people, (north, south) = linked
    zuid = db.session.get(Member, people["Wilma"]).community
    zuid.ledger_ceiling = 30
    db.session.commit()
    with pytest.raises(LimitExceeded) as refused:
        across(people["Fatima"], people["Wilma"], 31, "k1")
    db.session.rollback()
    assert refused.value.account_id == account(people["Wilma"]).id
    zuid.ledger_ceiling, north_community = 2400, db.session.get(Member, people["Fatima"]).community
    north_community.ledger_floor = -10
    db.session.commit()
    with pytest.raises(LimitExceeded) as refused:
        across(people["Fatima"], people["Wilma"], 11, "k2")
    db.session.rollback()
    assert refused.value.account_id == account(people["Fatima"]).id
    assert count(Transaction) == 0 and clearing(north, south) == (0, 0)


@pytest.mark.usefixtures("ctx")
def test_a_retry_returns_the_first_pair_and_other_content_under_the_key_is_refused(linked):
    people, (north, south) = linked
    first = across(people["Fatima"], people["Wilma"], 60, "exchange:7:settle")
    db.session.commit()
    again = across(people["Fatima"], people["Wilma"], 60, "exchange:7:settle")
    assert [side.id for side in again] == [side.id for side in first]
    with pytest.raises(IdempotencyConflict):
        across(people["Fatima"], people["Wilma"], 61, "exchange:7:settle")
    db.session.rollback()
    assert count(Transaction) == 2 and clearing(north, south) == (60, -60)


@pytest.mark.usefixtures("ctx", "english")
def test_refused_without_a_link_within_one_community_and_outside_transfer_across(linked, make_community, make_member):
    people, (north, south) = linked
    west = make_community("west", "West")
    stranger = make_member("Piet", community_id=west.id)
    for payer, provider, reason in (
        (people["Fatima"], stranger.id, "no_link"),
        (people["Fatima"], people["Jan"], "same_community"),
    ):
        with pytest.raises(InvalidTransaction) as refused:
            across(payer, provider, 10, "k")
        assert refused.value.reason == reason
        db.session.rollback()
    # An ordinary transfer cannot touch a clearing account: its mirror would be missing.
    with pytest.raises(InvalidTransaction) as refused:
        ledger.transfer(account(people["Fatima"]), ledger.clearing_account(north, south), 10, kind="gift", actor=None)
    assert "clearing account" in str(refused.value)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        ledger.set_limits(ledger.clearing_account(north, south), floor=-9999, ceiling=9999, actor=None, reason="more")
    db.session.rollback()
    assert count(Transaction) == 0 and verify().ok


@pytest.mark.usefixtures("ctx")
def test_a_member_cannot_move_another_members_hours_to_themselves_across(linked):
    people, _ = linked
    wilma = db.session.get(Member, people["Wilma"])
    with pytest.raises(Exception) as refused:
        ledger.transfer_across(
            account(people["Fatima"]), account(people["Wilma"]), 30, actor=wilma, idempotency_key="k"
        )
    assert type(refused.value).__name__ == "IntoOwnAccount"
    db.session.rollback()
    assert count(Transaction) == 0


@pytest.mark.usefixtures("ctx")
def test_the_providers_community_takes_its_own_levy(linked):
    people, (north, south) = linked
    db.session.get(Member, people["Wilma"]).community.ledger_levy_percent = 10
    db.session.commit()
    across(people["Fatima"], people["Wilma"], 100, "k")
    db.session.commit()
    assert ledger.balance(account(people["Wilma"])) == 90 and ledger.balance(ledger.fund_account(south)) == 10
    assert clearing(north, south) == (100, -100) and verify().ok


@pytest.mark.usefixtures("ctx")
def test_undoing_one_side_undoes_both_once(linked):
    people, (north, south) = linked
    karim = db.session.get(Member, people["Karim"])
    _payer_side, provider_side = across(people["Fatima"], people["Wilma"], 45, "k")
    db.session.commit()
    ledger.reverse(provider_side, actor=karim, reason="Never happened")
    db.session.commit()
    assert clearing(north, south) == (0, 0) and ledger.balance(account(people["Fatima"])) == 0
    assert count(Transaction) == 4 and verify().ok
    with pytest.raises(Exception) as refused:
        ledger.reverse(provider_side, actor=karim, reason="Again")
    assert type(refused.value).__name__ == "AlreadyReversed"
    db.session.rollback()
    # Noord's coordinator cannot undo Zuid's side: each community's coordinators act for their own.
    _payer_side, provider_side = across(people["Fatima"], people["Wilma"], 45, "k2")
    db.session.commit()
    with pytest.raises(NotAllowed):
        ledger.reverse(provider_side, actor=db.session.get(Member, people["Els"]), reason="Not mine")
    db.session.rollback()
    assert verify().ok


@pytest.mark.usefixtures("ctx")
def test_verify_finds_a_broken_mirror_a_changed_cap_and_halves_that_do_not_match(linked):
    people, (north, south) = linked
    across(people["Fatima"], people["Wilma"], 30, "k")
    db.session.commit()
    out = ledger.clearing_account(north, south)
    db.session.execute(sa.update(Account).where(Account.id == out.id).values(ceiling_override=CAP + 1))
    report = verify()
    assert {problem.check for problem in report.problems} == {"clearing_caps"}
    db.session.rollback()
    db.session.execute(sa.update(Account).where(Account.id == out.id).values(balance=Account.balance + 1))
    assert {"clearing_mirror", "cached_balance"} <= {problem.check for problem in verify().problems}
    db.session.rollback()
    # Two halves of a transfer written under different keys: each book balances and the clearing
    # accounts still mirror, but neither half has the other community's side.
    back = ledger.clearing_account(south, north)
    write_half(north, "forged:1", ((account(people["Fatima"]), -30), (out, 30)))
    write_half(south, "forged:2", ((back, -30), (account(people["Wilma"]), 30)))
    assert {problem.check for problem in verify().problems} == {"clearing_sides"}
    db.session.rollback()


def pay_across(payer_id, provider_id, times, minutes, prefix):
    def pay(i):
        take_write_lock(db.session)
        across(payer_id, provider_id, minutes, f"{prefix}:{i}")

    def job():
        return refusals(times, pay)

    return job


def test_many_requests_at_once_never_take_the_link_past_its_cap(app, linked):
    people, (north, south) = linked
    # Four threads paying from Noord to Zuid, 8 payments of 7 minutes each: 17 fit under the cap of 120, 15 must not.
    jobs = [pay_across(people[payer], people["Wilma"], 8, 7, payer) for payer in ("Fatima", "Jan", "Els")]
    jobs.append(pay_across(people["Fatima"], people["Karim"], 8, 7, "to-karim"))
    refused = in_threads(app, jobs)
    assert sum(refused) == 32 - 17, refused
    with app.app_context():
        assert clearing(north, south) == (119, -119)
        assert verify().ok


def test_both_ways_at_once_end_where_they_began(app, linked):
    people, (north, south) = linked
    refused = in_threads(
        app,
        [
            pay_across(people["Fatima"], people["Wilma"], 40, 3, "there"),
            pay_across(people["Wilma"], people["Fatima"], 40, 3, "back"),
        ],
    )
    assert refused == [0, 0]
    with app.app_context():
        assert clearing(north, south) == (0, 0) and count(Transaction) == 160
        assert verify().ok


@pytest.mark.usefixtures("ctx")
def test_the_bulk_writer_refuses_clearing_accounts_and_finds_the_fund_beside_them(linked):
    from datetime import UTC, datetime

    from timebank.ledger.bulk import bulk_post, ensure_accounts

    people, (north, south) = linked
    before = (count(Transaction), clearing(north, south))
    out = ledger.clearing_account(north, south)
    for skip_refused in (True, False):
        with pytest.raises(InvalidTransaction) as refused:
            bulk_post(
                [(north, "gift", [(account(people["Fatima"]).id, -30), (out.id, 30)], datetime.now(UTC), "Around")],
                skip_refused=skip_refused,
            )
        assert refused.value.reason == "clearing"
        db.session.rollback()
    assert (count(Transaction), clearing(north, south)) == before
    # The community's accounts by member: None is the fund, never a clearing account.
    fund = ensure_accounts(north, [])[None]
    assert db.session.get(Account, fund).kind == "fund"


def write_half(community: int, key: str | None, legs, kind: str = "exchange") -> None:
    """One community's half of a transfer across, written raw the way a bug could: each leg is (account, minutes)."""
    txn = db.session.execute(
        sa.insert(Transaction.__table__).returning(Transaction.id),
        dict(community_id=community, kind=kind, memo="", created_at=utcnow(), idempotency_key=key),
    ).scalar()
    for leg, amount in legs:
        after = ledger.balance(leg) + amount
        db.session.execute(
            sa.insert(Posting.__table__),
            dict(transaction_id=txn, account_id=leg.id, amount=amount, balance_after=after),
        )
        db.session.execute(sa.update(Account).where(Account.id == leg.id).values(balance=after))
        db.session.refresh(leg)


def damage_across(damage: str, people: dict, north: int, south: int, buurt: int) -> None:
    out, back = ledger.clearing_account(north, south), ledger.clearing_account(south, north)
    fatima, wilma = account(people["Fatima"]), account(people["Wilma"])
    if damage == "mirror_short_a_minute":  # Zuid's clearing account lost a minute its postings do not give
        db.session.execute(sa.update(Account).where(Account.id == back.id).values(balance=Account.balance - 1))
    elif damage == "clearing_account_without_a_link":  # Noord's account for Buurt: no link, no mirror
        db.session.execute(
            sa.insert(Account.__table__),
            dict(
                community_id=north, kind="clearing", peer_community_id=buurt, floor_override=-CAP, ceiling_override=CAP
            ),
        )
    elif damage == "clearing_without_a_floor":
        db.session.execute(sa.update(Account).where(Account.id == out.id).values(floor_override=None))
    elif damage == "floor_below_the_cap":
        db.session.execute(sa.update(Account).where(Account.id == out.id).values(floor_override=-CAP - 1))
    elif damage == "other_side_of_another_kind":
        write_half(north, "forged:1", ((fatima, -30), (out, 30)))
        write_half(south, "forged:1", ((back, -30), (wilma, 30)), kind="gift")
    elif damage == "other_side_of_another_amount":
        write_half(north, "forged:1", ((fatima, -30), (out, 30)))
        write_half(south, "forged:1", ((back, -20), (wilma, 20)))


@pytest.mark.parametrize(
    "damage, in_north, in_south",
    [
        ("mirror_short_a_minute", {"clearing_mirror"}, {"clearing_mirror", "cached_balance", "global_sum"}),
        ("clearing_account_without_a_link", {"clearing_mirror", "clearing_caps"}, set()),
        ("clearing_without_a_floor", {"clearing_caps"}, set()),
        ("floor_below_the_cap", {"clearing_caps"}, set()),
        ("other_side_of_another_kind", {"clearing_sides"}, {"clearing_sides"}),
        ("other_side_of_another_amount", {"clearing_sides", "clearing_mirror"}, {"clearing_sides", "clearing_mirror"}),
    ],
)
def test_verify_of_one_community_reports_its_clearing_damage_and_a_third_community_stays_ok(
    app, runner, linked, community, damage, in_north, in_south
):
    people, (north, south) = linked
    with app.app_context():
        across(people["Fatima"], people["Wilma"], 30, "exchange:1:settle")
        db.session.commit()
        damage_across(damage, people, north, south, community.id)
        db.session.commit()
        assert {problem.check for problem in verify().problems} == in_north | in_south
        found = {
            slug: {problem.check for problem in verify(i).problems}
            for slug, i in (("noord", north), ("zuid", south), ("buurt", community.id))
        }
    assert found == {"noord": in_north, "zuid": in_south, "buurt": set()}
    for slug, broken in (("noord", in_north), ("zuid", in_south), ("buurt", set())):
        result = runner.invoke(args=["ledger", "verify", "--community", slug, "--quiet"])
        assert result.exit_code == (1 if broken else 0), result.output
        for name in broken:
            assert f"{slug}: - {name}: expected that " in result.stdout
        if not broken:
            assert result.stdout.startswith(f"{slug}: Ledger OK"), result.output
