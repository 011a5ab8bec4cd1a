"""What happened in an exchange, told three ways: a line in its conversation, the audit log when
someone acted for a participant, and notifications to the others or to the coordinators."""

from timebank.audit.services import record
from timebank.exchanges.models import Exchange, Message
from timebank.extensions import db
from timebank.members.models import Member
from timebank.members.services import coordinators_of
from timebank.notifications.services import notify


def _event(
    exchange: Exchange, event: str, *, author: Member | None, actor: Member | None, body: str = "", **details
) -> Message:
    message = Message(
        exchange_id=exchange.id,
        author_id=author.id if author else None,
        actor_id=actor.id if actor else None,
        event=event,
        body=body,
        details=details,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _audit_if_helped(action: str, exchange: Exchange, actor: Member | None, party: Member, **details) -> None:
    """What a coordinator does for a member is logged and shown to them; what members do
    themselves is in the exchange's own history."""
    if actor is not None and actor.id != party.id:
        record(action, actor=actor, on_behalf_of=party, community_id=exchange.community_id, subject=exchange, **details)


def _tell_others(exchange: Exchange, kind: str, party: Member | None, **details) -> None:
    for participant in exchange.participants:
        if party is None or participant.member_id != party.id:
            notify(participant.member, kind, actor=party, exchange=exchange, **details)


def _tell_coordinators(exchange: Exchange, kind: str, party: Member) -> None:
    """The coordinators of the exchange's community; across a link, of the other one's too."""
    communities = sorted({exchange.community_id, *(p.member.community_id for p in exchange.participants)})
    for community_id in communities:
        for coordinator in coordinators_of(community_id):
            if exchange.participant(coordinator) is None:
                notify(coordinator, kind, actor=party, exchange=exchange)
