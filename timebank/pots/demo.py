"""Personal pots for the demo neighbourhood: some members save towards something of their own,
and Fatima (a demo login) puts a share of what she earns aside, so her pots page has one."""

import sqlalchemy as sa

from timebank.demo.names import DEMO_PEOPLE
from timebank.extensions import db
from timebank.ledger.models import Account
from timebank.members.models import Member
from timebank.pots import services as pots

GOALS = {
    "nl": ["Een naaicursus", "Rijlessen", "Een fietsreparatiecursus", "Taalles Engels", "Hulp bij de verhuizing"],
    "en": ["A sewing course", "Driving lessons", "A bike repair course", "Dutch lessons", "Help with moving house"],
}
SAVERS = 0.15  # the share of members with two hours to spare who keep a pot


def seed_pots(ctx) -> None:
    rng = ctx.rng
    fatima = next(email for email, *_ in DEMO_PEOPLE if email.startswith("fatima"))
    rows = db.session.execute(
        sa.select(Member, Account.balance)
        .join(Account, (Account.member_id == Member.id) & (Account.kind == "member"))
        .where(Member.community_id == ctx.community.id, Member.status == "active")
        .where((Account.balance >= 120) | (Member.email == fatima))
        .order_by(Member.id)
    ).all()
    for member, balance in rows:
        if member.email != fatima and rng.random() >= SAVERS:
            continue
        name = rng.choice(GOALS[ctx.writes_in(member.id)])
        pot = pots.open_pot(member, name, rng.choice([5, 8, 10, 15, 20]) * 60)
        if balance >= 120:
            pots.deposit(pot, member, balance * rng.randint(25, 60) // 100)
        if member.email == fatima or rng.random() < 0.4:
            pots.set_share(pot, member, rng.choice([10, 20, 25]))
