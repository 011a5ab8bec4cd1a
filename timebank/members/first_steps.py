"""A newcomer's first steps, as a card on the home page: offer something, answer what a neighbour
asks, read how hours work. Each is done by doing it (a post, an exchange proposed, "I understand"
on the hours page); the card goes when all are done or the member puts it away."""

from dataclasses import dataclass

import sqlalchemy as sa

from timebank.exchanges.models import Exchange, Participant
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member

STEPS = ("offer", "answer", "hours")


@dataclass(frozen=True)
class FirstSteps:
    done: frozenset[str]

    @property
    def left(self) -> int:
        return len(STEPS) - len(self.done)


def first_steps(member: Member) -> FirstSteps | None:
    """The card's steps and which are done; None once the card has gone."""
    stored = member.first_steps or {}
    if stored.get("dismissed"):
        return None
    done = {step for step in STEPS if stored.get(step)}
    offered = sa.select(Post.id).where(Post.owner_id == member.id, Post.kind == "offer").exists()
    # Through the member's own exchanges (an index), not all of the neighbourhood's: a newcomer has
    # none, where looking for their proposals read every exchange on each visit to the home page.
    answered = (
        sa.select(Participant.id)
        .join(Exchange, Exchange.id == Participant.exchange_id)
        .where(Participant.member_id == member.id, Exchange.proposer_id == member.id)
        .exists()
    )
    has_offered, has_answered = db.session.execute(sa.select(offered, answered)).one()
    done |= {step for step, yes in (("offer", has_offered), ("answer", has_answered)) if yes}
    return None if done == set(STEPS) else FirstSteps(frozenset(done))


def understood_hours(member: Member) -> None:
    """The member read how hours work and said so."""
    member.first_steps = {**(member.first_steps or {}), "hours": True}
    db.session.flush()


def put_first_steps_away(member: Member) -> None:
    member.first_steps = {**(member.first_steps or {}), "dismissed": True}
    db.session.flush()
