"""The end of a membership (GDPR art. 17): asking to be erased, and erasing."""

from collections.abc import Callable

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import utcnow
from timebank.extensions import db
from timebank.i18n import in_installation_language
from timebank.mail.models import OutboxMessage
from timebank.mail.services import queue_mail
from timebank.members.decisions import _require_power_over
from timebank.members.models import JoinRequest, Member, MemberToken
from timebank.members.rules import REASON_MAX, MemberError, _tell_coordinators
from timebank.members.sessions import end_all_sessions
from timebank.text import clean_text
from timebank.uploads.services import delete_image


def request_erasure(member: Member) -> None:
    """The member asks to be erased; their coordinators get an email and carry it out."""
    if member.erasure_requested_at is not None:
        return
    member.erasure_requested_at = utcnow()
    db.session.flush()
    record("member.erasure_requested", actor=member, subject=member)
    queue_mail(member, "erasure_received", community=member.community)
    _tell_coordinators(
        member.community_id,
        "erasure_requested",
        member_to_erase=member,
        link=url_for("coordinate.member", member_id=member.id, _external=True),
    )


# What an erased member leaves in other domains (open exchanges, posts, notifications) is let go
# by a hook of each domain, `fn(member, actor)`, listed in timebank/registry.py; they run before
# the profile is wiped.
ERASERS: dict[str, Callable[[Member, Member], None]] = {}


def register_eraser(name: str, eraser: Callable[[Member, Member], None]) -> None:
    """Add a step to every erasure; registering a name again replaces it."""
    ERASERS[name] = eraser


def erase_member(member: Member, *, actor: Member, reason: str = "") -> Member:
    """Delete a member's contact data and profile; the name becomes "former member #N".

    The member's place in the ledger and the audit log stays (by id), so the books still add up;
    what they wrote to others (messages, thank-you notes) stays under the new name. Settling a
    non-zero balance to the community fund is the caller's step, before this one."""
    _require_power_over(actor, member)
    if member.status == "erased":
        raise MemberError(_l("This member has been erased already."))
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    for eraser in ERASERS.values():
        eraser(member, actor)
    photo = member.photo
    member.name = in_installation_language(_l("Former member #%(number)d", number=member.id))
    member.email = member.email_confirmed_at = member.password_hash = member.phone = None
    member.bio, member.area_id, member.skills, member.languages = "", None, [], []
    member.locale, member.photo, member.erasure_requested_at = None, None, None
    member.show_email_to = member.show_phone_to = member.show_balance_to = "coordinators"
    member.role, member.is_admin, member.status = "member", False, "erased"
    end_all_sessions(member)
    if photo is not None:
        delete_image(photo)
    db.session.execute(sa.delete(MemberToken).where(MemberToken.member_id == member.id))
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.member_id == member.id))
    # Their words when they asked to join (why, the answer to the join question) and the reason
    # they were told go; the request stays, so the record of who joined when still adds up.
    db.session.execute(
        sa.update(JoinRequest).where(JoinRequest.member_id == member.id).values(motivation="", answer="", reason="")
    )
    record("member.erased", actor=actor, subject=member, reason=reason)
    return member
