"""Recording audit events (flushes; the caller commits with the action itself) and saying what
they mean to the people they touched."""

from timebank.audit.models import AuditEvent
from timebank.extensions import db
from timebank.members.models import Member


def record(
    action: str,
    *,
    actor: Member | None,
    community_id: int | None = None,
    on_behalf_of: Member | None = None,
    subject=None,
    reason: str = "",
    **details,
) -> AuditEvent:
    """Log an action in the same transaction as the action, so one is never kept without the other."""
    if community_id is None:
        community_id = (on_behalf_of or actor).community_id if (on_behalf_of or actor) else None
    event = AuditEvent(
        action=action,
        actor=actor,
        on_behalf_of=on_behalf_of,
        community_id=community_id,
        subject_type=type(subject).__tablename__ if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        reason=reason,
        details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event


# What each action means to the person it touched: every domain's labels, put together by
# timebank/registry.py when the app starts.
ACTION_LABELS: dict[str, str] = {}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
