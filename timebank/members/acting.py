"""Acting on behalf of an assisted member.

A coordinator can act for a member of their community who has no phone or computer. While they
do, `acting_member()` is that member (whose posts, exchanges and hours are touched) and
`current_user` stays the coordinator (who is accountable). Services take both, so every action
done for someone is marked and audit-logged as such."""

from flask import session
from flask_login import current_user

from timebank.extensions import db
from timebank.members.models import Member
from timebank.permissions import can_act_for

SESSION_KEY = "acting_for"


def acting_member() -> Member:
    """The member this request acts as: an assisted member being helped, else the logged-in one."""
    helped = on_behalf_of()
    return helped if helped is not None else logged_in_member()


def logged_in_member() -> Member:
    """The logged-in member itself rather than Flask-Login's proxy, for services and the audit log."""
    return current_user._get_current_object()


def on_behalf_of() -> Member | None:
    """The member the logged-in coordinator is acting for, if any (checked on every request)."""
    member_id = session.get(SESSION_KEY)
    if member_id is None or not current_user.is_authenticated:
        return None
    member = db.session.get(Member, member_id)
    if (
        member is None
        or member.id == current_user.id
        or member.status != "active"
        or not can_act_for(current_user, member)
    ):
        session.pop(SESSION_KEY, None)
        return None
    return member


def start_acting_for(member: Member) -> None:
    session[SESSION_KEY] = member.id


def stop_acting() -> None:
    session.pop(SESSION_KEY, None)
