"""Coordinators' decisions about members: pausing, letting back in, appointing coordinators."""

from flask import url_for
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.members.joining import pending_join_request
from timebank.members.models import Member
from timebank.members.rules import REASON_MAX, MemberError, NotAllowed
from timebank.members.sessions import end_all_sessions
from timebank.permissions import can_administer, can_manage_member
from timebank.text import clean_text


def _require_power_over(actor: Member, member: Member) -> None:
    if not can_manage_member(actor, member):
        if member.role == "coordinator" or member.is_admin:
            raise NotAllowed(
                _l("%(name)s is a coordinator or administrator: only an administrator can do this.", name=member.name)
            )
        raise NotAllowed(_l("Only another coordinator of this neighbourhood can do this."))


def suspend_member(member: Member, *, actor: Member, reason: str) -> Member:
    """Pause a membership: the member is logged out everywhere and told why."""
    _require_power_over(actor, member)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    if not reason:
        raise MemberError(_l("Please write down why. The member will see it."), "reason")
    if member.status != "active":
        raise MemberError(_l("Only active members can be paused."))
    member.status = "suspended"
    end_all_sessions(member)
    record("member.suspended", actor=actor, subject=member, reason=reason)
    queue_mail(member, "suspended", reason=reason, community=member.community)
    return member


def reactivate_member(member: Member, *, actor: Member, reason: str = "") -> Member:
    _require_power_over(actor, member)
    reason = clean_text(reason, REASON_MAX, "reason", refusal=MemberError)
    if member.status != "suspended":
        raise MemberError(_l("Only paused members can be let back in."))
    member.status = "active"
    db.session.flush()
    record("member.reactivated", actor=actor, subject=member, reason=reason)
    queue_mail(
        member, "reactivated", reason=reason, community=member.community, link=url_for("members.login", _external=True)
    )
    return member


def set_coordinator(member: Member, *, actor: Member, coordinator: bool) -> Member:
    """The administrator appoints or removes a coordinator. Appointing someone who is still
    waiting to join (with a confirmed address) lets them in: a new community has nobody else."""
    if not can_administer(actor):
        raise NotAllowed(_l("Only an administrator can appoint coordinators."))
    if coordinator:
        if member.status == "pending" and member.email_confirmed_at is not None:
            member.status = "active"
            request = pending_join_request(member)
            if request is not None and request.state in ("unconfirmed", "waiting"):
                request.state, request.decided_at, request.decided_by_id = "approved", utcnow(), actor.id
        if member.status != "active" or member.assisted:
            raise MemberError(_l("Only active members who can log in can become coordinators."), "email")
    member.role = "coordinator" if coordinator else "member"
    db.session.flush()
    record(
        "member.coordinator_appointed" if coordinator else "member.coordinator_removed",
        actor=actor,
        subject=member,
        community_id=member.community_id,
    )
    queue_mail(member, "coordinator_appointed" if coordinator else "coordinator_removed", community=member.community)
    return member
