"""CSV files of the ledger: the whole journal for an auditor, a statement for a member. Every
cell goes through `safe_cell` (spreadsheet formula injection)."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.services import StatementLine, account_for, statement
from timebank.members.models import Member
from timebank.spreadsheets import safe_cell

JOURNAL_COLUMNS = [
    "transaction_id",
    "created_at_utc",
    "community",
    "kind",
    "memo",
    "actor_id",
    "actor",
    "on_behalf_of_id",
    "reverses_transaction_id",
    "posting_id",
    "account_id",
    "account_owner",
    "amount_minutes",
    "balance_after_minutes",
    "limit_checked_minutes",
]


def write_rows(stream: TextIO, rows: Iterable[Iterable]) -> int:
    """Write the rows as CSV with every cell made safe; returns how many rows were written."""
    writer = csv.writer(stream)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    return count


def journal_rows(community_slug: str | None = None) -> Iterator[list]:
    """The header, then every posting in id order with its transaction. Raises LookupError at
    once for an unknown community, before anything is written."""
    actor = sa.orm.aliased(Member)
    owner = sa.orm.aliased(Member)
    query = (
        sa.select(
            Transaction.id,
            Transaction.created_at,
            Community.slug,
            Transaction.kind,
            Transaction.memo,
            Transaction.actor_id,
            actor.name,
            Transaction.on_behalf_of_id,
            Transaction.reverses_id,
            Posting.id,
            Posting.account_id,
            owner.name,
            Account.kind,
            Posting.amount,
            Posting.balance_after,
            Posting.bound,
        )
        .join(Transaction, Transaction.id == Posting.transaction_id)
        .join(Community, Community.id == Transaction.community_id)
        .join(Account, Account.id == Posting.account_id)
        .outerjoin(actor, actor.id == Transaction.actor_id)
        .outerjoin(owner, owner.id == Account.member_id)
        .order_by(Posting.id)
    )
    if community_slug is not None:
        if db.session.scalar(sa.select(Community.id).where(Community.slug == community_slug)) is None:
            raise LookupError(f"there is no community with slug {community_slug!r}")
        query = query.where(Community.slug == community_slug)

    def rows():
        yield JOURNAL_COLUMNS
        for row in db.session.execute(query.execution_options(yield_per=2000)):
            (
                txn,
                created,
                slug,
                kind,
                memo,
                actor_id,
                actor_name,
                behalf,
                reverses,
                posting,
                account,
                owner_name,
                account_kind,
                amount,
                after,
                bound,
            ) = row
            yield [
                txn,
                created.isoformat(),
                slug,
                kind,
                memo,
                actor_id,
                actor_name,
                behalf,
                reverses,
                posting,
                account,
                owner_name if account_kind == "member" else "community fund",
                amount,
                after,
                bound,
            ]

    return rows()


def statement_csv(lines: list[StatementLine], format_time) -> str:
    """A member's statement as CSV in their language; minutes as numbers and as words."""
    stream = io.StringIO()
    header = [
        _("Date and time"),
        _("What"),
        _("Description"),
        _("With"),
        _("Minutes"),
        _("Amount"),
        _("Balance after (minutes)"),
        _("Balance after"),
    ]
    write_rows(
        stream,
        [header]
        + [
            [
                format_time(line.created_at),
                line_label(line),
                line.memo,
                ", ".join(line.others),
                line.amount,
                format_minutes(line.amount),
                line.balance_after,
                format_minutes(line.balance_after),
            ]
            for line in lines
        ],
    )
    return stream.getvalue()


KIND_LABELS = {
    "exchange": _l("Exchange"),
    "gift": _l("Gift"),
    "donation": _l("Donation to the fund"),
    "grant": _l("Gift from the fund"),
    "levy": _l("Contribution to the fund"),
    "reversal": _l("Correction"),
    "adjustment": _l("Adjustment"),
    "saving": _l("Saving in a pot"),
}


def kind_label(kind: str) -> str:
    """What a kind of transaction is called in the reader's language: one lookup per line (a
    statement page calls this for each of its lines; translating all eight names each time was a
    fifth of the page's time)."""
    return str(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def line_label(line: StatementLine) -> str:
    """A statement line named as a person would say it, from the reader's side: "gift to Jan",
    "thank-you from Jan", "exchange: haircut" (a bare kind such as "Gift" read as "free")."""
    names = ", ".join(line.others) or _("the community fund")
    out = line.amount < 0
    if line.kind == "exchange":
        return _("exchange: %(title)s", title=line.memo) if line.memo else _("exchange")
    if line.kind == "gift":
        return _("gift to %(name)s", name=names) if out else _("thank-you from %(name)s", name=names)
    if line.kind in ("donation", "grant"):
        return _("gift to %(name)s", name=names) if out else _("gift from %(name)s", name=names)
    if line.kind == "levy":
        return _("share for the community fund") if out else _("share from %(name)s", name=names)
    if line.kind == "saving":
        return _("put in a pot") if out else _("taken from a pot")
    return kind_label(line.kind).lower()


def export_member_entries(member: Member) -> list[dict]:
    """The member's own statement, for their data export (GDPR art. 15 and 20)."""
    account = account_for(member, create=False)
    if account is None:
        return []
    return [
        {
            "transaction_id": line.transaction_id,
            "created_at": line.created_at,
            "kind": line.kind,
            "what": line_label(line),
            "memo": line.memo,
            "amount_minutes": line.amount,
            "balance_after_minutes": line.balance_after,
            "with": list(line.others),
        }
        for line in statement(account)
    ]
