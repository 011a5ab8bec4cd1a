"""Model-based test of the ledger: hypothesis drives random programs of opening accounts, transfers
with edge-biased amounts, retries with the same key, retries with changed content, reversals,
double reversals and suspensions against the real database, next to a plain-dict model. After
every step the database must agree with the model and `ledger verify` must find nothing.

The seed is printed when it fails; replay with LEDGER_SEED=<seed>. LEDGER_EXAMPLES=<n> runs longer.
Shrinking a failure to the shortest program takes minutes with a database behind every step, so
it is off unless LEDGER_SHRINK=1."""

import os
import random
import shutil

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from timebank.communities.services import create_community
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import (
    MAX_MINUTES,
    AccountClosed,
    AlreadyReversed,
    IdempotencyConflict,
    InvalidAmount,
    InvalidTransaction,
    LimitExceeded,
)
from timebank.ledger.models import Account, Transaction
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .conftest import ON_POSTGRES, empty_postgres

SEED = int(os.environ.get("LEDGER_SEED") or random.randrange(2**32))
EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", "10"))
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("LEDGER_SHRINK") else [])

COMMUNITY_LIMITS = (-600, 2400)
FLOORS = st.sampled_from([None, None, 0, -1, -30, -6000])
CEILINGS = st.sampled_from([None, None, 0, 1, 90, 60_000])


def edge_amounts(room_to_pay: int | None, room_to_receive: int | None):
    """Amounts that sit on the edges: 0, ±1, exactly the room left, one past it, and huge ones."""
    edges = [0, -1, 1, MAX_MINUTES, MAX_MINUTES + 1]
    for room in (room_to_pay, room_to_receive):
        if room is not None:
            edges += [room - 1, room, room + 1]
    return st.one_of(st.sampled_from(edges), st.integers(min_value=-5, max_value=900))


class LedgerMachine(RuleBasedStateMachine):
    """The model: balances, limits and statuses per account id; transactions with their legs."""

    database = None  # set by the test: how to get an empty migrated database for each program

    def __init__(self):
        super().__init__()
        self.app = self.database()
        self.context = self.app.app_context()
        self.context.push()
        community = create_community("buurt", "Buurt")
        self.coordinator = Member(community_id=community.id, name="Karim", role="coordinator", status="active")
        db.session.add(self.coordinator)
        db.session.commit()
        self.community_id = community.id
        self.accounts = {}  # id -> Account
        self.balances, self.limits, self.status = {}, {}, {}
        self.legs = {}  # transaction id -> {account id: minutes}
        self.reversed, self.corrections = set(), set()
        self.keyed = {}  # key -> (transaction id, from id, to id, minutes, memo)
        self.counter = 0

    def teardown(self):
        db.session.remove()
        self.context.pop()

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _refusal(self, amounts: dict[int, int]):
        """What the ledger must refuse for these legs, checked in account id order like the service."""
        for account_id in sorted(amounts):
            amount = amounts[account_id]
            if self.status[account_id] != "open":
                return AccountClosed
            floor, ceiling = self.limits[account_id]
            after = self.balances[account_id] + amount
            if amount < 0 and floor is not None and after < floor:
                return LimitExceeded, floor
            if amount > 0 and ceiling is not None and after > ceiling:
                return LimitExceeded, ceiling
        return None

    def _apply(self, transaction_id: int, amounts: dict[int, int]) -> None:
        self.legs[transaction_id] = amounts
        for account_id, amount in amounts.items():
            self.balances[account_id] += amount

    @precondition(lambda self: len(self.accounts) < 6)
    @rule(floor=FLOORS, ceiling=CEILINGS)
    def open_account(self, floor, ceiling):
        member = Member(community_id=self.community_id, name=f"Neighbour {self._next()}", status="active")
        db.session.add(member)
        account = ledger.account_for(member)
        if floor is not None or ceiling is not None:
            ledger.set_limits(account, floor=floor, ceiling=ceiling, actor=self.coordinator, reason="model")
        db.session.commit()
        self.accounts[account.id] = account
        self.balances[account.id] = 0
        self.limits[account.id] = (
            COMMUNITY_LIMITS[0] if floor is None else floor,
            COMMUNITY_LIMITS[1] if ceiling is None else ceiling,
        )
        self.status[account.id] = "open"

    @precondition(lambda self: len(self.accounts) >= 2)
    @rule(data=st.data(), keyed=st.booleans())
    def transfer(self, data, keyed):
        ids = sorted(self.accounts)
        source = data.draw(st.sampled_from(ids), label="from")
        target = data.draw(st.sampled_from(ids), label="to")
        floor, ceiling = self.limits[source][0], self.limits[target][1]
        minutes = data.draw(
            edge_amounts(
                self.balances[source] - floor if floor is not None else None,
                ceiling - self.balances[target] if ceiling is not None else None,
            ),
            label="minutes",
        )
        key = f"key-{self._next()}" if keyed else None
        memo = f"memo {self.counter}"
        if not 0 < minutes <= MAX_MINUTES:
            expected = InvalidAmount
        elif source == target:
            expected = InvalidTransaction
        else:
            expected = self._refusal({source: -minutes, target: minutes})

        def call():
            return ledger.transfer(
                self.accounts[source],
                self.accounts[target],
                minutes,
                kind="gift",
                actor=None,
                memo=memo,
                idempotency_key=key,
            )

        if expected is None:
            txn = call()
            db.session.commit()
            self._apply(txn.id, {source: -minutes, target: minutes})
            if key:
                self.keyed[key] = (txn.id, source, target, minutes, memo)
            return
        error_type, limit = expected if isinstance(expected, tuple) else (expected, None)
        with pytest.raises(error_type) as refused:
            call()
        db.session.rollback()
        if limit is not None:
            assert refused.value.limit == limit

    @precondition(lambda self: self.keyed)
    @rule(data=st.data())
    def retry_same_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.keyed)), label="key")
        txn_id, source, target, minutes, memo = self.keyed[key]
        again = ledger.transfer(
            self.accounts[source],
            self.accounts[target],
            minutes,
            kind="gift",
            actor=None,
            memo=memo,
            idempotency_key=key,
        )
        db.session.commit()
        assert again.id == txn_id

    @precondition(lambda self: self.keyed)
    @rule(data=st.data(), change=st.sampled_from(["minutes", "memo", "kind"]))
    def retry_changed_content(self, data, change):
        key = data.draw(st.sampled_from(sorted(self.keyed)), label="key")
        _txn_id, source, target, minutes, memo = self.keyed[key]
        with pytest.raises(IdempotencyConflict):
            ledger.transfer(
                self.accounts[source],
                self.accounts[target],
                minutes + 1 if change == "minutes" and minutes < MAX_MINUTES else minutes,
                kind="exchange" if change == "kind" else "gift",
                actor=None,
                memo=memo if change != "memo" else memo + " changed",
                idempotency_key=key,
            )
        db.session.rollback()

    def _reverse(self, txn_id: int):
        original = self.legs[txn_id]
        swapped = {account_id: -amount for account_id, amount in original.items()}
        transaction = db.session.get(Transaction, txn_id)
        if txn_id in self.corrections:
            expected = InvalidTransaction
        elif txn_id in self.reversed:
            expected = AlreadyReversed
        elif any(self.status[account_id] != "open" for account_id in original):
            expected = AccountClosed
        else:
            reversal = ledger.reverse(transaction, actor=self.coordinator, reason="model says so")
            db.session.commit()
            self.reversed.add(txn_id)
            self._apply(reversal.id, swapped)
            self.corrections.add(reversal.id)
            return
        with pytest.raises(expected):
            ledger.reverse(transaction, actor=self.coordinator, reason="model says so")
        db.session.rollback()

    @precondition(lambda self: self.legs)
    @rule(data=st.data())
    def reverse(self, data):
        self._reverse(data.draw(st.sampled_from(sorted(self.legs)), label="transaction"))

    @precondition(lambda self: self.legs)
    @rule(data=st.data())
    def reverse_twice(self, data):
        txn_id = data.draw(st.sampled_from(sorted(self.legs)), label="transaction")
        self._reverse(txn_id)
        self._reverse(txn_id)

    @precondition(lambda self: self.accounts)
    @rule(data=st.data(), status=st.sampled_from(["open", "suspended", "closed"]))
    def change_status(self, data, status):
        account_id = data.draw(st.sampled_from(sorted(self.accounts)), label="account")

        def call():
            return ledger.set_status(self.accounts[account_id], status, actor=self.coordinator, reason="model")

        if status == "closed" and self.balances[account_id] != 0:
            with pytest.raises(InvalidTransaction):
                call()
            db.session.rollback()
            return
        call()
        db.session.commit()
        self.status[account_id] = status

    @invariant()
    def database_agrees_with_the_model_and_verify_finds_nothing(self):
        stored = db.session.execute(sa.select(Account.id, Account.balance).where(Account.id.in_(self.accounts)))
        assert dict(stored.all()) == self.balances
        assert sum(self.balances.values()) == 0
        report = verify()
        assert report.ok, "\n".join(report.lines())
        db.session.rollback()


@pytest.fixture
def fresh_database(app, database, db_url):
    """The test's app, its database emptied again before each hypothesis program."""

    def fresh():
        with app.app_context():
            if ON_POSTGRES:
                empty_postgres()
            else:
                db.engine.dispose()
                path = sa.make_url(db_url).database
                for leftover in (path + "-wal", path + "-shm"):
                    if os.path.exists(leftover):
                        os.remove(leftover)
                shutil.copyfile(database.template, path)
        return app

    return fresh


def test_ledger_behaves_like_its_model(fresh_database):
    machine = seed(SEED)(type("SeededLedgerMachine", (LedgerMachine,), {"database": staticmethod(fresh_database)}))
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=40,
                deadline=None,
                database=None,
                phases=PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    except BaseException:
        print(f"\nledger model test failed; replay with LEDGER_SEED={SEED}")
        raise
