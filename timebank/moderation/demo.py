"""Reports waiting for the demo's coordinators: two posts neighbours found out of place."""

import sqlalchemy as sa

from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.moderation import services as moderation

REPORTS = {
    "nl": [("spam", "Dit staat er elke dag opnieuw."), ("other", "Hier wordt geld gevraagd in plaats van uren.")],
    "en": [("spam", "This is posted again every day."), ("other", "This asks for money instead of hours.")],
}


def seed_reports(ctx) -> None:
    rng = ctx.rng
    posts = db.session.execute(
        sa.select(Post.id, Post.owner_id)
        .where(Post.community_id == ctx.community.id, Post.status == "active")
        .order_by(Post.id)
    ).all()
    reporters = db.session.scalars(
        sa.select(Member)
        .where(Member.community_id == ctx.community.id, Member.status == "active", Member.role == "member")
        .order_by(Member.id)
    ).all()
    if len(posts) < 2 or len(reporters) < 3:
        return
    for index, post in enumerate(rng.sample(posts, 2)):
        reporter = rng.choice([m for m in reporters if m.id != post.owner_id])
        reason, text = REPORTS[ctx.writes_in(reporter.id)][index]
        moderation.report(reporter, "post", post.id, reason, text)
