"""Reading the audit log: the filters coordinators and administrators use (who, kind, member,
period), the kinds of entries explained in words, and the CSV export."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from timebank.audit.models import AuditEvent
from timebank.audit.services import ACTION_LABELS, action_label
from timebank.db import NotByIndex
from timebank.extensions import db
from timebank.members.models import STAFF, Member
from timebank.spreadsheets import safe_cell

AUDIT_LABELS = {"audit.exported": _l("downloaded entries of the audit log")}

# The first part of an action ("member" of "member.suspended") says what it is about.
KINDS: dict[str, tuple] = {
    "member": (_l("Members"), _l("Joining, accounts, roles, pauses, erasure and acting for someone.")),
    "post": (_l("Market posts"), _l("Offers and requests, and those coordinators took down or put back.")),
    "category": (_l("Market categories"), _l("Categories added, renamed, merged or retired.")),
    "market": (_l("Market settings"), _l("How long posts stay online.")),
    "exchange": (_l("Exchanges"), _l("Disputes decided, paper slips entered, exchange settings.")),
    "hours": (_l("Gifts and grants of hours"), _l("Hours given to a member or granted from the fund.")),
    "ledger": (_l("Hours and limits"), _l("Undone transactions, limits, exceptions to limits, rules for hours.")),
    "community": (_l("Neighbourhood settings"), _l("Name, how people join, house rules, areas.")),
    "governance": (_l("Proposals and votes"), _l("Proposals, votes, comments and their settings.")),
    "moderation": (_l("Reports and moderation"), _l("Content hidden or put back, warnings, replies.")),
    "desk": (_l("Coordination desk"), _l("Who took up which waiting task, notes on members.")),
    "audit": (_l("This log"), _l("Who downloaded the log.")),
}


def kind_of(action: str) -> str:
    return action.split(".", 1)[0]


def kind_choices() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(kind, name, explanation, [(action, label)]) for the filter, in the order of KINDS."""
    grouped: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for action in ACTION_LABELS:
        grouped.setdefault(kind_of(action), []).append((action, str(action_label(action))))
    return [
        (
            kind,
            str(KINDS[kind][0]) if kind in KINDS else kind,
            str(KINDS[kind][1]) if kind in KINDS else "",
            sorted(actions, key=lambda choice: choice[1]),
        )
        for kind, actions in grouped.items()
        if actions
    ]


@dataclass
class Filters:
    """What a reader asked for; each empty field means "any"."""

    community_id: int | None = None
    actor_id: int | None = None  # 0: the time bank itself (scheduled work)
    kind: str = ""  # a kind ("member") or one action ("member.suspended")
    member_id: int | None = None
    member_name: str = ""
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict:
        args = {
            "who": self.actor_id,
            "kind": self.kind,
            "member": self.member_id,
            "name": self.member_name,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in args.items() if value not in (None, "")}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def entries(filters: Filters) -> sa.Select:
    """The entries that match, newest first; `community_id` None reads every community."""
    stmt = sa.select(AuditEvent).options(joinedload(AuditEvent.actor), joinedload(AuditEvent.on_behalf_of))
    if filters.community_id is not None:
        stmt = stmt.where(AuditEvent.community_id == filters.community_id)
    if filters.actor_id == 0:
        stmt = stmt.where(AuditEvent.actor_id.is_(None))
    elif filters.actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == filters.actor_id)
    if filters.kind:
        stmt = stmt.where(
            AuditEvent.action == filters.kind if "." in filters.kind else AuditEvent.action.like(filters.kind + ".%")
        )
    if filters.member_id is not None or filters.member_name:
        members = sa.select(Member.id)
        if filters.community_id is not None:
            members = members.where(Member.community_id == filters.community_id)
        if filters.member_id is not None:
            members = members.where(Member.id == filters.member_id)
        if filters.member_name:
            pattern = "%" + filters.member_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            members = members.where(Member.name.ilike(pattern, escape="\\"))
        stmt = stmt.where(
            sa.or_(
                AuditEvent.on_behalf_of_id.in_(members),
                sa.and_(AuditEvent.subject_type == "members", AuditEvent.subject_id.in_(members)),
            )
        )
    if filters.since:
        stmt = stmt.where(AuditEvent.created_at >= _day_start(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEvent.created_at < _day_start(filters.until + timedelta(days=1)))
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def actors(community_id: int | None, chosen: int | None = None) -> list[tuple[int, str]]:
    """The names of the "who did it" filter: the coordinators and administrators with entries in the
    log (of one community), and the member already chosen. Listing every member who ever did
    something made a select of thousands of names, many alike, and a 140 kB page in a big
    neighbourhood; any other member's entries are one click away, on their name in an entry."""
    # By the actor's entries: the community's are many more, and SQLite would walk them otherwise.
    in_log = sa.exists().where(
        AuditEvent.actor_id == Member.id,
        *([NotByIndex(AuditEvent.community_id) == community_id] if community_id else []),
    )
    # The staff as the partial index ix_members_staff names them (one OR with the chosen member read
    # every member), and the chosen member by id.
    staff = sa.select(Member.id, Member.name).where(sa.text(f"({STAFF})"), in_log)
    one = sa.select(Member.id, Member.name).where(Member.id == (chosen or 0), in_log)
    found = sa.union(staff, one).subquery()
    return [tuple(row) for row in db.session.execute(sa.select(found).order_by(found.c.name, found.c.id))]


def subject_names(events: list[AuditEvent]) -> dict[int, str]:
    """The names of the members a page of entries is about, in one query rather than one per entry."""
    ids = {event.subject_id for event in events if event.subject_type == "members" and event.subject_id}
    if not ids:
        return {}
    return {
        member_id: name
        for member_id, name in db.session.execute(sa.select(Member.id, Member.name).where(Member.id.in_(ids)))
    }


def about(event: AuditEvent, names: dict[int, str]) -> str:
    """The member an entry is about, by name, if any; `names` comes from `subject_names`."""
    if event.on_behalf_of is not None:
        return event.on_behalf_of.name
    if event.subject_type == "members" and event.subject_id:
        return names.get(event.subject_id, "")
    return ""


COLUMNS = ("at", "community", "by", "kind", "what", "about_member", "subject", "reason", "details")


def as_csv(events) -> str:
    """The entries as CSV with a byte-order mark, so spreadsheets read the accents right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    events = list(events)
    names = subject_names(events)
    for event in events:
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    event.created_at,
                    event.community_id,
                    event.actor.name if event.actor else "",
                    event.action,
                    str(action_label(event.action)),
                    about(event, names),
                    f"{event.subject_type}:{event.subject_id}" if event.subject_type else "",
                    event.reason,
                    event.details,
                )
            ]
        )
    return "\ufeff" + out.getvalue()
