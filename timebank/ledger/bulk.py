"""Writing a long history at once (demo data, imports): the rows the services write, with the
same checks, but thousands per statement instead of one transaction per round trip.

    ids = bulk_post([(community_id, "gift", [(from_id, -60), (to_id, 60)], created_at, "Soup"), ...])

Entries must come in time order; the ids follow that order, so every account's balance-after
chain runs forward in time. Clearing accounts are refused: hours move through them only in an
exchange across a link, both communities' sides at once (ledger.services.transfer_across).
Flushes; the caller commits."""

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.ledger.errors import InvalidTransaction
from timebank.ledger.fastpath import ACCOUNTS, LOCK_ACCOUNTS, POSTINGS, TRANSACTIONS
from timebank.ledger.models import TRANSACTION_KINDS
from timebank.ledger.services import MEMO_MAX, check_leg, checked_legs
from timebank.stats.rollup import record_entries

Entry = tuple[int, str, Sequence[tuple[int, int]], datetime, str]
CHUNK = 5000


def ensure_accounts(community_id: int, member_ids: Iterable[int]) -> dict[int | None, int]:
    """Account ids by member id (None: the community fund), creating the missing ones in bulk."""
    take_write_lock(db.session)
    wanted = set(member_ids)
    existing = _accounts_of(community_id)
    missing = [
        {
            "community_id": community_id,
            "member_id": m,
            "kind": "member",
            "status": "open",
            "balance": 0,
            "created_at": utcnow(),
        }
        for m in sorted(wanted - set(existing))
    ]
    if None not in existing:
        missing.append(
            {
                "community_id": community_id,
                "member_id": None,
                "kind": "fund",
                "status": "open",
                "balance": 0,
                "created_at": utcnow(),
            }
        )
    if missing:
        db.session.execute(sa.insert(ACCOUNTS), missing)
        existing = _accounts_of(community_id)
    return existing


def _accounts_of(community_id: int) -> dict[int | None, int]:
    rows = db.session.execute(
        sa.select(ACCOUNTS.c.member_id, ACCOUNTS.c.id).where(
            ACCOUNTS.c.community_id == community_id, ACCOUNTS.c.kind.in_(("member", "fund"))
        )
    )
    return dict(rows.all())


def bulk_post(entries: Sequence[Entry], *, skip_refused: bool = True) -> list[int | None]:
    """Write the entries as transactions in order; returns their ids. An entry that would break a
    limit or touch a closed account is left out (None in its place), or raises when
    skip_refused is False. Malformed entries always raise."""
    take_write_lock(db.session)
    conn = db.session.connection()
    checked = []
    previous = None
    for community_id, kind, legs, created_at, memo in entries:
        if kind not in TRANSACTION_KINDS or kind == "reversal":
            raise InvalidTransaction("kind")
        if len(memo) > MEMO_MAX:
            raise InvalidTransaction("memo_too_long")
        if previous is not None and created_at < previous:
            raise ValueError("bulk_post entries must be in time order")
        previous = created_at
        checked.append((community_id, kind, checked_legs(legs), created_at, memo))

    accounts = _locked_accounts(conn, sorted({a for entry in checked for a in entry[2]}))
    balances = {account_id: row.balance for account_id, row in accounts.items()}
    headers, legs_of_kept, kept = [], [], []
    for community_id, kind, amounts, created_at, memo in checked:
        postings = _postings(accounts, balances, community_id, amounts, skip_refused)
        kept.append(postings is not None)
        if postings is None:
            continue
        for posting in postings:
            balances[posting["account_id"]] = posting["balance_after"]
        headers.append(
            dict(
                community_id=community_id,
                kind=kind,
                memo=memo,
                actor_id=None,
                on_behalf_of_id=None,
                created_at=created_at,
                idempotency_key=None,
                reverses_id=None,
            )
        )
        legs_of_kept.append(postings)

    new_ids = []
    for start in range(0, len(headers), CHUNK):
        new_ids.extend(
            conn.execute(
                sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id, sort_by_parameter_order=True),
                headers[start : start + CHUNK],
            ).scalars()
        )
    rows = [
        dict(posting, transaction_id=txn)
        for txn, postings in zip(new_ids, legs_of_kept, strict=True)
        for posting in postings
    ]
    for start in range(0, len(rows), CHUNK):
        conn.execute(sa.insert(POSTINGS), rows[start : start + CHUNK])
    changed = [{"account": a, "new": b} for a, b in balances.items() if b != accounts[a].balance]
    if changed:
        conn.execute(
            sa.update(ACCOUNTS).where(ACCOUNTS.c.id == sa.bindparam("account")).values(balance=sa.bindparam("new")),
            changed,
        )
    record_entries(
        conn,
        [
            (
                header["community_id"],
                header["kind"],
                header["created_at"],
                [
                    (p["account_id"], accounts[p["account_id"]].member_id, p["amount"], accounts[p["account_id"]].kind)
                    for p in postings
                ],
            )
            for header, postings in zip(headers, legs_of_kept, strict=True)
        ],
    )
    written = iter(new_ids)
    return [next(written) if was_kept else None for was_kept in kept]


def _locked_accounts(conn, account_ids: list[int]) -> dict[int, sa.Row]:
    found = {}
    for start in range(0, len(account_ids), CHUNK):
        chunk = account_ids[start : start + CHUNK]
        found.update((row.id, row) for row in conn.execute(LOCK_ACCOUNTS.where(ACCOUNTS.c.id.in_(chunk))))
    if len(found) != len(account_ids):
        raise InvalidTransaction("unknown_account")
    return found


def _postings(accounts, balances, community_id, amounts, skip_refused) -> list[dict] | None:
    """The postings of one entry with their balance-after and bound, or None if refused."""
    postings = []
    for account_id, amount in amounts.items():
        row = accounts[account_id]
        if row.community_id != community_id:
            raise InvalidTransaction("other_community")
        if row.kind == "clearing":
            raise InvalidTransaction("clearing")
        bound, refusal = check_leg(row, balances[account_id], amount)
        if refusal is not None:
            if skip_refused:
                return None
            raise refusal
        postings.append(
            dict(account_id=account_id, amount=amount, balance_after=balances[account_id] + amount, bound=bound)
        )
    return postings
