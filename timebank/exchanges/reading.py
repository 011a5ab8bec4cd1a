"""Reading exchanges: a member's list and the disputes that wait for a coordinator."""

import sqlalchemy as sa

from timebank.exchanges.models import Exchange, Participant
from timebank.extensions import db
from timebank.members.models import Member


def exchanges_of(member: Member, *, states: tuple[str, ...] | None = None, limit: int | None = None) -> list[Exchange]:
    """The member's exchanges, most recently changed first."""
    query = exchanges_query(member, states=states)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def exchanges_query(member: Member, *, states: tuple[str, ...] | None = None) -> sa.Select:
    """The query behind `exchanges_of`, for callers that page through it (the API)."""
    query = (
        sa.select(Exchange)
        .join(Participant, Participant.exchange_id == Exchange.id)
        .where(Participant.member_id == member.id)
        .order_by(Exchange.updated_at.desc(), Exchange.id.desc())
    )
    if states is not None:
        query = query.where(Exchange.state.in_(states))
    return query


def open_disputes(community_id: int) -> list[Exchange]:
    """What waits for the community's coordinators: its exchanges, and those across a link in which
    one of its members takes part (the other community's coordinators see them too)."""
    own_member_takes_part = sa.exists().where(
        Participant.exchange_id == Exchange.id, Member.id == Participant.member_id, Member.community_id == community_id
    )
    return list(
        db.session.scalars(
            sa.select(Exchange)
            .where(
                sa.or_(Exchange.community_id == community_id, own_member_takes_part),
                sa.or_(
                    Exchange.state == "disputed",
                    sa.and_(Exchange.help_requested_at.is_not(None), Exchange.state.in_(("accepted", "proposed"))),
                ),
            )
            .order_by(Exchange.updated_at)
        )
    )
