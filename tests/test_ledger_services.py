"""The ledger's service API: what it writes, what it refuses, and that it refuses without writing."""

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from timebank.audit.models import AuditEvent
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import (
    AccountClosed,
    AlreadyReversed,
    IdempotencyConflict,
    InvalidAmount,
    InvalidSetting,
    InvalidTransaction,
    LimitExceeded,
    NotAllowed,
)
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.verify import verify

from .conftest import ON_POSTGRES, count

pytestmark = pytest.mark.usefixtures("ctx", "english")


@pytest.fixture
def people(make_member):
    """Three neighbours and a coordinator, each with an account (hours start at zero)."""
    names = ["Fatima", "Jan", "Wilma"]
    members = {name: make_member(name) for name in names}
    members["Karim"] = make_member("Karim", role="coordinator")
    accounts = {name: ledger.account_for(member) for name, member in members.items()}
    db.session.commit()
    return members, accounts


def balances(accounts) -> dict:
    return {name: ledger.balance(account) for name, account in accounts.items()}


def nothing_written(before_transactions: int) -> bool:
    db.session.rollback()
    return count(Transaction) == before_transactions and verify().ok


def test_transfer_moves_hours_and_records_balance_after_and_limit(people):
    members, accounts = people
    txn = ledger.transfer(accounts["Fatima"], accounts["Jan"], 90, kind="gift", actor=members["Fatima"], memo="Soup")
    db.session.commit()
    assert balances(accounts) == {"Fatima": -90, "Jan": 90, "Wilma": 0, "Karim": 0}
    assert [(p.account_id, p.amount, p.balance_after, p.bound) for p in txn.postings] == [
        (accounts["Fatima"].id, -90, -90, -600),
        (accounts["Jan"].id, 90, 90, 2400),
    ]
    assert (txn.kind, txn.memo, txn.actor_id, txn.created_at.tzinfo is not None) == (
        "gift",
        "Soup",
        members["Fatima"].id,
        True,
    )
    assert accounts["Fatima"].balance == -90  # the loaded object is kept up to date too


def test_post_flushes_and_never_commits(people):
    members, accounts = people
    ledger.transfer(accounts["Fatima"], accounts["Jan"], 30, kind="gift", actor=None)
    db.session.rollback()
    assert count(Transaction) == 0 and balances(accounts)["Jan"] == 0


def test_post_after_reads_in_the_same_transaction_like_an_exchange_would(people):
    members, accounts = people
    db.session.scalar(sa.select(sa.func.count(Account.id)))  # the caller read first
    members["Jan"].bio = "changed together with the posting"
    ledger.transfer(accounts["Jan"], accounts["Wilma"], 45, kind="exchange", actor=members["Jan"])
    db.session.commit()
    db.session.expire_all()
    assert members["Jan"].bio.startswith("changed") and balances(accounts)["Wilma"] == 45


@pytest.mark.parametrize("minutes", [0, -1, -60, True, 1.5, "60", None, 10_000 * 60 + 1])
def test_unusable_amounts_are_refused_and_nothing_is_written(people, minutes):
    members, accounts = people
    with pytest.raises(InvalidAmount):
        ledger.transfer(accounts["Fatima"], accounts["Jan"], minutes, kind="gift", actor=None)
    assert nothing_written(0)


@pytest.mark.parametrize(
    "legs, reason",
    [
        (lambda a: [(a["Fatima"], -60)], "too_few_legs"),
        (lambda a: [(a["Fatima"], -60), (a["Jan"], 50)], "unbalanced"),
        (lambda a: [(a["Fatima"], -60), (a["Fatima"], 60)], "duplicate_account"),
    ],
)
def test_malformed_transactions_are_refused(people, legs, reason):
    members, accounts = people
    with pytest.raises(InvalidTransaction) as refused:
        ledger.post(members["Fatima"].community_id, "gift", legs(accounts), actor=None)
    assert refused.value.reason == reason and nothing_written(0)


def test_other_refusals_kind_same_account_other_community(people, make_community, make_member):
    members, accounts = people
    community_id = members["Fatima"].community_id
    with pytest.raises(InvalidTransaction, match="does not exist"):
        ledger.post(community_id, "bribe", [(accounts["Fatima"], -1), (accounts["Jan"], 1)], actor=None)
    with pytest.raises(InvalidTransaction):
        ledger.post(community_id, "reversal", [(accounts["Fatima"], -1), (accounts["Jan"], 1)], actor=None)
    with pytest.raises(InvalidTransaction, match="same account"):
        ledger.transfer(accounts["Jan"], accounts["Jan"], 5, kind="gift", actor=None)
    stranger = ledger.account_for(make_member("Olena", community_id=make_community("noord", "Noord").id))
    with pytest.raises(InvalidTransaction, match="same community"):
        ledger.transfer(accounts["Jan"], stranger, 5, kind="gift", actor=None)
    with pytest.raises(InvalidTransaction, match="500 characters"):
        ledger.transfer(accounts["Jan"], accounts["Wilma"], 5, kind="gift", actor=None, memo="x" * 501)
    assert nothing_written(0)


def test_floor_allows_exactly_the_room_and_refuses_one_minute_more(people):
    members, accounts = people
    ledger.transfer(accounts["Fatima"], accounts["Jan"], 590, kind="gift", actor=None)
    db.session.commit()
    with pytest.raises(LimitExceeded) as refused:
        ledger.transfer(accounts["Fatima"], accounts["Wilma"], 11, kind="gift", actor=None)
    assert (refused.value.limit, refused.value.balance, refused.value.room, refused.value.direction) == (
        -600,
        -590,
        10,
        "floor",
    )
    with force_locale("en"):
        assert str(refused.value) == (
            "This is not possible: the balance of Fatima may not go below −10 hours. "
            "It is −9 hours 50 minutes now, so at most 10 minutes can still be paid."
        )
    with force_locale("nl"):
        assert "10 minuten" in str(refused.value) and "−10 uur" in str(refused.value)
    assert nothing_written(1)
    ledger.transfer(accounts["Fatima"], accounts["Wilma"], 10, kind="gift", actor=None)
    db.session.commit()
    assert balances(accounts)["Fatima"] == -600


def test_ceiling_refuses_receiving_too_much_but_lets_the_owner_spend(people):
    members, accounts = people
    ledger.set_limits(accounts["Jan"], floor=None, ceiling=60, actor=members["Karim"], reason="trial period")
    ledger.transfer(accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None)
    with pytest.raises(LimitExceeded) as refused:
        ledger.transfer(accounts["Wilma"], accounts["Jan"], 1, kind="gift", actor=None)
    assert (refused.value.direction, refused.value.room) == ("ceiling", 0)
    with force_locale("en"):
        assert "may not go above 1 hour" in str(refused.value)
    # Lowering a ceiling below the balance never traps the hours: spending still works.
    ledger.set_limits(accounts["Jan"], floor=None, ceiling=30, actor=members["Karim"], reason="smaller")
    ledger.transfer(accounts["Jan"], accounts["Wilma"], 15, kind="gift", actor=None)
    db.session.commit()
    assert balances(accounts)["Jan"] == 45
    assert (
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "ledger.limits_changed"))
        == 2
    )


def test_community_limits_apply_unless_the_account_has_its_own(people):
    members, accounts = people
    community = members["Fatima"].community
    community.ledger_floor = -60
    db.session.commit()
    with pytest.raises(LimitExceeded):
        ledger.transfer(accounts["Fatima"], accounts["Jan"], 61, kind="gift", actor=None)
    db.session.rollback()
    ledger.set_limits(accounts["Fatima"], floor=-120, ceiling=None, actor=None, reason="known helper")
    ledger.transfer(accounts["Fatima"], accounts["Jan"], 120, kind="gift", actor=None)
    db.session.commit()
    assert ledger.summary(accounts["Fatima"]).can_pay == 0


def test_same_key_same_content_returns_the_first_transaction(people):
    members, accounts = people
    first = ledger.transfer(
        accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None, memo="Soup", idempotency_key="click-1"
    )
    db.session.commit()
    again = ledger.transfer(
        accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None, memo="Soup", idempotency_key="click-1"
    )
    db.session.commit()
    assert again.id == first.id and count(Posting) == 2 and balances(accounts)["Jan"] == 60


@pytest.mark.parametrize("change", [dict(minutes=61), dict(memo="Other"), dict(kind="exchange"), dict(to="Wilma")])
def test_same_key_other_content_is_a_conflict_and_writes_nothing(people, change):
    members, accounts = people
    ledger.transfer(
        accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None, memo="Soup", idempotency_key="click-1"
    )
    db.session.commit()
    with pytest.raises(IdempotencyConflict):
        ledger.transfer(
            accounts["Fatima"],
            accounts[change.get("to", "Jan")],
            change.get("minutes", 60),
            kind=change.get("kind", "gift"),
            actor=None,
            memo=change.get("memo", "Soup"),
            idempotency_key="click-1",
        )
    assert nothing_written(1) and balances(accounts)["Jan"] == 60


def test_suspended_and_closed_accounts_take_no_postings(people):
    members, accounts = people
    ledger.set_status(accounts["Wilma"], "suspended", actor=members["Karim"], reason="moving away")
    db.session.commit()
    with pytest.raises(AccountClosed) as refused:
        ledger.transfer(accounts["Fatima"], accounts["Wilma"], 30, kind="gift", actor=None)
    with force_locale("en"):
        assert "Wilma is paused" in str(refused.value)
    db.session.rollback()
    ledger.set_status(accounts["Wilma"], "closed", actor=members["Karim"], reason="moved away")
    with pytest.raises(AccountClosed, match="closed"):
        ledger.transfer(accounts["Wilma"], accounts["Fatima"], 30, kind="gift", actor=None)
    db.session.rollback()
    members["Jan"].status = "suspended"  # suspending the member pauses the account as well
    db.session.commit()
    with pytest.raises(AccountClosed):
        ledger.transfer(accounts["Jan"], accounts["Fatima"], 30, kind="gift", actor=None)
    assert nothing_written(0)


def test_only_coordinators_change_accounts_and_a_reason_is_needed(people):
    members, accounts = people
    with pytest.raises(NotAllowed):
        ledger.set_status(accounts["Jan"], "suspended", actor=members["Fatima"], reason="I don't like him")
    with pytest.raises(InvalidTransaction, match="why"):
        ledger.set_limits(accounts["Jan"], floor=-60, ceiling=60, actor=members["Karim"], reason="  ")
    with pytest.raises(InvalidSetting):
        ledger.set_limits(accounts["Jan"], floor=60, ceiling=60, actor=members["Karim"], reason="positive floor")


def test_coordinator_override_lets_one_transaction_past_a_limit_and_is_logged(people):
    members, accounts = people
    karim = members["Karim"]
    with pytest.raises(NotAllowed):
        ledger.transfer(
            accounts["Fatima"], accounts["Jan"], 700, kind="gift", actor=members["Fatima"], override_reason="I want to"
        )
    with pytest.raises(InvalidTransaction, match="why"):
        ledger.transfer(accounts["Fatima"], accounts["Jan"], 700, kind="gift", actor=karim, override_reason="")
    with pytest.raises(NotAllowed, match="your own account"):  # never past a limit of their own account
        ledger.transfer(accounts["Karim"], accounts["Jan"], 700, kind="gift", actor=karim, override_reason="Mine")
    txn = ledger.transfer(
        accounts["Fatima"],
        accounts["Jan"],
        700,
        kind="gift",
        actor=karim,
        on_behalf_of=members["Fatima"],
        override_reason="Roof repair, agreed at the meeting",
    )
    db.session.commit()
    assert balances(accounts)["Fatima"] == -700
    assert [p.bound for p in txn.postings] == [None, 2400]  # only the overridden leg went unchecked
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.limit_override"))
    assert (event.actor_id, event.on_behalf_of_id, event.subject_id, event.reason) == (
        karim.id,
        members["Fatima"].id,
        txn.id,
        "Roof repair, agreed at the meeting",
    )
    assert event.details["accounts"] == [dict(account_id=accounts["Fatima"].id, limit=-600, balance=0, amount=-700)]
    with pytest.raises(LimitExceeded):  # for one transaction only
        ledger.transfer(accounts["Fatima"], accounts["Jan"], 1, kind="gift", actor=karim)
    db.session.rollback()
    assert verify().ok


def test_reversal_swaps_postings_ignores_limits_and_happens_once(people):
    members, accounts = people
    karim = members["Karim"]
    original = ledger.transfer(accounts["Fatima"], accounts["Jan"], 500, kind="gift", actor=None)
    ledger.transfer(accounts["Jan"], accounts["Wilma"], 500, kind="gift", actor=None)
    db.session.commit()
    with pytest.raises(NotAllowed):
        ledger.reverse(original, actor=members["Jan"], reason="mine now")
    with pytest.raises(InvalidTransaction, match="why"):
        ledger.reverse(original, actor=karim, reason=" ")
    reversal = ledger.reverse(original, actor=karim, reason="Entered twice", idempotency_key="undo-1")
    db.session.commit()
    # Jan goes to -500 although he had spent the hours: a correction is never blocked by a limit.
    assert balances(accounts) == {"Fatima": 0, "Jan": -500, "Wilma": 500, "Karim": 0}
    assert (reversal.kind, reversal.reverses_id, reversal.memo) == ("reversal", original.id, "Entered twice")
    assert {p.account_id: (p.amount, p.bound) for p in reversal.postings} == {
        accounts["Fatima"].id: (500, None),
        accounts["Jan"].id: (-500, None),
    }
    assert ledger.reverse(original, actor=karim, reason="Entered twice", idempotency_key="undo-1").id == reversal.id
    with pytest.raises(AlreadyReversed):
        ledger.reverse(original, actor=karim, reason="Again")
    with pytest.raises(InvalidTransaction, match="cannot be undone"):
        ledger.reverse(reversal, actor=karim, reason="Undo the undo")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "ledger.reversed")) == 1
    assert verify().ok


def test_reversal_still_refuses_a_closed_account(people):
    members, accounts = people
    original = ledger.transfer(accounts["Fatima"], accounts["Jan"], 30, kind="gift", actor=None)
    ledger.settle_to_fund(members["Jan"], actor=None, reason="leaving")
    ledger.set_status(accounts["Jan"], "closed", actor=None, reason="left")
    db.session.commit()
    with pytest.raises(AccountClosed):
        ledger.reverse(original, actor=None, reason="too late")


def test_exchange_pays_the_community_levy_to_the_fund(people):
    members, accounts = people
    members["Fatima"].community.ledger_levy_percent = 10
    db.session.commit()
    exchange = ledger.transfer(accounts["Fatima"], accounts["Jan"], 65, kind="exchange", actor=None)
    gift = ledger.transfer(accounts["Fatima"], accounts["Jan"], 60, kind="gift", actor=None)
    db.session.commit()
    fund = ledger.fund_account(members["Fatima"].community_id)
    assert {p.account_id: p.amount for p in exchange.postings} == {
        accounts["Fatima"].id: -65,
        accounts["Jan"].id: 59,
        fund.id: 6,
    }  # 6.5 rounds down
    assert len(gift.postings) == 2
    assert ledger.balance(fund) == 6 and verify().ok


def test_settle_to_fund_empties_the_account_either_way(people):
    members, accounts = people
    members["Jan"].status = "erased"  # erasure settles even an account that takes no other postings
    ledger.transfer(accounts["Fatima"], accounts["Wilma"], 90, kind="gift", actor=None)
    db.session.commit()
    with pytest.raises(InvalidTransaction, match="zero"):
        ledger.set_status(accounts["Fatima"], "closed", actor=None, reason="leaving")
    db.session.rollback()
    owed = ledger.settle_to_fund(members["Fatima"], actor=None, reason="Fatima leaves")
    earned = ledger.settle_to_fund(members["Wilma"], actor=None, reason="Wilma leaves")
    assert ledger.settle_to_fund(members["Jan"], actor=None, reason="nothing to settle") is None
    db.session.commit()
    fund = ledger.fund_account(members["Fatima"].community_id)
    assert balances(accounts)["Fatima"] == balances(accounts)["Wilma"] == 0 and ledger.balance(fund) == 0
    assert (owed.kind, owed.on_behalf_of_id, [p.amount for p in owed.postings]) == (
        "adjustment",
        members["Fatima"].id,
        [90, -90],
    )
    assert len(earned.postings) == 2
    ledger.set_status(accounts["Fatima"], "closed", actor=None, reason="left")
    db.session.commit()
    assert verify().ok


def test_the_database_itself_refuses_to_change_or_delete_history(people):
    members, accounts = people
    txn = ledger.transfer(accounts["Fatima"], accounts["Jan"], 30, kind="gift", actor=None)
    db.session.commit()
    statements = [
        "UPDATE ledger_postings SET amount = 1000",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_transactions SET memo = 'forged'",
        "DELETE FROM ledger_transactions",
    ]
    if ON_POSTGRES:
        statements += ["TRUNCATE ledger_postings", "TRUNCATE ledger_transactions CASCADE"]
    for sql in statements:
        with pytest.raises(sa.exc.IntegrityError, match="never changed or deleted"):
            db.session.execute(sa.text(sql))
        db.session.rollback()
    posting = db.session.get(Transaction, txn.id).postings[0]
    posting.amount = -5000  # through the ORM as well
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert [p.amount for p in db.session.get(Transaction, txn.id).postings] == [-30, 30]


def test_accounts_are_made_once_and_the_fund_is_one_per_community(people, make_community):
    members, accounts = people
    assert ledger.account_for(members["Jan"]).id == accounts["Jan"].id
    fund = ledger.fund_account(members["Jan"].community_id)
    assert ledger.fund_account(members["Jan"].community_id).id == fund.id and fund.is_fund
    other = ledger.fund_account(make_community("noord", "Noord").id)
    assert other.id != fund.id
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(Account(community_id=fund.community_id, kind="fund"))
        db.session.flush()
    db.session.rollback()
    assert ledger.account_for(members["Wilma"], create=False).id == accounts["Wilma"].id


def test_statement_is_newest_first_with_running_balance_and_who(people):
    members, accounts = people
    first = ledger.transfer(accounts["Jan"], accounts["Fatima"], 60, kind="gift", actor=members["Jan"], memo="Soup")
    ledger.transfer(accounts["Fatima"], accounts["Wilma"], 45, kind="gift", actor=members["Fatima"])
    ledger.reverse(first, actor=members["Karim"], reason="Entered twice")
    db.session.commit()
    lines = ledger.statement(accounts["Fatima"])
    assert [(line.kind, line.amount, line.balance_after, line.others) for line in lines] == [
        ("reversal", -60, -45, ("Jan",)),
        ("gift", -45, 15, ("Wilma",)),
        ("gift", 60, 60, ("Jan",)),
    ]
    assert lines[0].actor == "Karim" and lines[0].memo == "Entered twice" and lines[0].reverses_id == first.id
    assert lines[2].reversed_by_id == lines[0].transaction_id and lines[2].memo == "Soup"
    page = ledger.statement(accounts["Fatima"], before=lines[0].posting_id, limit=1)
    assert [line.posting_id for line in page] == [lines[1].posting_id]
