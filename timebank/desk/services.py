"""What waits for a community's coordinators, counted in SQL; who took up which task; notes on
members; the weekly summary email (services flush; the caller commits).

Each kind of task counts its items and finds the oldest in one query, and lists the few oldest
items, each with a key ("join:12") a coordinator can take up so that another does not do it too."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from timebank.audit.models import AuditEvent
from timebank.audit.services import record
from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.desk.models import Assignment, MemberNote
from timebank.errors import DomainError
from timebank.exchanges.models import Exchange, Participant
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger.models import Account
from timebank.mail.models import OutboxMessage
from timebank.mail.services import queue_mail
from timebank.market.models import Post
from timebank.members.models import JoinRequest, Member
from timebank.moderation.models import ModerationCase
from timebank.moderation.wording import ITEM_LABELS
from timebank.notifications.models import EmailChoice, Notification
from timebank.permissions import can_coordinate

DORMANT_DAYS = 90
NEAR_LIMIT = 60  # minutes from the floor or ceiling that count as "near"
EXPIRING_DAYS = 7
STUCK_DAYS = 21  # an agreed exchange without news for this long may have stalled
MAIL_DAYS = 30  # failed mail older than this no longer waits on the desk
ROOM_DAYS = 7  # a member's request for room waits on the desk this long
ITEMS_SHOWN = 5
NOTE_MAX = 500
SUMMARY_EVENT = "desk_weekly"  # a coordinator's opt-out, kept with their other email choices

AUDIT_LABELS = {
    "desk.taken": _l("took up a waiting task"),
    "desk.released": _l("left a waiting task to others"),
    "desk.note_added": _l("added an internal note about the member"),
}


class DeskError(DomainError):
    """A desk action was refused; the message is fit to show."""


@dataclass
class Item:
    key: str
    text: str
    since: datetime | None
    url: str


@dataclass
class Task:
    kind: str
    title: str
    explanation: str
    action: str
    url: str
    count: int = 0
    since: datetime | None = None
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Moments:
    """The moments the filters compare with: worked out from now, or bound parameters of the same
    names, so that the desk's counts are one statement built once per process (building its
    thirteen selects took longer than running them)."""

    now: object
    stuck_before: object
    quiet_before: object
    expiring_by: object
    mail_since: object
    room_since: object

    @classmethod
    def of(cls, now: datetime | None = None) -> "Moments":
        now = now or utcnow()
        return cls(
            now=now,
            stuck_before=now - timedelta(days=STUCK_DAYS),
            quiet_before=now - timedelta(days=DORMANT_DAYS),
            expiring_by=now + timedelta(days=EXPIRING_DAYS),
            mail_since=now - timedelta(days=MAIL_DAYS),
            room_since=now - timedelta(days=ROOM_DAYS),
        )

    @classmethod
    def bound(cls) -> "Moments":
        return cls(**{name: sa.bindparam(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Kind:
    title: object
    explanation: object
    action: object
    url: Callable[[], str]
    # (count, oldest) in one query, and the few oldest items
    totals: Callable[[object, Moments], sa.Select]
    items: Callable[[int, Moments], list[Item]]
    # whether "kind:id" is an item of the community, for taking it up
    exists: Callable[[int, int], bool]


def _scalar_exists(stmt) -> bool:
    return db.session.scalar(sa.select(stmt.exists())) is True


# Join requests


def _join_filter(community_id):
    return [JoinRequest.community_id == community_id, JoinRequest.state == "waiting"]


def _join_items(community_id, _at):
    rows = db.session.execute(
        sa.select(JoinRequest.id, Member.name, JoinRequest.submitted_at)
        .join(Member, Member.id == JoinRequest.member_id)
        .where(*_join_filter(community_id))
        .order_by(JoinRequest.submitted_at, JoinRequest.id)
        .limit(ITEMS_SHOWN)
    )
    return [Item(f"join:{i}", name, since, url_for("coordinate.requests")) for i, name, since in rows]


# Disputes and requests for help


def _dispute_filter(community_id):
    # The states first, alone: the index by community and state then reads only the few open
    # exchanges instead of every exchange the neighbourhood ever had.
    return [
        Exchange.community_id == community_id,
        Exchange.state.in_(("disputed", "accepted", "proposed")),
        sa.or_(
            Exchange.state == "disputed",
            sa.and_(Exchange.help_requested_at.is_not(None), Exchange.state.in_(("accepted", "proposed"))),
        ),
    ]


def _exchange_items(conditions, order=Exchange.updated_at):
    rows = db.session.execute(
        sa.select(Exchange.id, Exchange.title, order).where(*conditions).order_by(order, Exchange.id).limit(ITEMS_SHOWN)
    )
    return [Item(f"exchange:{i}", title, since, url_for("exchanges.detail", exchange_id=i)) for i, title, since in rows]


def _exchange_exists(conditions):
    return lambda community_id, item_id: _scalar_exists(
        sa.select(Exchange.id).where(Exchange.id == item_id, *conditions(community_id))
    )


# Reported content


def _report_filter(community_id):
    return [ModerationCase.community_id == community_id, ModerationCase.state == "open"]


def _report_items(community_id, _at):
    rows = db.session.execute(
        sa.select(ModerationCase.id, ModerationCase.item_type, Member.name, ModerationCase.opened_at)
        .join(Member, Member.id == ModerationCase.author_id)
        .where(*_report_filter(community_id))
        .order_by(ModerationCase.opened_at, ModerationCase.id)
        .limit(ITEMS_SHOWN)
    )
    return [
        Item(f"report:{i}", f"{ITEM_LABELS[kind]} · {name}", since, url_for("moderation.case", case_id=i))
        for i, kind, name, since in rows
    ]


# Exchanges waiting on an assisted member: to answer a proposal, or to confirm recorded time.


def _waits_on_helped(helped):
    return [
        helped.exchange_id == Exchange.id,
        Member.id == helped.member_id,
        Member.assisted.is_(True),
        Member.status == "active",
        Exchange.help_requested_at.is_(None),
        sa.or_(
            sa.and_(Exchange.state == "proposed", Exchange.proposer_id != helped.member_id),
            sa.and_(
                Exchange.state == "accepted",
                Exchange.recorded_at.is_not(None),
                helped.role == "receiver",
                helped.answer.is_(None),
            ),
        ),
    ]


def _assisted_filter(community_id):
    helped = aliased(Participant)
    return [
        Exchange.community_id == community_id,
        Exchange.state.in_(("proposed", "accepted")),  # by index: only open exchanges are looked into
        sa.select(helped.id).join(Member, Member.id == helped.member_id).where(*_waits_on_helped(helped)).exists(),
    ]


def _assisted_items(community_id, _at):
    """Each with a link to the member's page, where the coordinator starts to act for them."""
    rows = db.session.execute(_assisted_oldest(), {"community_id": community_id})
    return [
        Item(f"exchange:{i}", f"{title} · {name}", since, url_for("coordinate.member", member_id=member_id))
        for i, title, member_id, name, since in rows
    ]


@cache
def _assisted_oldest() -> sa.Select:
    """Built once per process, as the counts are: building its nested selects took 2 ms a desk."""
    helped = aliased(Participant)
    return (
        sa.select(Exchange.id, Exchange.title, Member.id, Member.name, Exchange.updated_at)
        .select_from(Exchange)
        .join(helped, helped.exchange_id == Exchange.id)
        .join(Member, Member.id == helped.member_id)
        .where(
            # The few open exchanges found first, as the count finds them: joined from the members'
            # side, SQLite's plan read every member's every exchange (13 ms on the large demo).
            Exchange.id.in_(sa.select(Exchange.id).where(*_assisted_filter(sa.bindparam("community_id")))),
            *_waits_on_helped(helped),
        )
        .order_by(Exchange.updated_at, Exchange.id)
        .limit(ITEMS_SHOWN)
    )


# Exchanges agreed but stuck: no step, message or answer for three weeks


def _stuck_filter(community_id, at):
    return [
        Exchange.community_id == community_id,
        Exchange.state == "accepted",
        Exchange.kind != "slip",
        Exchange.help_requested_at.is_(None),
        Exchange.updated_at < at.stuck_before,
    ]


# Paper slips that wait for the member to confirm them


def _slip_filter(community_id):
    return [Exchange.community_id == community_id, Exchange.kind == "slip", Exchange.state == "accepted"]


# Members at or near their floor or ceiling


def _limits_filter(community_id):
    floor = sa.func.coalesce(Account.floor_override, Community.ledger_floor)
    ceiling = sa.func.coalesce(Account.ceiling_override, Community.ledger_ceiling)
    return [
        Account.community_id == community_id,
        Account.kind == "member",
        Account.member_id == Member.id,
        Member.status == "active",
        Community.id == Account.community_id,
        sa.or_(Account.balance <= floor + NEAR_LIMIT, Account.balance >= ceiling - NEAR_LIMIT),
    ]


def _member_items(stmt, since_column=None, limit_order=None):
    columns = [Member.id, Member.name] + ([since_column] if since_column is not None else [])
    rows = db.session.execute(
        stmt.with_only_columns(*columns)
        .order_by(*(limit_order if limit_order is not None else [Member.name]), Member.id)
        .limit(ITEMS_SHOWN)
    )
    return [
        Item(
            f"member:{row[0]}",
            row[1],
            row[2] if since_column is not None else None,
            url_for("coordinate.member", member_id=row[0]),
        )
        for row in rows
    ]


def _limits_items(community_id, _at):
    stmt = (
        sa.select(Member.id)
        .select_from(Account)
        .join(Community, Community.id == Account.community_id)
        .join(Member, Member.id == Account.member_id)
        .where(*_limits_filter(community_id))
    )
    rows = db.session.execute(
        stmt.with_only_columns(Member.id, Member.name, Account.balance)
        .order_by(Account.balance, Member.id)
        .limit(ITEMS_SHOWN)
    )
    return [
        Item(f"member:{i}", f"{name} · {format_minutes(balance)}", None, url_for("ledger.member", member_id=i))
        for i, name, balance in rows
    ]


# Members without an exchange or a post for 90 days: a friendly call, not a sanction.


def _dormant_filter(community_id, at):
    """Members who joined before the 90 days and whose newest exchange news or post (kept on
    write by the database, migration 0260_quiet) is older, or who have none."""
    return [
        Member.community_id == community_id,
        Member.status == "active",
        Member.created_at < at.quiet_before,
        sa.or_(Member.last_active_at.is_(None), Member.last_active_at < at.quiet_before),
    ]


# Posts about to expire whose owner has no email address to be reminded at


def _expiring_filter(community_id, at):
    return [
        Post.community_id == community_id,
        Post.status == "active",
        Post.expires_at > at.now,
        Post.expires_at <= at.expiring_by,
        Member.id == Post.owner_id,
        Member.email.is_(None),
        Member.status == "active",
    ]


def _expiring_items(community_id, at):
    rows = db.session.execute(
        sa.select(Post.id, Post.title, Member.name, Member.id, Post.expires_at)
        .select_from(Post)
        .join(Member, Member.id == Post.owner_id)
        .where(*_expiring_filter(community_id, at))
        .order_by(Post.expires_at, Post.id)
        .limit(ITEMS_SHOWN)
    )
    return [
        Item(f"post:{i}", f"{title} · {name}", expires, url_for("coordinate.member", member_id=owner))
        for i, title, name, owner, expires in rows
    ]


# Mail the server refused for good, or keeps refusing


def _mail_filter(community_id, at):
    return [
        OutboxMessage.member_id == Member.id,
        Member.community_id == community_id,
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.created_at >= at.mail_since,
        sa.or_(OutboxMessage.failed_at.is_not(None), OutboxMessage.attempts >= 3),
    ]


def _mail_items(community_id, at):
    rows = db.session.execute(
        sa.select(OutboxMessage.id, Member.name, Member.id, OutboxMessage.created_at)
        .select_from(OutboxMessage)
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(*_mail_filter(community_id, at))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(ITEMS_SHOWN)
    )
    return [
        Item(f"mail:{i}", name, since, url_for("coordinate.member", member_id=member_id))
        for i, name, member_id, since in rows
    ]


# Members who asked for help because an exchange did not fit between two balances. Each
# coordinator got a notification of the request; the desk shows each member once. An ask is
# answered once a coordinator gave the member hours from the fund (the member was told of the
# grant) or changed their limits after it.

_GRANT = aliased(Notification)


def _room_filter(community_id, at):
    return [
        Notification.kind == "room_help",
        Notification.created_at >= at.room_since,
        Member.id == Notification.actor_id,
        Member.community_id == community_id,
        Member.status == "active",
        ~sa.exists().where(
            _GRANT.member_id == Member.id, _GRANT.kind == "grant", _GRANT.created_at >= Notification.created_at
        ),
        ~sa.exists().where(
            AuditEvent.on_behalf_of_id == Member.id,
            AuditEvent.action == "ledger.limits_changed",
            AuditEvent.created_at >= Notification.created_at,
        ),
    ]


def _room_items(community_id, at):
    """The members who asked longest ago first, each with what they last wanted and what fitted."""
    first = sa.func.min(Notification.created_at)
    members = db.session.execute(
        sa.select(Member.id, Member.name, first)
        .select_from(Notification)
        .join(Member, Member.id == Notification.actor_id)
        .where(*_room_filter(community_id, at))
        .group_by(Member.id, Member.name)
        .order_by(first, Member.id)
        .limit(ITEMS_SHOWN)
    ).all()
    newest: dict[int, dict] = {}
    for member_id, details in db.session.execute(
        sa.select(Notification.actor_id, Notification.details)
        .where(
            Notification.kind == "room_help",
            Notification.created_at >= at.room_since,
            Notification.actor_id.in_([row[0] for row in members]),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ):
        newest.setdefault(member_id, details or {})
    items = []
    for member_id, name, since in members:
        details = newest.get(member_id, {})
        wanted = _(
            "%(title)s: asks for %(time)s, room for %(fits)s",
            title=details.get("title", ""),
            time=format_minutes(details.get("minutes") or 0),
            fits=format_minutes(details.get("fits") or 0),
        )
        items.append(
            Item(f"member:{member_id}", f"{name} · {wanted}", since, url_for("coordinate.member", member_id=member_id))
        )
    return items


# Members who asked to be erased


def _erasure_filter(community_id):
    return [Member.community_id == community_id, Member.erasure_requested_at.is_not(None), Member.status != "erased"]


def _totals(model_count, oldest, conditions):
    return sa.select(sa.func.count(sa.distinct(model_count)), sa.func.min(oldest)).where(*conditions)


KINDS: dict[str, Kind] = {
    "join": Kind(
        _l("Requests to join"),
        _l("People who confirmed their email address and wait for an answer."),
        _l("Answer them"),
        lambda: url_for("coordinate.requests"),
        lambda c, at: _totals(JoinRequest.id, JoinRequest.submitted_at, _join_filter(c)),
        _join_items,
        lambda c, i: _scalar_exists(sa.select(JoinRequest.id).where(JoinRequest.id == i, *_join_filter(c))),
    ),
    "dispute": Kind(
        _l("Disputes and requests for help"),
        _l("Exchanges in which members ask a coordinator to decide."),
        _l("Decide"),
        lambda: url_for("exchanges.coordinate"),
        lambda c, at: _totals(Exchange.id, Exchange.updated_at, _dispute_filter(c)),
        lambda c, at: _exchange_items(_dispute_filter(c)),
        _exchange_exists(_dispute_filter),
    ),
    "report": Kind(
        _l("Reported content"),
        _l("Posts, messages, profiles and notes members reported."),
        _l("Look at them"),
        lambda: url_for("moderation.cases"),
        lambda c, at: _totals(ModerationCase.id, ModerationCase.opened_at, _report_filter(c)),
        _report_items,
        lambda c, i: _scalar_exists(sa.select(ModerationCase.id).where(ModerationCase.id == i, *_report_filter(c))),
    ),
    "assisted": Kind(
        _l("Exchanges waiting on a member you help"),
        _l("A member without phone or computer has to answer or confirm: call them, then act for them."),
        _l("Open the exchange"),
        lambda: url_for("coordinate.members"),
        lambda c, at: _totals(Exchange.id, Exchange.updated_at, _assisted_filter(c)),
        _assisted_items,
        _exchange_exists(_assisted_filter),
    ),
    "stuck": Kind(
        _l("Exchanges without news for 3 weeks"),
        _l(
            "Agreed, but nobody recorded the time or wrote anything since: ask both neighbours whether it "
            "took place, or needs help."
        ),
        _l("See the exchanges"),
        lambda: url_for("exchanges.coordinate"),
        lambda c, at: _totals(Exchange.id, Exchange.updated_at, _stuck_filter(c, at)),
        lambda c, at: _exchange_items(_stuck_filter(c, at)),
        _exchange_exists(lambda c: _stuck_filter(c, Moments.of())),
    ),
    "slip": Kind(
        _l("Paper slips"),
        _l("Slips you entered that wait for the member to confirm them. Enter new slips here too."),
        _l("Enter a paper slip"),
        lambda: url_for("exchanges.slip"),
        lambda c, at: _totals(Exchange.id, Exchange.created_at, _slip_filter(c)),
        lambda c, at: _exchange_items(_slip_filter(c), Exchange.created_at),
        _exchange_exists(_slip_filter),
    ),
    "limits": Kind(
        _l("At or near their limit"),
        _l("Members who can hardly pay or receive hours any more: help them find an exchange."),
        _l("See the members"),
        lambda: url_for("coordinate.members"),
        lambda c, at: (
            sa.select(sa.func.count(Account.id), sa.null())
            .select_from(Account)
            .join(Community, Community.id == Account.community_id)
            .join(Member, Member.id == Account.member_id)
            .where(*_limits_filter(c))
        ),
        _limits_items,
        lambda c, i: _scalar_exists(
            sa.select(Account.id)
            .select_from(Account)
            .join(Community, Community.id == Account.community_id)
            .join(Member, Member.id == Account.member_id)
            .where(Member.id == i, *_limits_filter(c))
        ),
    ),
    "dormant": Kind(
        _l("Quiet for 90 days"),
        _l("Members without an exchange or a post for 90 days: a friendly call, not a sanction."),
        _l("See the members"),
        lambda: url_for("coordinate.members"),
        lambda c, at: sa.select(sa.func.count(Member.id), sa.null()).where(*_dormant_filter(c, at)),
        lambda c, at: _member_items(sa.select(Member.id).where(*_dormant_filter(c, at))),
        lambda c, i: _scalar_exists(sa.select(Member.id).where(Member.id == i, *_dormant_filter(c, Moments.of()))),
    ),
    "expiring": Kind(
        _l("Posts about to expire, of members without email"),
        _l("They get no reminder: renew the post for them if they still need it."),
        _l("Act for them"),
        lambda: url_for("coordinate.members"),
        lambda c, at: (
            sa.select(sa.func.count(Post.id), sa.func.min(Post.expires_at))
            .select_from(Post)
            .join(Member, Member.id == Post.owner_id)
            .where(*_expiring_filter(c, at))
        ),
        _expiring_items,
        lambda c, i: _scalar_exists(
            sa.select(Post.id)
            .select_from(Post)
            .join(Member, Member.id == Post.owner_id)
            .where(Post.id == i, *_expiring_filter(c, Moments.of()))
        ),
    ),
    "mail": Kind(
        _l("Email that could not be sent"),
        _l("The member missed news by email: check the address, or tell them by phone."),
        _l("See the member"),
        lambda: url_for("coordinate.members"),
        lambda c, at: (
            sa.select(sa.func.count(OutboxMessage.id), sa.func.min(OutboxMessage.created_at))
            .select_from(OutboxMessage)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(*_mail_filter(c, at))
        ),
        _mail_items,
        lambda c, i: _scalar_exists(
            sa.select(OutboxMessage.id)
            .select_from(OutboxMessage)
            .join(Member, Member.id == OutboxMessage.member_id)
            .where(OutboxMessage.id == i, *_mail_filter(c, Moments.of()))
        ),
    ),
    "room": Kind(
        _l("Asked for room for an exchange"),
        _l(
            "They want to exchange more time than fits between the two balances: look at their balance, "
            "give hours from the community fund or change their limits, and tell them. Either ends the ask here."
        ),
        _l("See the member"),
        lambda: url_for("coordinate.members"),
        lambda c, at: (
            sa.select(sa.func.count(sa.distinct(Notification.actor_id)), sa.func.min(Notification.created_at))
            .select_from(Notification)
            .join(Member, Member.id == Notification.actor_id)
            .where(*_room_filter(c, at))
        ),
        _room_items,
        lambda c, i: _scalar_exists(
            sa.select(Notification.id)
            .select_from(Notification)
            .join(Member, Member.id == Notification.actor_id)
            .where(Member.id == i, *_room_filter(c, Moments.of()))
        ),
    ),
    "erasure": Kind(
        _l("Asked to be erased"),
        _l("Settle their hours and erase the account."),
        _l("Erase"),
        lambda: url_for("coordinate.members", status="active"),
        lambda c, at: sa.select(sa.func.count(Member.id), sa.func.min(Member.erasure_requested_at)).where(
            *_erasure_filter(c)
        ),
        lambda c, at: _member_items(
            sa.select(Member.id).where(*_erasure_filter(c)), Member.erasure_requested_at, [Member.erasure_requested_at]
        ),
        lambda c, i: _scalar_exists(sa.select(Member.id).where(Member.id == i, *_erasure_filter(c))),
    ),
}
# Item keys name their table, not their kind: a member can be near the limit and quiet at once.
KEY_PREFIXES = {
    "join": ("join",),
    "exchange": ("dispute", "assisted", "stuck", "slip"),
    "report": ("report",),
    "member": ("limits", "dormant", "room", "erasure"),
    "post": ("expiring",),
    "mail": ("mail",),
}


def waiting(community_id: int, now: datetime | None = None, with_items: bool = True) -> list[Task]:
    """Every kind of task with its count and oldest item; the empty ones too, so the desk says so."""
    at = Moments.of(now)
    parameters = {"community_id": community_id, **asdict(at)}
    found = {row[2]: row[:2] for row in db.session.execute(_every_total(), parameters)}
    tasks = []
    for place, (kind, spec) in enumerate(KINDS.items()):
        count, since = found[place]
        task = Task(kind, str(spec.title), str(spec.explanation), str(spec.action), spec.url(), count or 0, since)
        if with_items and task.count:
            task.items = spec.items(community_id, at)
        tasks.append(task)
    return tasks


@cache
def _every_total() -> sa.CompoundSelect:
    """Every kind's count and oldest in one round trip, each kind's query numbered by its place."""
    community, at = sa.bindparam("community_id"), Moments.bound()
    return sa.union_all(
        *(
            spec.totals(community, at).add_columns(sa.literal_column(str(place)))
            for place, spec in enumerate(KINDS.values())
        )
    )


# Taking up a task


def assignments(community_id: int) -> dict[str, Assignment]:
    return {a.task: a for a in db.session.scalars(sa.select(Assignment).where(Assignment.community_id == community_id))}


def _check_task(community_id: int, task: str) -> None:
    prefix, _, number = task.partition(":")
    kinds = KEY_PREFIXES.get(prefix, ())
    if not number.isdigit() or len(number) > 10 or not any(KINDS[k].exists(community_id, int(number)) for k in kinds):
        raise DeskError(_l("This task is not waiting any more."))


def take(coordinator: Member, task: str) -> Assignment:
    """ "I'll call her": the task is the coordinator's; the others see who took it."""
    if not can_coordinate(coordinator, coordinator.community_id):
        raise DeskError(_l("Only coordinators take up tasks."))
    _check_task(coordinator.community_id, task)
    existing = db.session.scalar(
        sa.select(Assignment).where(Assignment.community_id == coordinator.community_id, Assignment.task == task)
    )
    if existing is not None:
        if existing.coordinator_id != coordinator.id:
            raise DeskError(_l("%(name)s took this up already.", name=existing.coordinator.name))
        return existing
    assignment = Assignment(community_id=coordinator.community_id, task=task, coordinator_id=coordinator.id)
    db.session.add(assignment)
    db.session.flush()
    record("desk.taken", actor=coordinator, task=task)
    return assignment


def release(coordinator: Member, task: str) -> None:
    existing = db.session.scalar(
        sa.select(Assignment).where(Assignment.community_id == coordinator.community_id, Assignment.task == task)
    )
    if existing is None:
        return
    if existing.coordinator_id != coordinator.id:
        raise DeskError(_l("%(name)s took this up; only they can leave it.", name=existing.coordinator.name))
    db.session.delete(existing)
    db.session.flush()
    record("desk.released", actor=coordinator, task=task)


def forget_finished_tasks() -> int:
    """Let go of tasks that no longer wait (the request was answered, the dispute decided), so a
    task that comes back later is nobody's until someone takes it up again."""
    finished = 0
    for assignment in db.session.scalars(sa.select(Assignment)).all():
        try:
            _check_task(assignment.community_id, assignment.task)
        except DeskError:
            db.session.delete(assignment)
            finished += 1
    db.session.flush()
    return finished


# Notes on members


def add_note(member: Member, *, author: Member, text: str) -> MemberNote:
    """A short internal note; the member finds it in their data export."""
    if not can_coordinate(author, member.community_id):
        raise DeskError(_l("Only coordinators of the member's neighbourhood keep notes."))
    text = (text or "").strip()
    if not text:
        raise DeskError(_l("Please write the note."), "text")
    if len(text) > NOTE_MAX:
        raise DeskError(_l("Please use at most %(num)d characters.", num=NOTE_MAX), "text")
    note = MemberNote(member_id=member.id, author_id=author.id, text=text)
    db.session.add(note)
    db.session.flush()
    record("desk.note_added", actor=author, subject=member)
    return note


def notes_about(member: Member) -> list[MemberNote]:
    return list(
        db.session.scalars(
            sa.select(MemberNote).where(MemberNote.member_id == member.id).order_by(MemberNote.id.desc())
        )
    )


def export_notes(member: Member) -> list[dict]:
    return [
        {"at": note.created_at, "by": note.author.name if note.author else None, "note": note.text}
        for note in notes_about(member)
    ]


def forget_desk(member: Member, _actor: Member) -> None:
    """Erasure: notes about the member go; tasks they took up are free for others again."""
    db.session.execute(sa.delete(MemberNote).where(MemberNote.member_id == member.id))
    db.session.execute(sa.delete(Assignment).where(Assignment.coordinator_id == member.id))


# The weekly summary


def wants_summary(coordinator: Member) -> bool:
    choice = db.session.get(EmailChoice, (coordinator.id, SUMMARY_EVENT))
    return choice is None or choice.choice != "off"


def set_summary(coordinator: Member, wanted: bool) -> None:
    choice = db.session.get(EmailChoice, (coordinator.id, SUMMARY_EVENT))
    if wanted and choice is not None:
        db.session.delete(choice)
    elif not wanted and choice is None:
        db.session.add(EmailChoice(member_id=coordinator.id, event=SUMMARY_EVENT, choice="off"))
    db.session.flush()


def week_start(now: datetime) -> datetime:
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def queue_summaries(now: datetime | None = None) -> int:
    """One summary per coordinator per week (Monday to Sunday, UTC), for those who did not opt out
    and have an email address; running it again in the same week sends nothing twice."""
    now = now or utcnow()
    sent = 0
    coordinators = db.session.scalars(
        sa.select(Member)
        .where(Member.role == "coordinator", Member.status == "active", Member.email.is_not(None))
        .order_by(Member.community_id, Member.id)
    ).all()
    by_community: dict[int, list[Task]] = {}
    for coordinator in coordinators:
        if not wants_summary(coordinator) or _summary_sent(coordinator, now):
            continue
        if coordinator.community_id not in by_community:
            by_community[coordinator.community_id] = waiting(coordinator.community_id, now, with_items=False)
        tasks = [task for task in by_community[coordinator.community_id] if task.count]
        queue_mail(coordinator, "desk_weekly", tasks=tasks, kinds=KINDS, community=coordinator.community)
        sent += 1
    return sent


def _summary_sent(coordinator: Member, now: datetime) -> bool:
    return _scalar_exists(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.member_id == coordinator.id,
            OutboxMessage.kind == "desk_weekly",
            OutboxMessage.created_at >= week_start(now),
        )
    )
