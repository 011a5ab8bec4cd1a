"""Recording audit events (flushes; the caller commits with the action itself) and saying what
they mean to the people they touched."""
from flask_babel import lazy_gettext as _l

from timebank.audit.models import AuditEvent
from timebank.extensions import db
from timebank.members.models import Member


def record(action: str, *, actor: Member | None, community_id: int | None = None,
           on_behalf_of: Member | None = None, subject=None, reason: str = "", **details) -> AuditEvent:
    """Log an action in the same transaction as the action, so one is never kept without the other."""
    if community_id is None:
        community_id = (on_behalf_of or actor).community_id if (on_behalf_of or actor) else None
    event = AuditEvent(
        action=action, actor=actor, on_behalf_of=on_behalf_of, community_id=community_id,
        subject_type=type(subject).__tablename__ if subject is not None else None,
        subject_id=getattr(subject, "id", None), reason=reason, details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event


# What each action means to the person it touched. Domains add their own actions.
ACTION_LABELS: dict[str, str] = {
    "member.registered": _l("asked to join"),
    "member.joined": _l("joined the neighbourhood"),
    "member.join_requested": _l("confirmed the email address; the request went to the coordinators"),
    "member.approved": _l("accepted the request to join"),
    "member.rejected": _l("did not accept the request to join"),
    "member.created": _l("made the account"),
    "member.registered_assisted": _l("made the account, to help the member"),
    "member.profile_updated": _l("changed the profile"),
    "member.privacy_updated": _l("changed who may see contact details and hours"),
    "member.password_changed": _l("changed the password"),
    "member.password_reset": _l("chose a new password with an emailed link"),
    "member.email_change_requested": _l("asked to change the email address"),
    "member.email_changed": _l("changed the email address with an emailed link"),
    "member.email_change_cancelled": _l("said the email change asked for was not theirs; it was cancelled"),
    "member.email_change_undone": _l("said the email change was not theirs; the old address is back"),
    "member.logged_out_everywhere": _l("logged out on all devices"),
    "member.suspended": _l("paused the account"),
    "member.reactivated": _l("let the account back in"),
    "member.coordinator_appointed": _l("made the member a coordinator"),
    "member.coordinator_removed": _l("ended the member's role as coordinator"),
    "member.erasure_requested": _l("asked to erase the account"),
    "member.erased": _l("erased the account"),
    "member.acting_started": _l("started to act in the member's name"),
    "member.data_exported": _l("downloaded the data"),
    "member.acting_stopped": _l("stopped acting in the member's name"),
    "community.created": _l("made a new neighbourhood"),
    "ledger.statement_exported": _l("downloaded the member's statement of hours"),
    "ledger.fund_exported": _l("downloaded the statement of the community fund"),
    "audit.exported": _l("downloaded entries of the audit log"),
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
