"""Concurrency on the real database (SQLite and PostgreSQL alike): interleaved requests never lose,
invent or double-spend an hour. Each thread has its own app context, so its own session and
connection, as concurrent web requests do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from timebank.db import take_write_lock
from timebank.exchanges.transfers import give_hours
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transaction
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .concurrency import in_threads, refusals
from .conftest import count

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def accounts(app, make_member):
    """Account ids of `n` fresh members."""

    def make(n):
        members = [make_member(f"Neighbour {i}") for i in range(n)]
        with app.app_context():
            ids = [ledger.account_for(db.session.get(Member, m.id)).id for m in members]
            db.session.commit()
        return ids

    return make


def transfers(source_id, target_id, times, minutes=1):
    def job():
        source, target = db.session.get(Account, source_id), db.session.get(Account, target_id)
        # End the read: on SQLite a write must not start from a read made before another commit.
        db.session.commit()
        return refusals(times, lambda _i: ledger.transfer(source, target, minutes, kind="gift", actor=None))

    return job


def test_500_there_and_500_back_end_where_they_began(app, accounts):
    a, b = accounts(2)
    assert in_threads(app, [transfers(a, b, 500), transfers(b, a, 500)]) == [0, 0]
    with app.app_context():
        assert ledger.balance(db.session.get(Account, a)) == ledger.balance(db.session.get(Account, b)) == 0
        assert count(Transaction) == 1000
        assert verify().ok


def test_many_threads_spending_near_the_floor_never_break_it(app, accounts):
    spender, *receivers = accounts(9)
    with app.app_context():
        ledger.transfer(
            db.session.get(Account, spender), db.session.get(Account, receivers[0]), 550, kind="gift", actor=None
        )
        db.session.commit()
    # 50 minutes of room left; 8 threads try 10 payments of 7 minutes each: 7 fit, 73 must not.
    refused = in_threads(app, [transfers(spender, receiver, 10, minutes=7) for receiver in receivers])
    assert sum(refused) == 80 - 7
    with app.app_context():
        assert ledger.balance(db.session.get(Account, spender)) == -600 + 1
        assert verify().ok


def test_the_same_reversal_fired_twice_at_once_succeeds_once(app, accounts, make_member):
    ids = accounts(4)
    coordinator_id = make_member("Karim", role="coordinator").id
    with app.app_context():
        originals = [
            ledger.transfer(
                db.session.get(Account, ids[i % 4]),
                db.session.get(Account, ids[(i + 1) % 4]),
                30 + i,
                kind="gift",
                actor=None,
            ).id
            for i in range(10)
        ]
        db.session.commit()

    def undo(transaction_id):
        def job():
            take_write_lock(db.session)  # as every POST request does first
            reversal = ledger.reverse(
                db.session.get(Transaction, transaction_id),
                actor=db.session.get(Member, coordinator_id),
                reason="fired twice",
            )
            db.session.commit()
            return reversal.id

        return job

    for transaction_id in originals:
        pair = in_threads(app, [undo(transaction_id), undo(transaction_id)])
        assert sorted(type(result).__name__ for result in pair) == ["AlreadyReversed", "int"], pair
    with app.app_context():
        assert count(Transaction) == 20
        assert all(ledger.balance(db.session.get(Account, i)) == 0 for i in ids)
        assert verify().ok


def test_one_key_used_at_once_for_two_requests_writes_one_transaction(app, accounts):
    a, b, c, d = accounts(4)

    def send(source, target, minutes, key):
        def job():
            take_write_lock(db.session)
            txn = ledger.transfer(
                db.session.get(Account, source),
                db.session.get(Account, target),
                minutes,
                kind="gift",
                actor=None,
                idempotency_key=key,
            )
            db.session.commit()
            return txn.id

        return job

    # The same request twice at once (a double click): both get the one transaction.
    same = in_threads(app, [send(a, b, 30, "click-1"), send(a, b, 30, "click-1")])
    assert isinstance(same[0], int) and same[0] == same[1]
    # One key at once for different content on accounts with no lock in common: one is written.
    other = in_threads(app, [send(a, b, 45, "click-2"), send(c, d, 45, "click-2")])
    assert sorted(type(result).__name__ for result in other) == ["IdempotencyConflict", "int"], other
    with app.app_context():
        assert count(Transaction) == 2 and verify().ok


CRASH = """
import os, sys
from timebank import create_app
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "x"})
with app.app_context():
    ledger.transfer(db.session.get(Account, int(sys.argv[2])), db.session.get(Account, int(sys.argv[3])), 120,
                    kind="gift", actor=None)
    db.session.flush()
    print("flushed", flush=True)
    os._exit(1)  # the process dies before it commits
"""


def test_a_crash_between_flush_and_commit_leaves_no_trace(app, accounts, db_url):
    a, b = accounts(2)
    with app.app_context():
        db.engine.dispose()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, db_url, str(a), str(b)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert crashed.returncode == 1 and "flushed" in crashed.stdout, crashed.stderr
    with app.app_context():
        assert count(Transaction) == 0
        assert ledger.balance(db.session.get(Account, a)) == 0
        # The crashed writer's locks are gone: the same accounts can be used right away.
        ledger.transfer(db.session.get(Account, a), db.session.get(Account, b), 60, kind="gift", actor=None)
        db.session.commit()
        assert verify().ok


def test_first_gifts_both_ways_at_once_both_go_through(app, make_member):
    """Two neighbours without accounts yet give each other hours at the same moment: on PostgreSQL
    this once deadlocked while both accounts were created (a 503)."""
    pairs = [(make_member(f"A{i}").id, make_member(f"B{i}").id) for i in range(6)]

    def give(giver_id, to_id):
        def job():
            take_write_lock(db.session)
            giver, to = db.session.get(Member, giver_id), db.session.get(Member, to_id)
            transaction = give_hours(giver, to, 30, "Thanks", actor=giver)
            db.session.commit()
            return transaction.id

        return job

    for a, b in pairs:
        results = in_threads(app, [give(a, b), give(b, a)])
        assert all(isinstance(result, int) for result in results), results
    with app.app_context():
        assert verify().ok
