"""Telling members what happened: `notify` writes the in-app notification and, for members who
want email about that kind of event right away, queues it in the same transaction.
`queue_digests` sends the daily summaries. Services flush; the caller commits."""

from datetime import timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from timebank.db import take_write_lock, utcnow
from timebank.errors import DomainError
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.mail.services import outbox_message, queue_mail, queue_messages
from timebank.members.models import Member
from timebank.moderation.wording import ITEM_LABELS, TOLD_AUTHOR, TOLD_REPORTER
from timebank.notifications.models import EmailChoice, Notification

EMAIL_CHOICES = ("immediately", "daily", "off")
# The events a member chooses email for, each a few notification kinds. `notify` refuses a kind
# that is missing here, so a new kind cannot slip past the member's choices.
EMAIL_EVENTS = {
    "proposals": ("proposed", "group_invited"),
    "answers": ("accepted", "declined", "cancelled", "expired", "group_answered"),
    "recorded": ("recorded", "offered", "slip_confirm"),
    "settled": ("completed", "slip"),
    "disputes": ("disputed", "help", "room_help", "resolved"),
    "messages": ("message",),
    "thanks": ("thanked",),
    "limits": ("limit",),
    "gifts": ("gift", "grant"),
    "decisions": ("decision",),
    "reports": ("report_decided", "content_decided"),
}
EVENT_OF_KIND = {kind: event for event, kinds in EMAIL_EVENTS.items() for kind in kinds}
# An event without a choice of its own follows the member's overall choice.
AS_DEFAULT = "default"
# "Once a day": a little under a day, so a daily job that runs a bit early still sends.
DIGEST_INTERVAL = timedelta(hours=20)
DIGEST_MAX = 30


def notify(
    member: Member, kind: str, *, actor: Member | None = None, exchange: Exchange | None = None, **details
) -> Notification:
    """Tell `member` about an event: a row in their list, and an email now if they chose that."""
    event = EVENT_OF_KIND[kind]
    notification = Notification(
        member_id=member.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        exchange_id=exchange.id if exchange else None,
        details=details,
    )
    db.session.add(notification)
    db.session.flush()
    if _emails_now(member, event):
        queue_mail(member, "notification", kind=f"notify_{kind}", notification=notification)
        notification.emailed_at = utcnow()
        db.session.flush()
    return notification


def notify_many(members: list[Member], kind: str, **details) -> None:
    """`notify` for a whole community at once (a decision): the same rows and emails, with one
    query for the members' choices and one flush, so the transaction (on SQLite, the database's
    write lock) lasts seconds less per thousand members."""
    event = EVENT_OF_KIND[kind]
    # By community, not by a list of ids: a community of 40,000 would pass SQLite's limit of parameters.
    own = dict(
        db.session.execute(
            sa.select(EmailChoice.member_id, EmailChoice.choice)
            .join(Member, Member.id == EmailChoice.member_id)
            .where(EmailChoice.event == event, Member.community_id.in_({member.community_id for member in members}))
        ).all()
    )
    now, messages = utcnow(), []
    for member in members:
        notification = Notification(member_id=member.id, kind=kind, details=details)
        db.session.add(notification)
        if _emails_now(member, event, own):
            notification.emailed_at = now
            messages.append(outbox_message(member, "notification", kind=f"notify_{kind}", notification=notification))
    queue_messages(messages)


def _emails_now(member: Member, event: str, choices: dict[int, str] | None = None) -> bool:
    """Whether the member gets an email right away: active, with an address, and that is their choice
    for this event (`choices`: everyone's own choices, read beforehand by `notify_many`)."""
    if member.status != "active" or not member.email:
        return False
    if choices is None:
        own = db.session.get(EmailChoice, (member.id, event))
        choices = {member.id: own.choice} if own else {}
    return choices.get(member.id, member.notify_email) == "immediately"


def describe(notification: Notification) -> str:
    """What happened, in one sentence in the reader's language."""
    details = notification.details or {}
    exchange = notification.exchange
    values = dict(
        name=notification.actor.name if notification.actor else _("The time bank"),
        title=exchange.title if exchange else details.get("title", ""),
        time=format_minutes(details.get("minutes")),
    )
    kind = notification.kind
    if kind == "limit":
        values.update(owner=details.get("owner", ""), balance=format_minutes(details.get("balance")))
        if details.get("reason") == "low":
            return _("Your balance is low now: %(balance)s. Helping a neighbour brings it up again.", **values)
        return _("“%(title)s” could not be settled: %(owner)s reached the limit of their balance.", **values)
    if kind == "completed":
        if details.get("direction") == "in":
            return _("“%(title)s” is settled: you received %(time)s.", **values)
        return _("“%(title)s” is settled: %(time)s went from your balance.", **values)
    if kind == "recorded" and details.get("waits"):
        return _(
            "%(name)s says “%(title)s” took %(time)s, more than agreed. Please confirm: the hours move only "
            "when you do.",
            **values,
        )
    if kind == "offered":
        values["recorded"] = format_minutes(details.get("recorded"))
        return _(
            "%(name)s confirmed %(time)s for “%(title)s” instead of the %(recorded)s you recorded. Agree, or "
            "ask a coordinator.",
            **values,
        )
    if kind == "decision":
        return _(
            "The votes on “%(title)s” are counted: %(result)s",
            title=values["title"],
            result=decision_words(details.get("result")),
        )
    if kind in ("report_decided", "content_decided"):
        return moderation_words(kind, details)
    if kind == "room_help":
        return _(
            "%(name)s would like to exchange %(time)s for “%(title)s”, but only %(fits)s fits between the "
            "balances now. They ask a coordinator for help.",
            fits=format_minutes(details.get("fits")),
            **values,
        )
    if kind == "resolved":
        if details.get("outcome") == "cancelled":
            return _("A coordinator decided about “%(title)s”: it is cancelled, nothing is paid.", **values)
        return _("A coordinator decided about “%(title)s”: it is settled with %(time)s.", **values)
    sentences = {
        "proposed": _l("%(name)s proposes an exchange: “%(title)s”, %(time)s. Please accept or decline."),
        "accepted": _l("%(name)s accepted “%(title)s”."),
        "declined": _l("%(name)s declined “%(title)s”."),
        "cancelled": _l("%(name)s cancelled “%(title)s”."),
        "expired": _l("Nobody answered “%(title)s” in time, so the proposal ended. No hours moved."),
        "recorded": _l("%(name)s says “%(title)s” took %(time)s. Please confirm."),
        "disputed": _l("%(name)s asked a coordinator to help with “%(title)s”."),
        "help": _l("%(name)s asks a coordinator for help to settle “%(title)s”."),
        "message": _l("%(name)s wrote about “%(title)s”."),
        "thanked": _l("%(name)s thanked you for “%(title)s”."),
        "group_invited": _l("%(name)s added you to “%(title)s” (%(time)s each). Please confirm your part."),
        "group_answered": _l("%(name)s answered about “%(title)s”."),
        "gift": _l("%(name)s gave you %(time)s."),
        "grant": _l("You received %(time)s from the community fund."),
        "slip": _l("%(name)s recorded “%(title)s” for you from a paper slip: %(time)s."),
        "slip_confirm": _l(
            "%(name)s recorded “%(title)s” from a paper slip: %(time)s from your balance. Please "
            "confirm it; nothing moves until you do."
        ),
    }
    return str(sentences.get(kind, kind)) % values


def moderation_words(kind: str, details: dict) -> str:
    """What coordinators decided about something reported: for the reporter, or for its author
    (with the coordinator's reason)."""
    item = str(ITEM_LABELS.get(details.get("item"), ""))
    if kind == "report_decided":
        return _(
            "About %(item)s you reported: %(told)s", item=item, told=str(TOLD_REPORTER.get(details.get("decision"), ""))
        )
    words = _("About %(item)s of yours: %(told)s", item=item, told=str(TOLD_AUTHOR.get(details.get("decision"), "")))
    return f"{words} {_('Reason:')} {details['reason']}" if details.get("reason") else words


def decision_words(result: str | None) -> str:
    """What a proposal's result means, in one short sentence."""
    return str(
        {
            "adopted": _l("the proposal is adopted."),
            "rejected": _l("the proposal is not adopted."),
            "tie": _l("the votes are tied, so nothing is decided."),
            "no_quorum": _l("too few members voted, so nothing is decided."),
            "chosen": _l("one of the choices won."),
        }.get(result, result or "")
    )


def link(notification: Notification, external: bool = False) -> str:
    """Where the notification leads: its exchange, else the member's account."""
    if notification.exchange_id:
        return url_for("exchanges.detail", exchange_id=notification.exchange_id, _external=external)
    if notification.kind in ("report_decided", "content_decided"):
        return url_for("moderation.mine", _external=external)
    if notification.kind == "room_help" and notification.actor_id:  # their balance, limits and a grant
        return url_for("coordinate.member", member_id=notification.actor_id, _external=external)
    if notification.kind == "decision" and "proposal_id" in (notification.details or {}):
        return url_for("governance.detail", proposal_id=notification.details["proposal_id"], _external=external)
    return url_for("ledger.mine", _external=external)


# Built once: the menu shows this count on every page.
_UNREAD = sa.select(sa.func.count(Notification.id)).where(
    Notification.member_id == sa.bindparam("member_id"), Notification.read_at.is_(None)
)


def unread_count(member: Member) -> int:
    return db.session.connection().execute(_UNREAD, {"member_id": member.id}).scalar_one()


def recent(member: Member, *, before: int | None = None, limit: int = 30) -> list[Notification]:
    """The newest notifications with their actor and exchange; not the exchanges' participants,
    which the list never shows (loading them was two fifths of the page)."""
    query = (
        sa.select(Notification)
        .where(Notification.member_id == member.id)
        .options(joinedload(Notification.exchange).lazyload(Exchange.participants))
    )
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(member: Member, *, notification_id: int | None = None, exchange_id: int | None = None) -> int:
    """Mark one notification, those about one exchange, or all of them as read; returns how many."""
    conditions = [Notification.member_id == member.id, Notification.read_at.is_(None)]
    if notification_id is not None:
        conditions.append(Notification.id == notification_id)
    if exchange_id is not None:
        conditions.append(Notification.exchange_id == exchange_id)
    result = db.session.execute(
        sa.update(Notification).where(*conditions).values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def has_unread(member: Member, *, exchange_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(Notification.id)
            .where(
                Notification.member_id == member.id,
                Notification.exchange_id == exchange_id,
                Notification.read_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def read_now(member: Member, **which) -> None:
    """Mark as read from a page view (a GET): in its own short write transaction, started afresh
    so that SQLite never has to turn the page's read into a write."""
    member_id = member.id
    db.session.commit()
    take_write_lock(db.session)
    mark_read(db.session.get(Member, member_id), **which)
    db.session.commit()


class NotificationError(DomainError):
    """A notification setting was refused."""


def email_choices(member: Member) -> dict[str, str]:
    """The member's choice for each event: their own, or AS_DEFAULT."""
    own = dict(
        db.session.execute(
            sa.select(EmailChoice.event, EmailChoice.choice).where(EmailChoice.member_id == member.id)
        ).all()
    )
    return {event: own.get(event, AS_DEFAULT) for event in EMAIL_EVENTS}


def set_email_choice(member: Member, choice: str, events: dict[str, str] | None = None) -> Member:
    """Set the overall choice and, for the events given, a choice of their own or AS_DEFAULT.
    Everything is checked before anything changes."""
    events = events or {}
    if choice not in EMAIL_CHOICES:
        raise NotificationError(_l("Please choose one of the options."), "email")
    for event, event_choice in events.items():
        if event not in EMAIL_EVENTS:
            raise NotificationError(_l("There is no such kind of event to choose emails for."), "email")
        if event_choice not in (*EMAIL_CHOICES, AS_DEFAULT):
            raise NotificationError(_l("Please choose one of the options."), event)
    take_write_lock(db.session)
    member.notify_email = choice
    own = {
        row.event: row for row in db.session.scalars(sa.select(EmailChoice).where(EmailChoice.member_id == member.id))
    }
    for event, event_choice in events.items():
        if event_choice == AS_DEFAULT:
            if event in own:
                db.session.delete(own[event])
        elif event in own:
            own[event].choice = event_choice
        else:
            db.session.add(EmailChoice(member_id=member.id, event=event, choice=event_choice))
    db.session.flush()
    return member


def _for_digest(now):
    """Notifications not read or mailed yet, whose member wants them in the daily summary and
    had no summary in the last day."""
    event = sa.case(EVENT_OF_KIND, value=Notification.kind)
    return (
        sa.select(Notification)
        .join(Member, Member.id == Notification.member_id)
        .outerjoin(EmailChoice, sa.and_(EmailChoice.member_id == Notification.member_id, EmailChoice.event == event))
        .where(
            sa.func.coalesce(EmailChoice.choice, Member.notify_email) == "daily",
            Member.status == "active",
            Member.email.is_not(None),
            sa.or_(Member.notify_digest_sent_at.is_(None), Member.notify_digest_sent_at <= now - DIGEST_INTERVAL),
            Notification.read_at.is_(None),
            Notification.emailed_at.is_(None),
        )
    )


def queue_digests(now=None) -> int:
    """One email per member who wants a daily summary of some events, with those they have not
    read or been mailed yet. Each notification is mailed once, and a member gets at most one
    summary a day, so running this twice sends nothing twice. Returns how many were queued."""
    now = now or utcnow()
    waiting = _for_digest(now)
    member_ids = db.session.scalars(waiting.with_only_columns(Notification.member_id).distinct()).all()
    for member_id in member_ids:
        member = db.session.get(Member, member_id)
        items = list(db.session.scalars(waiting.where(Notification.member_id == member_id).order_by(Notification.id)))
        queue_mail(member, "notifications_digest", notifications=items[-DIGEST_MAX:], total=len(items))
        for item in items:
            item.emailed_at = now
        member.notify_digest_sent_at = now
    db.session.flush()
    return len(member_ids)


def export_notifications(member: Member) -> list[dict]:
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.member_id == member.id).order_by(Notification.id)
    )
    return [
        {
            "created_at": n.created_at,
            "kind": n.kind,
            "text": describe(n),
            "exchange_id": n.exchange_id,
            "read_at": n.read_at,
            "emailed_at": n.emailed_at,
        }
        for n in rows
    ]


def export_email_choices(member: Member) -> dict:
    return {
        "email": member.notify_email,
        **{f"email_{event}": choice for event, choice in email_choices(member).items()},
    }


def forget_notifications(member: Member, _actor: Member) -> None:
    """Nobody will read an erased member's notifications again."""
    db.session.execute(sa.delete(Notification).where(Notification.member_id == member.id))
    db.session.execute(sa.delete(EmailChoice).where(EmailChoice.member_id == member.id))
