"""`ledger verify` finds every kind of broken ledger; `ledger export` gives an auditor a safe CSV;
the bulk writer and the demo history pass verify."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.communities.services import create_community
from timebank.db import utcnow
from timebank.demo.seed import seed
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.bulk import bulk_post, ensure_accounts
from timebank.ledger.errors import LimitExceeded
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.verify import CHECKS, verify
from timebank.members.models import Member
from timebank.pots import services as pots
from timebank.pots.common import common_pot
from timebank.pots.models import Pot
from timebank.stats import rollup

from .conftest import ON_POSTGRES, count
from .queries import sqlite_plan, statements


@pytest.fixture
def history(app, make_member):
    """Fatima gave Jan an hour, Jan gave Wilma half an hour; returns account ids by name."""
    names = ["Fatima", "Jan", "Wilma"]
    members = {name: make_member(name) for name in names}
    with app.app_context():
        accounts = {name: ledger.account_for(db.session.get(Member, m.id)) for name, m in members.items()}
        ledger.transfer(accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None, memo="Soup")
        ledger.transfer(accounts["Jan"], accounts["Wilma"], 30, kind="gift", actor=None)
        db.session.commit()
        return {name: account.id for name, account in accounts.items()}


def test_verify_passes_on_a_sound_ledger(runner, history):
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "Ledger OK: all 17 checks passed (3 accounts, 2 transactions, 4 postings)" in result.output


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_one_community_counts_each_transactions_postings_by_its_index(app, history):
    """Joining a community's transactions to its postings made SQLite probe the postings' index once
    per transaction and per account of the community: 85 s for a year of the large demo."""
    with app.app_context():
        community_id = db.session.get(Account, history["Jan"]).community_id
        with statements(app, with_parameters=True) as sent:
            assert verify(community_id).ok
        plan = sqlite_plan(sent, "SELECT transaction_id, postings FROM (")
    assert "sqlite_autoindex_ledger_postings_1 (transaction_id=?)" in plan and "account_id=?" not in plan, plan


def corrupt(app, history, damage: str):
    """Break the ledger the way a bug could: only INSERTs and balance UPDATEs, because the
    database refuses to change or delete postings."""
    ids = dict(history)
    with app.app_context():
        community_id = db.session.get(Account, ids["Jan"]).community_id
        conn = db.session.connection()

        def transaction(kind="gift", reverses=None):
            return conn.execute(
                sa.insert(Transaction.__table__).returning(Transaction.id),
                dict(community_id=community_id, kind=kind, memo="", created_at=utcnow(), reverses_id=reverses),
            ).scalar()

        def posting(txn, name, amount, after, bound=None):
            conn.execute(
                sa.insert(Posting.__table__),
                dict(transaction_id=txn, account_id=ids[name], amount=amount, balance_after=after, bound=bound),
            )

        def add_to_balance(name, amount):
            conn.execute(
                sa.update(Account.__table__).where(Account.id == ids[name]).values(balance=Account.balance + amount)
            )

        if damage == "one_legged":  # hours invented from nothing
            txn = transaction()
            posting(txn, "Wilma", 45, 75)
            add_to_balance("Wilma", 45)
        elif damage == "stale_cache":
            add_to_balance("Fatima", 10)
        elif damage == "broken_chain":
            txn = transaction()
            posting(txn, "Jan", -10, 99)
            posting(txn, "Wilma", 10, 40)
            add_to_balance("Jan", -10)
            add_to_balance("Wilma", 10)
        elif damage == "past_the_floor":
            txn = transaction()
            posting(txn, "Fatima", -600, -660, bound=-600)
            posting(txn, "Wilma", 600, 630, bound=2400)
            add_to_balance("Fatima", -600)
            add_to_balance("Wilma", 600)
        elif damage == "bad_reversal":
            original = db.session.scalar(sa.select(Transaction.id).order_by(Transaction.id))
            txn = transaction("reversal", reverses=original)
            posting(txn, "Fatima", 30, -30)
            posting(txn, "Jan", -30, 0)
            add_to_balance("Fatima", 30)
            add_to_balance("Jan", -30)
        elif damage == "other_community":  # a transaction of Noord moving hours inside this community
            community_id = create_community("noord", "Noord").id
            txn = transaction()
            posting(txn, "Jan", -15, 15)
            posting(txn, "Wilma", 15, 45)
            add_to_balance("Jan", -15)
            add_to_balance("Wilma", 15)
        elif damage == "reversal_of_a_reversal":  # undoing an undo: the original would count twice
            second = db.session.scalars(sa.select(Transaction).order_by(Transaction.id)).all()[1]
            undo = ledger.reverse(second, actor=None, reason="Wrong person")
            txn = transaction("reversal", reverses=undo.id)
            posting(txn, "Jan", -30, 30)
            posting(txn, "Wilma", 30, 30)
            add_to_balance("Jan", -30)
            add_to_balance("Wilma", 30)
        elif damage == "closed_with_hours":
            conn.execute(sa.update(Account.__table__).where(Account.id == ids["Wilma"]).values(status="closed"))
        elif damage == "one_legged_payment":  # hours vanished into nothing
            txn = transaction()
            posting(txn, "Fatima", -15, -75)
            add_to_balance("Fatima", -15)
        elif damage == "one_minute_past_the_floor":  # the ceiling reached exactly is allowed
            txn = transaction()
            posting(txn, "Fatima", -600, -660, bound=-659)
            posting(txn, "Wilma", 600, 630, bound=630)
            add_to_balance("Fatima", -600)
            add_to_balance("Wilma", 600)
        elif damage == "one_minute_past_the_ceiling":  # the floor reached exactly is allowed
            txn = transaction()
            posting(txn, "Fatima", -600, -660, bound=-660)
            posting(txn, "Wilma", 600, 630, bound=629)
            add_to_balance("Fatima", -600)
            add_to_balance("Wilma", 600)
        elif damage == "half_undone":  # a reversal of two of four postings: it balances, half stays done
            ids["fund"] = ledger.fund_account(community_id).id
            original = transaction()
            posting(original, "Fatima", -10, -70)
            posting(original, "Jan", 10, 40)
            posting(original, "Wilma", -5, 25)
            posting(original, "fund", 5, 5)
            txn = transaction("reversal", reverses=original)
            posting(txn, "Fatima", 10, -60)
            posting(txn, "Jan", -10, 30)
            add_to_balance("Wilma", -5)
            add_to_balance("fund", 5)
        elif damage == "closed_owing_hours":
            conn.execute(sa.update(Account.__table__).where(Account.id == ids["Fatima"]).values(status="closed"))
        elif damage.startswith("pot_"):
            fatima = db.session.get(Member, db.session.get(Account, ids["Fatima"]).member_id)
            if damage == "pot_without_its_pot":  # an account of kind pot that no pot owns
                conn.execute(
                    sa.insert(Account.__table__),
                    dict(community_id=community_id, member_id=fatima.id, kind="pot", status="open", balance=0),
                )
            else:
                pot = pots.open_pot(fatima, "Course", 60)
                ids["pot"] = pot.account_id
                if damage == "pot_one_minute_below_zero":
                    txn = transaction("saving")
                    posting(txn, "pot", -1, -1)
                    posting(txn, "Fatima", 1, -59)
                    add_to_balance("pot", -1)
                    add_to_balance("Fatima", 1)
                elif damage == "pot_of_another_member":
                    jan = db.session.get(Account, ids["Jan"]).member_id
                    conn.execute(sa.update(Pot.__table__).where(Pot.id == pot.id).values(member_id=jan))
                elif damage == "pot_of_another_community":
                    noord = create_community("noord", "Noord").id
                    conn.execute(sa.update(Pot.__table__).where(Pot.id == pot.id).values(community_id=noord))
        db.session.commit()


DAMAGES = [
    ("one_legged", {"postings_per_transaction", "transaction_sum", "global_sum", "journal_sum"}),
    ("one_legged_payment", {"postings_per_transaction", "transaction_sum", "global_sum", "journal_sum"}),
    ("stale_cache", {"cached_balance", "global_sum"}),
    ("broken_chain", {"balance_after_chain"}),
    ("past_the_floor", {"limits"}),
    ("one_minute_past_the_floor", {"limits"}),
    ("one_minute_past_the_ceiling", {"limits"}),
    ("bad_reversal", {"reversal_mirrors_original"}),
    ("half_undone", {"reversal_mirrors_original"}),
    ("closed_with_hours", {"closed_accounts"}),
    ("closed_owing_hours", {"closed_accounts"}),
    ("other_community", {"same_community"}),
    ("reversal_of_a_reversal", {"reversal_kind"}),
    ("pot_without_its_pot", {"pots"}),
    ("pot_one_minute_below_zero", {"pots"}),
    ("pot_of_another_member", {"pots"}),
    ("pot_of_another_community", {"pots"}),
]


@pytest.mark.parametrize("damage, broken", DAMAGES)
def test_verify_finds_each_kind_of_damage_and_exits_non_zero(app, runner, history, damage, broken):
    corrupt(app, history, damage)
    with app.app_context():
        report = verify()
    assert {problem.check for problem in report.problems} == broken
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert "Ledger BROKEN" in result.output
    for name in broken:
        rule = next(rule for check, rule, _sql in CHECKS if check == name)
        assert f"- {name}: expected that {rule}" in result.output
    # Checked one community at a time, the same damage is found, in the community it was done in.
    with app.app_context():
        found = {
            community.slug: {problem.check for problem in verify(community.id).problems}
            for community in db.session.scalars(sa.select(Community))
        }
    assert found.pop("buurt") == broken and not any(found.values())
    result = runner.invoke(args=["ledger", "verify", "--per-community", "--quiet"])
    assert result.exit_code == 1 and "buurt: Ledger BROKEN" in result.output and not result.stderr


@pytest.mark.parametrize("damage, broken", DAMAGES)
def test_verify_of_one_community_reports_the_damage_done_there_and_not_in_its_neighbour(
    app, runner, history, make_community, make_member, damage, broken
):
    zuid = make_community("zuid", "Zuid")
    with app.app_context():  # a sound neighbour: an hour given in Zuid
        giver, taker = (db.session.get(Member, make_member(name, community_id=zuid.id).id) for name in ("Els", "Karim"))
        ledger.transfer(ledger.account_for(giver), ledger.account_for(taker), 60, kind="gift", actor=None)
        db.session.commit()
    corrupt(app, history, damage)
    result = runner.invoke(args=["ledger", "verify", "--community", "buurt", "--quiet"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"buurt: Ledger BROKEN: {len(broken)} of {len(CHECKS)} checks failed"), result.stdout
    for name in broken:  # each broken rule by name, with an offending row under it
        rule = next(rule for check, rule, _sql in CHECKS if check == name)
        heads = [i for i, line in enumerate(lines) if line.startswith(f"buurt: - {name}: expected that {rule};")]
        assert len(heads) == 1 and lines[heads[0] + 1].startswith("buurt:     {"), result.stdout
    result = runner.invoke(args=["ledger", "verify", "--community", "zuid", "--quiet"])
    assert result.exit_code == 0 and result.stdout.startswith("zuid: Ledger OK"), result.output


def test_export_writes_every_posting_and_defuses_formulas(app, runner, history, tmp_path):
    with app.app_context():
        accounts = {name: db.session.get(Account, i) for name, i in history.items()}
        ledger.transfer(
            accounts["Wilma"],
            accounts["Fatima"],
            15,
            kind="gift",
            actor=None,
            memo='=HYPERLINK("http://evil.example","Click")',
        )
        ledger.transfer(accounts["Wilma"], accounts["Fatima"], 15, kind="gift", actor=None, memo="-2+3")
        db.session.commit()
    out = tmp_path / "journal.csv"
    result = runner.invoke(args=["ledger", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 8
    assert [(r["account_owner"], r["amount_minutes"], r["balance_after_minutes"]) for r in rows[:2]] == [
        ("Fatima", "-60", "-60"),
        ("Jan", "60", "60"),
    ]
    memos = [r["memo"] for r in rows]
    assert '\'=HYPERLINK("http://evil.example","Click")' in memos and "'-2+3" in memos
    assert all(not r["memo"].startswith(("=", "+", "-", "@")) for r in rows)
    to_stdout = runner.invoke(args=["ledger", "export", "--community", "buurt"])
    assert to_stdout.output.count("\n") == 9
    unknown = runner.invoke(args=["ledger", "export", "--community", "nowhere"])
    assert unknown.exit_code != 0 and "no community" in unknown.output


def test_bulk_post_writes_a_history_in_time_order_and_skips_what_limits_refuse(app, history):
    with app.app_context():
        community_id = db.session.get(Account, history["Jan"]).community_id
        fund = ensure_accounts(community_id, [])[None]
        start = utcnow() - timedelta(days=10)
        jan, wilma = history["Jan"], history["Wilma"]
        entries = [
            (community_id, "donation", [(wilma, -30), (fund, 30)], start, "For the fund"),
            (community_id, "grant", [(fund, -60), (jan, 60)], start + timedelta(days=1), "Too much"),
            (community_id, "grant", [(fund, -30), (jan, 30)], start + timedelta(days=2), "Monthly hours"),
        ]
        ids = bulk_post(entries)
        db.session.commit()
        assert ids[1] is None and ids[0] < ids[2]
        assert ledger.balance(db.session.get(Account, fund)) == 0
        assert ledger.balance(db.session.get(Account, jan)) == 60
        # The roll-ups follow the bulk writer: the common pot sees the donation and the grant that went through.
        assert rollup.check(db.session.connection()) == []
        pot = common_pot(community_id)
        assert (pot.came_in, pot.went_out) == ({"donation": 30}, {"grant": 30})
        with pytest.raises(LimitExceeded):
            bulk_post(entries[1:2], skip_refused=False)
        db.session.rollback()
        assert verify().ok


def test_demo_history_is_believable_and_passes_verify(app, runner):
    with app.app_context():
        ctx = seed(members=60, months=4, seed=5)
        db.session.commit()
        kinds = dict(db.session.execute(sa.select(Transaction.kind, sa.func.count()).group_by(Transaction.kind)).all())
        assert kinds["gift"] > 200 and kinds["donation"] > 5 and kinds["grant"] > 0
        assert count(Account) == len(ctx.member_ids) + 1 + count(Pot)  # and the fund
        fatima = db.session.scalar(sa.select(Member).where(Member.email == "fatima@example.org"))
        lines = ledger.statement(ledger.account_for(fatima))
        assert lines and all(line.created_at <= ctx.now for line in lines)
        assert [line.created_at for line in lines] == sorted((line.created_at for line in lines), reverse=True)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def test_long_commands_say_how_far_they_are(app, runner, history, tmp_path, monkeypatch):
    """An export of millions of postings or a large demo seed takes minutes: they report progress
    on standard error, so the file written (or the standard output piped on) stays clean."""
    monkeypatch.setattr("timebank.ledger.cli.PROGRESS_EVERY", 2)
    result = runner.invoke(args=["ledger", "export", "--output", str(tmp_path / "journal.csv")])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("postings written") == 2 and "… 4 postings written" in result.stderr
    assert "postings written" not in (tmp_path / "journal.csv").read_text()
    result = runner.invoke(args=["ledger", "verify"])
    assert f"checking {len(CHECKS)} rules" in result.stderr and "Ledger OK" in result.stdout
