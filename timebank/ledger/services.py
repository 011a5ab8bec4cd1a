"""The only way hours move: post, transfer, reverse, settle; and reading balances and statements.

Every writing function locks the accounts it touches (PostgreSQL: SELECT … FOR UPDATE in sorted
id order; SQLite: the database write lock, BEGIN IMMEDIATE), checks limits and idempotency under
that lock, writes, and flushes. It never commits: the caller commits once, together with whatever
caused the movement (an exchange, an erasure), or rolls back and nothing happened.

Every transfer runs four statements (lock and read the accounts, insert the transaction, insert
its postings, update the balances). They bypass the unit of work and SQLAlchemy's per-statement
machinery, which cost several times the SQL itself (see ledger/fastpath.py and benchmarks/ledger.py)."""

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.models import Community, CommunityLink
from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.ledger.errors import (
    MAX_MINUTES,
    AccountClosed,
    AlreadyReversed,
    IdempotencyConflict,
    IntoOwnAccount,
    InvalidAmount,
    InvalidSetting,
    InvalidTransaction,
    LedgerError,
    LimitExceeded,
    NotAllowed,
    OwnAccount,
)
from timebank.ledger.fastpath import (
    ACCOUNTS,
    BALANCE,
    INSERT_POSTINGS,
    LEGS,
    REVERSAL_OF,
    TRANSACTION_BY_KEY,
    TRANSACTIONS,
    UPDATE_BALANCE,
    insert_ignoring,
    keep_loaded_balances,
    lock_accounts,
    on_driver,
    persistent,
)
from timebank.ledger.models import (
    ACCOUNT_STATUSES,
    FUND_FLOOR,
    POT_FLOOR,
    TRANSACTION_KINDS,
    Account,
    Posting,
    Transaction,
)
from timebank.members.models import Member
from timebank.permissions import can_correct_ledger, can_manage_account
from timebank.stats.rollup import record_transaction

MEMO_MAX = 500
KEY_MAX = 100

# Member statuses under which a member's account takes no postings, whatever its own status.
MEMBER_BLOCKS = {"suspended": "suspended", "erased": "closed", "rejected": "closed"}

# How the member's "Done for you" page says what a coordinator did to their account (listed in
# timebank/registry.py).
AUDIT_LABELS = {
    "ledger.statement_exported": _l("downloaded the member's statement of hours"),
    "ledger.fund_exported": _l("downloaded the statement of the community fund"),
    "ledger.limits_changed": _l("changed how low and how high the balance may go"),
    "ledger.account_status": _l("paused the hours on the account, or let them move again"),
    "ledger.limit_override": _l("let a transaction go past a balance limit"),
    "ledger.settled": _l("settled the balance with the community fund"),
    "ledger.reversed": _l("undid a transaction"),
    "ledger.settings_changed": _l("changed the rules for hours of the neighbourhood"),
}


def _id(instance: Account | Member | int) -> int:
    """The id of an account (or member) without loading it again: after a commit the object is
    expired, and reading .id would cost a SELECT on every transfer. Bulk writers pass ids."""
    if isinstance(instance, int):
        return instance
    state = sa.inspect(instance)
    if state.identity is None:
        db.session.flush()
    return state.identity[0]


# Keys sent by forms and API calls. Each is made the sender's own for one purpose ("give:12:<key>"),
# so one member's key never meets another's, and no request can claim a key the time bank uses
# itself ("exchange:<id>:settle"): those never start with a purpose and a member's number.
REQUEST_PURPOSES = frozenset({"give", "grant", "undo", "pot"})
REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def request_key(member: Member, purpose: str, raw: str | None) -> str | None:
    """The ledger key for a key a form or API call sent; None when it sent none."""
    if purpose not in REQUEST_PURPOSES:
        raise ValueError(purpose)
    if not raw:
        return None
    if not REQUEST_KEY.fullmatch(raw):
        raise InvalidTransaction("key")
    return f"{purpose}:{_id(member)}:{raw}"


# Accounts


def account_for(member: Member, *, create: bool = True) -> Account | None:
    """The member's account in their community; created on first use unless create=False."""
    if create:
        return accounts_for(member)[0]
    return db.session.scalar(sa.select(Account).where(Account.member_id == member.id, Account.kind == "member"))


def accounts_for(*members: Member) -> list[Account]:
    """The accounts of several members, in the order given. Missing ones are created first, in
    member id order: two first transfers between the same neighbours at once (A to B and B to A)
    then never wait for each other's new account in a circle (a deadlock on PostgreSQL)."""
    wanted = {_id(member): member for member in members}
    query = sa.select(Account).where(Account.member_id.in_(wanted), Account.kind == "member")
    found = {account.member_id: account for account in db.session.scalars(query)}
    missing = [wanted[member_id] for member_id in sorted(set(wanted) - set(found))]
    if missing:
        take_write_lock(db.session)
        now = utcnow()
        db.session.execute(
            insert_ignoring(ACCOUNTS),
            [
                dict(
                    community_id=member.community_id,
                    member_id=member.id,
                    kind="member",
                    status="open",
                    balance=0,
                    created_at=now,
                )
                for member in missing
            ],
        )
        found = {account.member_id: account for account in db.session.scalars(query)}
    return [found[member_id] for member_id in map(_id, members)]


def fund_account(community_id: int, *, create: bool = True) -> Account | None:
    """The community fund: the cooperative's own pot of hours."""
    query = sa.select(Account).where(Account.community_id == community_id, Account.kind == "fund")
    account = db.session.scalar(query)
    if account is None and create:
        _create_account(community_id=community_id, member_id=None, kind="fund")
        account = db.session.scalar(query)
    return account


def _create_account(**values) -> None:
    """Insert unless someone else just did (a concurrent first request); the caller reads it back."""
    take_write_lock(db.session)
    db.session.execute(insert_ignoring(ACCOUNTS).values(status="open", balance=0, created_at=utcnow(), **values))


def effective_limits(account: Account, community: Community | None = None) -> tuple[int | None, int | None]:
    """(floor, ceiling) in minutes; None means no limit on that side."""
    community = community or account.community
    return _limits(
        account.kind, account.floor_override, account.ceiling_override, community.ledger_floor, community.ledger_ceiling
    )


def _limits(kind, floor_override, ceiling_override, community_floor, community_ceiling):
    if kind == "pot":
        return POT_FLOOR, None
    if kind == "clearing":
        return floor_override, ceiling_override
    if kind == "fund":
        return (FUND_FLOOR if floor_override is None else floor_override), ceiling_override
    return (
        (community_floor if floor_override is None else floor_override),
        (community_ceiling if ceiling_override is None else ceiling_override),
    )


@dataclass(frozen=True)
class Summary:
    """An account's position, as the "My account" page says it."""

    balance: int
    floor: int | None
    ceiling: int | None
    warning: int | None
    status: str = "open"  # whether hours can move: the account's own status, or its member's

    @property
    def can_pay(self) -> int | None:
        """Minutes of help the owner can still receive (pay for); None: no limit."""
        return None if self.floor is None else max(0, self.balance - self.floor)

    @property
    def can_earn(self) -> int | None:
        """Minutes of help the owner can still give (be paid for); None: no limit."""
        return None if self.ceiling is None else max(0, self.ceiling - self.balance)

    @property
    def is_low(self) -> bool:
        return self.warning is not None and self.balance < self.warning


def summary(account: Account) -> Summary:
    """Balance, limits and whether the soft warning applies."""
    community = account.community
    floor, ceiling = effective_limits(account, community)
    warning = None if account.kind == "fund" else community.ledger_warning
    status = account.status
    if status == "open" and account.member is not None:
        status = MEMBER_BLOCKS.get(account.member.status, "open")
    return Summary(
        balance=balance(account) if account.id else 0, floor=floor, ceiling=ceiling, warning=warning, status=status
    )


def balance(account: Account) -> int:
    """The account's balance as committed (or as written in this transaction), in minutes."""
    return db.session.connection().execute(BALANCE, {"account": _id(account)}).scalar_one()


def set_limits(
    account: Account, *, floor: int | None, ceiling: int | None, actor: Member | None, reason: str
) -> Account:
    """Give one account its own floor and ceiling (None: the community's again). A coordinator's act,
    shown to the member with the reason."""
    reason = _required_reason(reason)
    take_write_lock(db.session)
    _require_account_manager(actor, account)
    for field, value, low, high in (("floor", floor, -MAX_MINUTES, 0), ("ceiling", ceiling, 0, MAX_MINUTES)):
        if value is not None and not (_is_whole(value) and low <= value <= high):
            raise InvalidSetting(field)
    before = (account.floor_override, account.ceiling_override)
    account.floor_override, account.ceiling_override = floor, ceiling
    db.session.flush()
    record(
        "ledger.limits_changed",
        actor=actor,
        community_id=account.community_id,
        subject=account,
        on_behalf_of=account.member,
        reason=reason,
        before=list(before),
        after=[floor, ceiling],
    )
    return account


def set_status(account: Account, status: str, *, actor: Member | None, reason: str) -> Account:
    """Open, suspend or close an account. Closing needs a zero balance (see settle_to_fund)."""
    if status not in ACCOUNT_STATUSES:
        raise ValueError(status)
    reason = _required_reason(reason)
    take_write_lock(db.session)
    _require_account_manager(actor, account)
    db.session.refresh(account, with_for_update=True)
    if status == "closed" and account.balance != 0:
        raise InvalidTransaction("nonzero_balance")
    before, account.status = account.status, status
    db.session.flush()
    record(
        "ledger.account_status",
        actor=actor,
        community_id=account.community_id,
        subject=account,
        on_behalf_of=account.member,
        reason=reason,
        before=before,
        after=status,
    )
    return account


def set_ledger_settings(
    community: Community, *, floor: int, ceiling: int, warning: int | None, levy_percent: int, actor: Member | None
) -> Community:
    """A coordinator sets the community's limits, its low-balance warning (None: none) and the
    levy. Accounts without limits of their own follow the new ones at once: every transfer reads
    the community's limits under its lock."""
    take_write_lock(db.session)
    _require_coordinator(actor, community.id)
    if not (_is_whole(floor) and -MAX_MINUTES <= floor <= 0):
        raise InvalidSetting("floor")
    if not (_is_whole(ceiling) and 0 <= ceiling <= MAX_MINUTES):
        raise InvalidSetting("ceiling")
    if warning is not None and not (_is_whole(warning) and floor <= warning <= ceiling):
        raise InvalidSetting("warning", floor=floor, ceiling=ceiling)
    if not (_is_whole(levy_percent) and 0 <= levy_percent <= 100):
        raise InvalidSetting("levy_percent")
    before = ledger_settings(community)
    community.ledger_floor, community.ledger_ceiling = floor, ceiling
    community.ledger_warning, community.ledger_levy_percent = warning, levy_percent
    db.session.flush()
    record(
        "ledger.settings_changed",
        actor=actor,
        community_id=community.id,
        subject=community,
        before=before,
        after=ledger_settings(community),
    )
    return community


def ledger_settings(community: Community) -> dict[str, int | None]:
    """The community's ledger settings by name, as set_ledger_settings takes them."""
    return dict(
        floor=community.ledger_floor,
        ceiling=community.ledger_ceiling,
        warning=community.ledger_warning,
        levy_percent=community.ledger_levy_percent,
    )


# Moving hours


def post(
    community_id: int,
    kind: str,
    legs: list[tuple[Account, int]],
    *,
    actor: Member | None,
    memo: str = "",
    on_behalf_of: Member | None = None,
    idempotency_key: str | None = None,
    override_reason: str | None = None,
    payers_consented: bool = False,
) -> Transaction:
    """Write one balanced transaction: each leg is (account, minutes), minutes ≠ 0, summing to zero.

    A retry with the same idempotency key and the same content returns the first transaction;
    with other content it raises IdempotencyConflict. A coordinator may pass override_reason to
    let this one transaction go past a limit (audit-logged). `payers_consented`: every member whose
    account pays agreed to it themselves (members who confirmed their part of a group exchange), so
    the actor may be among those paid."""
    take_write_lock(db.session)
    return _post(
        community_id,
        kind,
        legs,
        actor=actor,
        memo=memo,
        on_behalf_of=on_behalf_of,
        idempotency_key=idempotency_key,
        override_reason=override_reason,
        payers_consented=payers_consented,
    )


def transfer(
    from_account: Account,
    to_account: Account,
    minutes: int,
    *,
    kind: str,
    actor: Member | None,
    memo: str = "",
    on_behalf_of: Member | None = None,
    idempotency_key: str | None = None,
    override_reason: str | None = None,
) -> Transaction:
    """Move `minutes` from one account to another. An exchange also pays the community's levy:
    that share of the minutes goes to the fund instead of to the receiver (rounded down)."""
    if not _is_minutes(minutes):
        raise InvalidAmount(minutes)
    take_write_lock(db.session)
    if _id(from_account) == _id(to_account):
        raise InvalidTransaction("same_account")
    legs = [(from_account, -minutes), (to_account, minutes)]
    # The community comes from the locked rows unless needed before: reading it from an object
    # expired by the last commit would cost a query on every transfer.
    community_id = None
    if kind == "exchange" and not (from_account.kind == "fund" or to_account.kind == "fund"):
        community = from_account.community
        community_id = community.id
        levy = minutes * community.ledger_levy_percent // 100
        if levy:
            legs = [(from_account, -minutes), (to_account, minutes - levy), (fund_account(community.id), levy)]
    if override_reason is not None:
        community_id = from_account.community_id
    return _post(
        community_id,
        kind,
        legs,
        actor=actor,
        memo=memo,
        on_behalf_of=on_behalf_of,
        idempotency_key=idempotency_key,
        override_reason=override_reason,
    )


def reverse(
    transaction: Transaction, *, actor: Member | None, reason: str, idempotency_key: str | None = None
) -> Transaction:
    """Undo a transaction with one that swaps its postings and points back at it. Limits do not
    apply (a correction must always be possible); closed or suspended accounts still refuse.
    A transaction is undone once only, and a correction is not undone; a transfer across a link is
    undone on both sides at once."""
    reason = _required_reason(reason)
    take_write_lock(db.session)
    _require_coordinator(actor, transaction.community_id)
    if transaction.kind == "reversal":
        raise InvalidTransaction("reversal_of_reversal")
    mirror = mirror_of(transaction)
    if mirror is None:
        return _reverse(transaction, actor=actor, reason=reason, idempotency_key=idempotency_key)
    # Across a link both sides are undone together, under one key both communities share, so the
    # clearing accounts still mirror each other. The other community's side is undone by the
    # time bank on this coordinator's word: it was one exchange.
    first, second = sorted((transaction, mirror), key=lambda side: side.id)
    conn = db.session.connection()
    lock_accounts(conn, sorted({p.account_id for side in (first, second) for p in side.postings}))
    undone = conn.execute(REVERSAL_OF, {"original": transaction.id}).first()
    if undone is not None:
        raise AlreadyReversed(transaction.id, undone.id)
    key = f"undo-across:{first.id}"
    reversals = {
        side.id: _reverse(
            side, actor=actor if side is transaction else None, reason=reason, idempotency_key=key, across=True
        )
        for side in (first, second)
    }
    return reversals[transaction.id]


def _reverse(
    transaction: Transaction, *, actor: Member | None, reason: str, idempotency_key: str | None, across: bool = False
) -> Transaction:
    amounts = {p.account_id: -p.amount for p in transaction.postings}
    reversal, created = _write(
        transaction.community_id,
        "reversal",
        dict(sorted(amounts.items())),
        actor=actor,
        memo=reason,
        idempotency_key=idempotency_key,
        reverses_id=transaction.id,
        check_limits=False,
        across=across,
    )
    if created:
        record(
            "ledger.reversed",
            actor=actor,
            community_id=transaction.community_id,
            subject=reversal,
            reason=reason,
            original_id=transaction.id,
        )
    return reversal


def settle_to_fund(member: Member, *, actor: Member | None, reason: str) -> Transaction | None:
    """Move the member's whole balance, their pots included, to the fund (or the fund's hours back
    to zero a debt), so the accounts end at zero and can be closed. Limits and the member's suspension do not stop it.
    Returns None when the balance is zero already."""
    reason = _required_reason(reason)
    take_write_lock(db.session)
    account, fund = account_for(member), fund_account(member.community_id)
    pots = list(db.session.scalars(sa.select(Account.id).where(Account.member_id == member.id, Account.kind == "pot")))
    locked = {row.id: row for row in lock_accounts(db.session.connection(), sorted([account.id, fund.id, *pots]))}
    held = {account_id: locked[account_id].balance for account_id in (account.id, *pots) if locked[account_id].balance}
    owed = sum(held.values())
    if not held:
        return None
    amounts = {account_id: -balance for account_id, balance in held.items()}
    if owed:
        amounts[fund.id] = owed
    amounts = dict(sorted(amounts.items()))
    settlement, _created = _write(
        member.community_id,
        "adjustment",
        amounts,
        actor=actor,
        memo=reason,
        on_behalf_of=member,
        check_limits=False,
        settling=True,
    )
    record(
        "ledger.settled",
        actor=actor,
        community_id=member.community_id,
        on_behalf_of=member,
        subject=settlement,
        reason=reason,
        minutes=owed,
    )
    return settlement


# Across a link between two communities


def clearing_account(community_id: int, peer_community_id: int) -> Account | None:
    """The community's clearing account for a linked community: what that community's members
    are owed here (negative: what this community's members are owed there)."""
    return db.session.scalar(
        sa.select(Account).where(
            Account.community_id == community_id,
            Account.peer_community_id == peer_community_id,
            Account.kind == "clearing",
        )
    )


def open_clearing(link: CommunityLink) -> tuple[Account, Account]:
    """The link's two clearing accounts (the proposer's, the accepter's), made on first use, with
    the link's cap as their floor and ceiling: so the cap is checked under the same lock, by the same
    code, as any member's limits. A lower cap stops new debt beyond it and lets the debt come down."""
    take_write_lock(db.session)
    accounts = []
    for community_id, peer_id in ((link.proposer_id, link.accepter_id), (link.accepter_id, link.proposer_id)):
        account = clearing_account(community_id, peer_id)
        if account is None:
            _create_account(community_id=community_id, member_id=None, kind="clearing", peer_community_id=peer_id)
            account = clearing_account(community_id, peer_id)
        account.floor_override, account.ceiling_override = -link.cap_minutes, link.cap_minutes
        accounts.append(account)
    db.session.flush()
    return accounts[0], accounts[1]


def transfer_across(
    from_account: Account,
    to_account: Account,
    minutes: int,
    *,
    actor: Member | None,
    idempotency_key: str,
    memo: str = "",
    on_behalf_of: Member | None = None,
) -> tuple[Transaction, Transaction]:
    """Settle an exchange between a member of one community and a member of a linked one, in this
    database transaction: the payer's community writes payer −m, its clearing account for the other
    +m; the provider's community its clearing account for the payer's −m, the provider +m (less its
    own levy, with the provider's pots taking their share). Each community's books balance on their
    own and the clearing accounts mirror each other. Both sides are of kind "exchange": nothing
    else crosses a link.

    All four accounts are locked at once in id order, and every limit (the payer's floor, the
    provider's ceiling, the link's cap as the clearing accounts' limits) is checked before anything
    is written. The key is required, and the same in both communities: a retry returns the first
    pair. Whether the link still takes new exchanges is the caller's question: one agreed before a
    pause or an end still settles here. Returns (the payer's side, the provider's side)."""
    if not _is_minutes(minutes):
        raise InvalidAmount(minutes)
    if not idempotency_key:
        raise InvalidTransaction("key")
    take_write_lock(db.session)
    paying, paid = from_account.community_id, to_account.community_id
    if paying == paid:
        raise InvalidTransaction("same_community")
    out, into = clearing_account(paying, paid), clearing_account(paid, paying)
    if out is None or into is None:
        raise InvalidTransaction("no_link")
    levy = minutes * db.session.get(Community, paid).ledger_levy_percent // 100
    there = {_id(from_account): -minutes, out.id: minutes}
    here = {into.id: -minutes, _id(to_account): minutes - levy}
    if levy:
        here[fund_account(paid).id] = levy
    for split in EXCHANGE_SPLITS:
        here = split(here)
    there, here = dict(sorted(there.items())), dict(sorted(here.items()))

    conn = db.session.connection()
    rows = {row.id: row for row in lock_accounts(conn, sorted({*there, *here}))}
    if len(rows) != len(there) + len(here):
        raise InvalidTransaction("unknown_account")
    if actor is not None:
        # As one transfer from the payer to the provider: the clearing accounts are neither.
        _refuse_paying_oneself(
            _id(actor),
            [rows[from_account.id], rows[to_account.id]],
            {from_account.id: -minutes, to_account.id: minutes},
        )
    if conn.execute(TRANSACTION_BY_KEY, {"community": paying, "key": idempotency_key}).first() is None:
        for account_id, amount in [*there.items(), *here.items()]:
            _bound, refusal = check_leg(rows[account_id], rows[account_id].balance, amount)
            if refusal is not None:
                raise refusal
    options = dict(
        actor=actor,
        memo=memo,
        on_behalf_of=on_behalf_of,
        idempotency_key=idempotency_key,
        payers_consented=True,
        across=True,
    )
    first, _created = _write(paying, "exchange", there, **options)
    second, _created = _write(paid, "exchange", here, **options)
    return first, second


def mirror_of(transaction: Transaction) -> Transaction | None:
    """The other community's side of a transaction across a link (None: not across a link)."""
    clearing = db.session.execute(
        sa.select(Account.community_id, Account.peer_community_id)
        .join(Posting, Posting.account_id == Account.id)
        .where(Posting.transaction_id == transaction.id, Account.kind == "clearing")
    ).first()
    if clearing is None or transaction.idempotency_key is None:
        return None
    return db.session.scalar(
        sa.select(Transaction).where(
            Transaction.community_id == clearing.peer_community_id,
            Transaction.idempotency_key == transaction.idempotency_key,
        )
    )


# Called with the amounts of every exchange before it is written: a member's pots take their share
# of what the member is paid (timebank.pots). Set by the app factory, so the ledger imports no domain.
EXCHANGE_SPLITS: tuple = ()


def _post(community_id, kind, legs, *, actor, override_reason, **options) -> Transaction:
    if kind not in TRANSACTION_KINDS:
        raise InvalidTransaction("kind")
    if kind == "reversal":
        raise InvalidTransaction("reversal_by_post")
    amounts = checked_legs(legs)
    if kind == "exchange":
        for split in EXCHANGE_SPLITS:
            amounts = split(amounts)
    if override_reason is not None:
        override_reason = _required_reason(override_reason)
        _require_coordinator(actor, community_id)
        if actor is not None and db.session.scalar(
            sa.select(sa.func.count(Account.id)).where(Account.id.in_(amounts), Account.member_id == actor.id)
        ):
            raise OwnAccount()
    transaction, _created = _write(community_id, kind, amounts, actor=actor, override_reason=override_reason, **options)
    return transaction


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_minutes(value) -> bool:
    return _is_whole(value) and 0 < value <= MAX_MINUTES


def checked_legs(legs) -> dict[int, int]:
    """{account id: minutes} in id order, or the refusal of malformed legs."""
    if len(legs) < 2:
        raise InvalidTransaction("too_few_legs")
    amounts = {}
    for account, minutes in legs:
        if not (isinstance(minutes, int) and _is_minutes(abs(minutes))):
            raise InvalidAmount(minutes)
        account_id = _id(account)
        if account_id in amounts:
            raise InvalidTransaction("duplicate_account")
        amounts[account_id] = minutes
    if sum(amounts.values()) != 0:
        raise InvalidTransaction("unbalanced")
    return dict(sorted(amounts.items()))


def _required_reason(reason: str | None) -> str:
    """The reason as it is stored: without NUL characters, which PostgreSQL cannot keep."""
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise InvalidTransaction("reason_required")
    if len(reason) > MEMO_MAX:
        raise InvalidTransaction("memo_too_long")
    return reason


def _require_coordinator(actor: Member | None, community_id: int) -> None:
    """Coordinator acts need a coordinator; actor None is the system itself (commands, demo)."""
    if actor is not None and not can_correct_ledger(actor, community_id):
        raise NotAllowed()


def _require_account_manager(actor: Member | None, account: Account) -> None:
    if account.kind == "clearing":
        # Its limits are the link's cap and it stays open while exchanges across the link may settle.
        raise NotAllowed()
    _require_coordinator(actor, account.community_id)
    if actor is None or account.member is None:
        return
    if account.member_id == actor.id:
        raise OwnAccount()
    if not can_manage_account(actor, account.member):
        raise NotAllowed()


def _state(row, settling: bool) -> str:
    """Whether the account takes postings: its own status, then its member's (a suspended member's
    account is paused). Settling a balance is stopped only by the account's own closure."""
    if row.status == "closed" or (row.status == "suspended" and not settling):
        return row.status
    return "open" if settling else MEMBER_BLOCKS.get(row.member_status, "open")


def check_leg(
    row, balance: int, amount: int, *, settling: bool = False, check_limits: bool = True
) -> tuple[int | None, LedgerError | None]:
    """The limit one leg is checked against (None: none applies) and why it is refused, if it is.
    `row` is a LOCK_ACCOUNTS row; `balance` the account's balance before this leg."""
    state = _state(row, settling)
    if state != "open":
        return None, AccountClosed(account_id=row.id, owner=row.owner, status=state)
    if not check_limits:
        return None, None
    floor, ceiling = _limits(row.kind, row.floor_override, row.ceiling_override, row.ledger_floor, row.ledger_ceiling)
    bound = floor if amount < 0 else ceiling
    after = balance + amount
    if bound is not None and (after < bound if amount < 0 else after > bound):
        return bound, LimitExceeded(account_id=row.id, owner=row.owner, limit=bound, balance=balance, amount=amount)
    return bound, None


def _write(
    community_id: int | None,
    kind: str,
    amounts: dict[int, int],
    *,
    actor: Member | None,
    memo: str = "",
    on_behalf_of: Member | None = None,
    idempotency_key: str | None = None,
    reverses_id: int | None = None,
    override_reason: str | None = None,
    check_limits: bool = True,
    settling: bool = False,
    payers_consented: bool = False,
    across: bool = False,
) -> tuple[Transaction, bool]:
    """Lock, check, write; returns the transaction and whether it is new (False: an earlier
    request with the same key made it). The caller took the write lock before reading anything.

    Nobody authorises a movement into their own account out of an account that is not theirs:
    when the actor's own account receives and another pays, the actor may not decide it alone
    (IntoOwnAccount) unless the payers agreed themselves (`payers_consented`). `actor` None is the
    time bank itself, acting on what members agreed (auto-confirm) or on a members' vote.
    Clearing accounts move only `across` a link, both sides at once (transfer_across, reverse)."""
    memo = (memo or "").strip()
    if len(memo) > MEMO_MAX:
        raise InvalidTransaction("memo_too_long")
    if idempotency_key is not None and not (0 < len(idempotency_key) <= KEY_MAX):
        raise InvalidTransaction("key")

    conn = db.session.connection()
    rows = lock_accounts(conn, list(amounts))
    if len(rows) != len(amounts):
        raise InvalidTransaction("unknown_account")
    if community_id is None:
        community_id = rows[0].community_id
    if actor is not None and not payers_consented:
        _refuse_paying_oneself(_id(actor), rows, amounts)
    content = dict(
        community_id=community_id,
        kind=kind,
        memo=memo,
        reverses_id=reverses_id,
        on_behalf_of_id=_id(on_behalf_of) if on_behalf_of else None,
        amounts=amounts,
    )
    earlier = _earlier(conn, content, idempotency_key)
    if earlier is not None:
        return earlier, False

    postings, overridden = [], []
    for row in rows:
        if row.community_id != community_id:
            raise InvalidTransaction("other_community")
        if row.kind == "clearing" and not across:
            raise InvalidTransaction("clearing")
        amount = amounts[row.id]
        bound, refusal = check_leg(row, row.balance, amount, settling=settling, check_limits=check_limits)
        if isinstance(refusal, LimitExceeded) and override_reason is not None:
            overridden.append(dict(account_id=row.id, limit=bound, balance=row.balance, amount=amount))
            bound = None
        elif refusal is not None:
            raise refusal
        postings.append(dict(account_id=row.id, amount=amount, balance_after=row.balance + amount, bound=bound))

    now = utcnow()
    header = dict(
        community_id=community_id,
        kind=kind,
        memo=memo,
        actor_id=_id(actor) if actor else None,
        on_behalf_of_id=content["on_behalf_of_id"],
        created_at=now,
        idempotency_key=idempotency_key,
        reverses_id=reverses_id,
    )
    inserted = on_driver(conn, insert_ignoring(TRANSACTIONS, conn.dialect.name), header)
    transaction_id = inserted[0].id if inserted else None
    if transaction_id is None:
        # A concurrent request with the same key, or undoing the same transaction, committed first.
        earlier = _earlier(conn, content, idempotency_key)
        if earlier is None:
            raise InvalidTransaction("conflict")
        return earlier, False
    for posting in postings:
        posting["transaction_id"] = transaction_id
    on_driver(conn, INSERT_POSTINGS, postings)
    on_driver(conn, UPDATE_BALANCE, [{"account": p["account_id"], "amount": p["amount"]} for p in postings])
    record_transaction(
        conn,
        community_id=community_id,
        kind=kind,
        created_at=now,
        reverses_id=reverses_id,
        legs=[(row.id, row.member_id, amounts[row.id], row.kind) for row in rows],
        run=on_driver,
    )

    keep_loaded_balances(postings)
    transaction = persistent(Transaction, id=transaction_id, **header)
    if overridden:
        record(
            "ledger.limit_override",
            actor=actor,
            community_id=community_id,
            on_behalf_of=on_behalf_of,
            subject=transaction,
            reason=override_reason,
            accounts=overridden,
        )
    return transaction, True


def _refuse_paying_oneself(actor_id: int, rows: list, amounts: dict[int, int]) -> None:
    receives = any(row.member_id == actor_id and amounts[row.id] > 0 for row in rows)
    others_pay = any(row.member_id != actor_id and amounts[row.id] < 0 for row in rows)
    if receives and others_pay:
        raise IntoOwnAccount()


def _earlier(conn, content: dict, key: str | None) -> Transaction | None:
    """The transaction this request already made (same key, same content), if any. Raises when
    the key was used for something else, or when the transaction to undo is undone already."""
    if key is not None:
        row = conn.execute(TRANSACTION_BY_KEY, {"community": content["community_id"], "key": key}).first()
        if row is not None:
            legs = dict(conn.execute(LEGS, {"txn": row.id}).all())
            stored = dict(
                community_id=row.community_id,
                kind=row.kind,
                memo=row.memo,
                reverses_id=row.reverses_id,
                on_behalf_of_id=row.on_behalf_of_id,
                amounts=legs,
            )
            if stored != content:
                raise IdempotencyConflict(key, row.id)
            return db.session.get(Transaction, row.id)
    if content["reverses_id"] is not None:
        row = conn.execute(REVERSAL_OF, {"original": content["reverses_id"]}).first()
        if row is not None:
            raise AlreadyReversed(content["reverses_id"], row.id)
    return None


# Reading


@dataclass(frozen=True)
class StatementLine:
    """One posting on an account, with what a reader needs: when, what, with whom, how much."""

    posting_id: int
    transaction_id: int
    created_at: datetime
    kind: str
    memo: str
    amount: int
    balance_after: int
    others: tuple[str, ...]
    actor: str | None
    on_behalf_of: str | None
    reverses_id: int | None
    reversed_by_id: int | None


# Made once: building an alias costs more than running the statement query.
_ACTOR, _BEHALF, _REVERSAL = sa.orm.aliased(Member), sa.orm.aliased(Member), sa.orm.aliased(Transaction)


def statement(account: Account, *, before: int | None = None, limit: int | None = None) -> list[StatementLine]:
    """The account's postings, newest first, each with its running balance. `before` is a posting
    id (for the next page); limit None gives them all."""
    actor, behalf, reversal = _ACTOR, _BEHALF, _REVERSAL
    query = (
        sa.select(
            Posting.id,
            Posting.transaction_id,
            Transaction.created_at,
            Transaction.kind,
            Transaction.memo,
            Posting.amount,
            Posting.balance_after,
            actor.name,
            behalf.name,
            Transaction.reverses_id,
            reversal.id,
        )
        .join(Transaction, Transaction.id == Posting.transaction_id)
        .outerjoin(actor, actor.id == Transaction.actor_id)
        .outerjoin(behalf, behalf.id == Transaction.on_behalf_of_id)
        .outerjoin(reversal, reversal.reverses_id == Transaction.id)
        .where(Posting.account_id == account.id)
        .order_by(Posting.id.desc())
    )
    if before is not None:
        query = query.where(Posting.id < before)
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    others = _counterparties([row[1] for row in rows], account.id)
    return [StatementLine(*row[:7], others.get(row[1], ()), *row[7:]) for row in rows]


def paying_the_actor(actor: Member, transaction_ids: list[int]) -> set[int]:
    """Those of the transactions that `actor` may not undo: the correction would move hours into
    their own account out of someone else's (the rule `_write` enforces), so a page does not offer it."""
    if not transaction_ids:
        return set()
    own = sa.func.coalesce(Account.member_id, 0) == actor.id
    query = (
        sa.select(Posting.transaction_id)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.transaction_id.in_(transaction_ids))
        .group_by(Posting.transaction_id)
        .having(
            sa.func.max(sa.case((own & (Posting.amount < 0), 1), else_=0)) == 1,
            sa.func.max(sa.case((~own & (Posting.amount > 0), 1), else_=0)) == 1,
        )
    )
    return set(db.session.scalars(query))


def _counterparties(transaction_ids: list[int], account_id: int) -> dict[int, tuple[str, ...]]:
    """For each transaction, who was on the other side: member names, or "the community fund"."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(transaction_ids), 500):
        # The other sides first, then their accounts by id: joined in one statement, PostgreSQL
        # hashed every account of the installation for a page of forty postings (2.8 against 0.9 ms
        # with the large demo's 5,000 members, and growing with them).
        postings = db.session.execute(
            sa.select(Posting.transaction_id, Posting.account_id)
            .where(Posting.transaction_id.in_(transaction_ids[start : start + 500]), Posting.account_id != account_id)
            .order_by(Posting.id)
        ).all()
        accounts = {
            row.id: (row.name, row.kind)
            for row in db.session.execute(
                sa.select(Account.id, Member.name, Account.kind)
                .outerjoin(Member, Member.id == Account.member_id)
                .where(Account.id.in_({account for _transaction, account in postings}))
            )
        }
        rows = [(transaction_id, *accounts[account]) for transaction_id, account in postings]
        # Only transfers across a link need the other community's side (a query of eight joins).
        crossing = [transaction_id for transaction_id, _name, kind in rows if kind == "clearing"]
        across = _across_counterparties(crossing) if crossing else {}
        for transaction_id, name, kind in rows:
            if kind == "clearing":
                found.setdefault(transaction_id, []).extend(across.get(transaction_id, [_("a linked community")]))
            else:
                found.setdefault(transaction_id, []).append(
                    _("a pot of %(name)s", name=name) if kind == "pot" else name or _("the community fund")
                )
    return {key: tuple(names) for key, names in found.items()}


_PEER, _MIRROR, _MIRROR_POSTING, _MIRROR_ACCOUNT = (
    sa.orm.aliased(model) for model in (Community, Transaction, Posting, Account)
)


def _across_counterparties(transaction_ids: list[int]) -> dict[int, list[str]]:
    """For transfers across a link: the member on the other community's side, with its name."""
    query = (
        sa.select(Transaction.id, Member.name, _PEER.name)
        .join(Posting, Posting.transaction_id == Transaction.id)
        .join(Account, sa.and_(Account.id == Posting.account_id, Account.kind == "clearing"))
        .join(_PEER, _PEER.id == Account.peer_community_id)
        .join(
            _MIRROR,
            sa.and_(
                _MIRROR.community_id == Account.peer_community_id,
                _MIRROR.idempotency_key == Transaction.idempotency_key,
            ),
        )
        .join(_MIRROR_POSTING, _MIRROR_POSTING.transaction_id == _MIRROR.id)
        .join(
            _MIRROR_ACCOUNT, sa.and_(_MIRROR_ACCOUNT.id == _MIRROR_POSTING.account_id, _MIRROR_ACCOUNT.kind == "member")
        )
        .join(Member, Member.id == _MIRROR_ACCOUNT.member_id)
        .where(Transaction.id.in_(transaction_ids))
    )
    found: dict[int, list[str]] = {}
    for transaction_id, name, community in db.session.execute(query):
        found.setdefault(transaction_id, []).append(_("%(name)s (%(community)s)", name=name, community=community))
    return found
