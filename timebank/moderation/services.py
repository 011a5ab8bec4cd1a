"""Members report content, coordinators decide (services flush; the caller commits).

A report joins the one case of its item, so repeated reports are read together. A coordinator
hides or restores the content, warns its author or pauses them, or finds nothing wrong, always
with a reason the author reads in plain words; the author may reply once to each decision. Hidden
content stays (for the audit) but is shown to nobody but its author and the coordinators: the
places that list content ask `hidden()`. Posts are hidden the market's way (a coordinator closes
them), so they leave every list that already leaves out closed posts."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import utcnow
from timebank.errors import DomainError
from timebank.exchanges.models import Exchange, Message, ThankYou
from timebank.exchanges.services import can_read_thread
from timebank.extensions import db
from timebank.market.models import Post
from timebank.market.services import moderate_post, reinstate_post
from timebank.members.models import Member
from timebank.members.services import suspend_member
from timebank.moderation.models import DECISIONS, ITEM_TYPES, REASONS, ModerationCase, Report
from timebank.notifications.services import notify
from timebank.permissions import can_coordinate, can_see_post, is_member_of, outranks

TEXT_MAX, REASON_MAX, REPLY_MAX = 500, 1000, 1000

AUDIT_LABELS = {
    "moderation.reported": _l("reported content to the coordinators"),
    "moderation.hidden": _l("hid reported content"),
    "moderation.restored": _l("put hidden content back"),
    "moderation.warned": _l("warned the author of reported content"),
    "moderation.suspended": _l("paused the author of reported content"),
    "moderation.dismissed": _l("found nothing wrong with reported content"),
    "moderation.replied": _l("replied to a decision about their content"),
}

DECISION_ACTIONS = {
    "hide": "moderation.hidden",
    "restore": "moderation.restored",
    "warn": "moderation.warned",
    "suspend": "moderation.suspended",
    "dismiss": "moderation.dismissed",
}

REASON_LABELS = {
    "spam": _l("Advertising or spam"),
    "rude": _l("Rude, hurtful or discriminating"),
    "unsafe": _l("Unsafe, or against the law"),
    "private": _l("Shares someone's private details"),
    "other": _l("Something else"),
}
DECISION_LABELS = {
    "hide": _l("Hide it"),
    "restore": _l("Put it back"),
    "warn": _l("Leave it, and warn the author"),
    "suspend": _l("Hide it and pause the author's account"),
    "dismiss": _l("Nothing wrong: leave it as it is"),
}


class ModerationError(DomainError):
    """A report or decision was refused; the message is fit to show."""


class NotYours(ModerationError):
    code, status = "not_found", 404


class NoPower(ModerationError):
    code, status = "forbidden", 403


# What can be reported, and by whom


def find_item(item_type: str, item_id: int):
    """The reported thing, or None."""
    model = {"post": Post, "message": Message, "profile": Member, "thanks": ThankYou}.get(item_type)
    return db.session.get(model, item_id) if model else None


def item_author(item_type: str, item) -> Member:
    return {
        "post": lambda: item.owner,
        "message": lambda: item.author,
        "profile": lambda: item,
        "thanks": lambda: item.author,
    }[item_type]()


def item_community_id(item_type: str, item) -> int:
    if item_type == "message":
        return db.session.get(Exchange, item.exchange_id).community_id
    if item_type == "thanks":
        return item.member.community_id
    return item.community_id


def item_text(item_type: str, item) -> str:
    """What was reported, as the coordinators read it (also once it is hidden)."""
    if item_type == "post":
        return f"{item.title}\n{item.description}".strip()
    if item_type == "message":
        return item.body
    if item_type == "profile":
        return f"{item.name}\n{item.bio}".strip()
    return item.text


def can_report(member: Member, item_type: str, item) -> bool:
    """What the member can see of their own community, and is not their own."""
    if item is None or not is_member_of(member, item_community_id(item_type, item)):
        return False
    author = item_author(item_type, item)
    if author is None or author.id == member.id:
        return False
    if item_type == "post":
        return can_see_post(member, item)
    if item_type == "message":
        return item.event is None and can_read_thread(member, db.session.get(Exchange, item.exchange_id))
    if item_type == "profile":
        return item.status == "active"
    return True


def case_of(item_type: str, item_id: int) -> ModerationCase | None:
    return db.session.scalar(
        sa.select(ModerationCase).where(ModerationCase.item_type == item_type, ModerationCase.item_id == item_id)
    )


def report(reporter: Member, item_type: str, item_id: int, reason: str, text: str = "") -> Report:
    """File a report; it joins the item's case (opening it again if it was decided)."""
    item = find_item(item_type, item_id) if item_type in ITEM_TYPES else None
    if item is None or not can_report(reporter, item_type, item):
        raise NotYours(_l("There is nothing here you can report."))
    if reason not in REASONS:
        raise ModerationError(_l("Please choose a reason from the list."), "reason")
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise ModerationError(_l("Please use at most %(num)d characters.", num=TEXT_MAX), "text")
    if reason == "other" and not text:
        raise ModerationError(_l("Please say in a few words what is wrong."), "text")
    case = case_of(item_type, item_id)
    if case is None:
        case = ModerationCase(
            community_id=item_community_id(item_type, item),
            item_type=item_type,
            item_id=item_id,
            author_id=item_author(item_type, item).id,
        )
        db.session.add(case)
    elif any(r.reporter_id == reporter.id and r.decided_at is None for r in case.reports):
        raise ModerationError(_l("You reported this already. A coordinator will look at it."))
    if case.state != "open":
        case.state, case.opened_at = "open", utcnow()
    filed = Report(case=case, reporter_id=reporter.id, reason=reason, text=text)
    db.session.add(filed)
    db.session.flush()
    record(
        "moderation.reported",
        actor=reporter,
        community_id=case.community_id,
        subject=case,
        item=item_type,
        reason_chosen=reason,
    )
    return filed


# Coordinators decide


def may_decide(actor: Member | None, case: ModerationCase) -> bool:
    """A coordinator of the item's community, over an author below their rank."""
    return can_coordinate(actor, case.community_id) and outranks(actor, case.author)


def open_cases(community_id: int) -> sa.Select:
    """Cases waiting for a coordinator, oldest first, with their authors and reports (the list shows both)."""
    return (
        sa.select(ModerationCase)
        .options(sa.orm.joinedload(ModerationCase.author), sa.orm.selectinload(ModerationCase.reports))
        .where(ModerationCase.community_id == community_id, ModerationCase.state == "open")
        .order_by(ModerationCase.opened_at, ModerationCase.id)
    )


def decide(case: ModerationCase, *, actor: Member, decision: str, reason: str) -> ModerationCase:
    """Carry out a decision, tell the author why and each waiting reporter what was decided."""
    if not can_coordinate(actor, case.community_id):
        raise NotYours(_l("There is nothing here you can report."))
    if not may_decide(actor, case):
        raise NoPower(_l("Content of a coordinator or administrator is for someone of a higher rank to decide."))
    if decision not in DECISIONS:
        raise ModerationError(_l("Please choose what to do."), "decision")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ModerationError(_l("Please use at most %(num)d characters.", num=REASON_MAX), "reason")
    if not reason and decision != "dismiss":
        raise ModerationError(_l("Please write the reason in plain words. The author will read it."), "reason")
    item = find_item(case.item_type, case.item_id)
    if decision == "restore" and not case.is_hidden:
        raise ModerationError(_l("This is not hidden, so there is nothing to put back."), "decision")
    answering = case.reply is not None
    if decision in ("hide", "suspend"):
        _hide(case, item, actor, reason)
    elif decision == "restore":
        _restore(case, item, actor)
    if decision == "suspend" and case.author.status == "active":
        suspend_member(case.author, actor=actor, reason=reason)
    now = utcnow()
    case.state, case.decision, case.reason, case.decided_at, case.decided_by = "decided", decision, reason, now, actor
    case.reply = case.replied_at = None  # a new decision may be answered once again
    record(
        DECISION_ACTIONS[decision],
        actor=actor,
        subject=case.author,
        community_id=case.community_id,
        reason=reason,
        case=case.id,
        item=case.item_type,
        item_id=case.item_id,
    )
    # An author who was never told of a report is not told it is fine; a post's owner hears it the
    # market's way when it is taken out or put back.
    market_tells = case.item_type == "post" and decision in ("hide", "restore", "suspend")
    if (decision != "dismiss" or answering) and not market_tells:
        notify(
            case.author,
            "content_decided",
            item=case.item_type,
            decision="keep" if decision == "dismiss" else decision,
            reason=reason,
        )
    for filed in case.reports:
        if filed.decided_at is None:
            filed.outcome, filed.decided_at = decision, now
            notify(filed.reporter, "report_decided", item=case.item_type, decision=decision)
    db.session.flush()
    return case


def _hide(case: ModerationCase, item, actor: Member, reason: str) -> None:
    if case.item_type == "post" and item.status != "closed":
        moderate_post(item, actor=actor, reason=reason)
    elif case.item_type == "post" and not item.is_moderated:
        # Closed by its owner, it could still be opened by its address: now only they and we can.
        item.closed_by, item.closed_reason = actor, reason
    case.is_hidden = True


def _restore(case: ModerationCase, item, actor: Member) -> None:
    if case.item_type == "post" and item.is_moderated:
        reinstate_post(item, actor=actor)
    case.is_hidden = False


def reply(case: ModerationCase, author: Member, text: str) -> ModerationCase:
    """The author answers a decision, once; the case waits for a coordinator again."""
    if author.id != case.author_id or case.decision is None:
        raise NotYours(_l("There is nothing here you can report."))
    if case.reply is not None:
        raise ModerationError(_l("You replied already. A coordinator reads it."))
    text = (text or "").strip()
    if not text:
        raise ModerationError(_l("Please write your reply."), "text")
    if len(text) > REPLY_MAX:
        raise ModerationError(_l("Please use at most %(num)d characters.", num=REPLY_MAX), "text")
    case.reply, case.replied_at = text, utcnow()
    case.state, case.opened_at = "open", case.replied_at
    db.session.flush()
    record("moderation.replied", actor=author, subject=author, reason=text, case=case.id, item=case.item_type)
    return case


# What a member sees of it


def reports_by(member: Member) -> list[Report]:
    return list(
        db.session.scalars(
            sa.select(Report)
            .options(sa.orm.joinedload(Report.case))
            .where(Report.reporter_id == member.id)
            .order_by(Report.id.desc())
            .limit(100)
        )
    )


def decisions_about(member: Member) -> list[ModerationCase]:
    """Decisions about the member's content (they never learn who reported it)."""
    return list(
        db.session.scalars(
            sa.select(ModerationCase)
            .where(ModerationCase.author_id == member.id, ModerationCase.decision.is_not(None))
            .order_by(ModerationCase.decided_at.desc())
            .limit(100)
        )
    )


def export_moderation(member: Member) -> dict:
    return {
        "reports_made": [
            {"at": r.created_at, "item": r.case.item_type, "reason": r.reason, "text": r.text, "outcome": r.outcome}
            for r in reports_by(member)
        ],
        "decisions_about_my_content": [
            {"at": c.decided_at, "item": c.item_type, "decision": c.decision, "reason": c.reason, "my_reply": c.reply}
            for c in decisions_about(member)
        ],
    }
