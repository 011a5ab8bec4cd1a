"""Decisions for the demo neighbourhood, made through the services as members would make them: one
decided a fortnight ago, one open for votes now, and a member's proposal looking for supporters.
The demo logins have not voted on the open one, so whoever tries the demo can."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from timebank.demo.names import DEMO_PEOPLE
from timebank.extensions import db
from timebank.governance import services as governance
from timebank.governance.models import Proposal
from timebank.members.models import Member

DECIDED = {
    "nl": (
        "Elke eerste zaterdag een repaircafé in het buurthuis?",
        "Buren repareren samen fietsen, kleding en kleine apparaten. Wie helpt, krijgt zijn uren zoals altijd.",
    ),
    "en": (
        "A repair café in the community centre every first Saturday?",
        "Neighbours mend bikes, clothes and small appliances together. Whoever helps earns their hours as always.",
    ),
}
OPEN = {
    "nl": (
        "Waar houden we de zomerpicknick?",
        "Kies de plek die je het liefst hebt. De coördinatoren regelen de rest.",
        ["Het Park", "Het plein bij de kerk", "De tuin van het buurthuis"],
    ),
    "en": (
        "Where shall we hold the summer picnic?",
        "Choose the place you like best. The coordinators arrange the rest.",
        ["The park", "The square by the church", "The community centre's garden"],
    ),
}
ASKING = {
    "nl": (
        "Een gereedschapskast die iedereen mag lenen",
        "Een kast in het buurthuis met een boormachine, een trap en een steekwagen, uit te lenen voor een uur.",
    ),
    "en": (
        "A tool cupboard everyone may borrow from",
        "A cupboard in the community centre with a drill, a ladder and a hand truck, to borrow for an hour.",
    ),
}


def seed_decisions(ctx) -> None:
    rng, now = ctx.rng, ctx.now
    demo_logins = {email for email, *_ in DEMO_PEOPLE}
    members = db.session.scalars(
        sa.select(Member).where(Member.community_id == ctx.community.id, Member.status == "active").order_by(Member.id)
    ).all()
    coordinator = next(m for m in members if m.role == "coordinator" and not m.is_admin)
    voters = [m for m in members if m.email not in demo_logins]
    title, body = DECIDED[ctx.writes_in(coordinator.id)]
    opened = now - timedelta(days=21)
    decided = governance.create_proposal(
        coordinator, title=title, body=body, voting_days=7, quorum_percent=10, now=opened
    )
    yes, no, abstain = decided.options
    for member in rng.sample(voters, len(voters) * 2 // 5):
        choice = rng.choices([yes, no, abstain], weights=[7, 2, 1])[0]
        governance.vote(decided, member, choice.id, now=opened + timedelta(minutes=rng.randrange(7 * 24 * 60)))
    closed = decided.closes_at + timedelta(hours=1)
    governance.close(decided, now=closed, publish=False)
    _published_then(ctx, decided, members, closed)

    title, body, places = OPEN[ctx.writes_in(coordinator.id)]
    opened = now - timedelta(days=2)
    open_one = governance.create_proposal(
        coordinator, title=title, body=body, options=places, voting_days=7, now=opened
    )
    for member in rng.sample(voters, len(voters) // 6):
        choice = rng.choices(open_one.options, weights=[5, 3, 2])[0]
        governance.vote(open_one, member, choice.id, now=opened + timedelta(minutes=rng.randrange(2 * 24 * 60)))

    authors = [m for m in voters if m.email and m.role == "member"]
    author = rng.choice(authors)
    title, body = ASKING[ctx.writes_in(author.id)]
    asking = governance.create_proposal(author, title=title, body=body, now=now - timedelta(days=3))
    needed = ctx.community.proposal_supporters
    for member in rng.sample([m for m in authors if m.id != author.id], max(0, needed - 1)):
        governance.support(asking, member, now=now - timedelta(days=rng.randrange(1, 3)))


def _published_then(ctx, proposal: Proposal, members: list[Member], moment: datetime) -> None:
    """Every active member was told the result when voting ended (and most have read it since), as
    `governance.close` tells them; its emails went then. The exchange history writes these with its
    own, in time order."""
    rows = [
        dict(
            member_id=member.id,
            kind="decision",
            actor_id=None,
            exchange_id=None,
            details=governance.decision_details(proposal),
            created_at=moment,
            emailed_at=moment if member.email else None,
            read_at=moment + timedelta(days=1) if member.email else None,
        )
        for member in members
    ]
    ctx.steps.setdefault("notifications", []).extend(rows)
