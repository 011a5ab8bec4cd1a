"""What the market does by itself: reminding owners before a post expires, expiring it, and the
digest of new requests that match a member's skills."""

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.market.models import Post
from timebank.market.rules import DIGEST_INTERVAL, REMIND_BEFORE
from timebank.members.models import Member, member_skills
from timebank.moderation.blocks import blocked_sets


def remind_and_expire(now: datetime | None = None) -> tuple[int, int]:
    """Remind owners a week before their post expires, then expire it. Run it as often as you
    like: each post gets one reminder per period, and expiry happens once."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Post)
        .where(
            Post.status.in_(("active", "paused")),
            Post.reminded_at.is_(None),
            Post.expires_at > now,
            Post.expires_at <= now + REMIND_BEFORE,
        )
        .options(selectinload(Post.owner))
        .with_for_update(skip_locked=True)
    ).all()
    for post in due:
        if post.owner.is_active:
            queue_mail(post.owner, "market_post_expiring", post=post)
        post.reminded_at = now
    expired = db.session.execute(
        sa.update(Post)
        .where(Post.status.in_(("active", "paused")), Post.expires_at <= now)
        .values(status="expired")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return len(due), expired


def set_digest(member: Member, enabled: bool, now: datetime | None = None) -> None:
    """Opt in or out of the digest; it starts with requests placed from now on."""
    if enabled and not member.market_digest:
        member.market_digest_sent_until = now or utcnow()
    member.market_digest = enabled
    db.session.flush()


def queue_digests(now: datetime | None = None) -> int:
    """Email each opted-in member the new requests that match their skills or offers, once,
    and at most once per DIGEST_INTERVAL.

    Each member's digest covers the requests placed since their last one, so a second run
    finds nothing new to send."""
    now = now or utcnow()
    readers = db.session.scalars(
        sa.select(Member)
        .where(
            Member.market_digest.is_(True),
            Member.status == "active",
            sa.or_(Member.market_digest_sent_until.is_(None), Member.market_digest_sent_until <= now - DIGEST_INTERVAL),
        )
        .with_for_update(skip_locked=True)
    ).all()
    if not readers:
        return 0
    since = min(m.market_digest_sent_until or now for m in readers)
    opted_in = sa.select(Member.id).where(Member.market_digest.is_(True))
    interests = defaultdict(set)
    for member_id, category_id in db.session.execute(
        sa.select(member_skills.c.member_id, member_skills.c.category_id)
        .where(member_skills.c.member_id.in_(opted_in))
        .union(
            sa.select(Post.owner_id, Post.category_id).where(
                Post.owner_id.in_(opted_in), Post.kind == "offer", Post.status == "active", Post.expires_at > now
            )
        )
    ):
        interests[member_id].add(category_id)
    new_requests = db.session.scalars(
        sa.select(Post)
        .where(
            Post.kind == "request",
            Post.status == "active",
            Post.expires_at > now,
            Post.created_at > since,
            Post.created_at <= now,
        )
        .options(joinedload(Post.category))
        .order_by(Post.created_at)
    ).all()
    blocks = blocked_sets([m.id for m in readers])
    sent = 0
    for member in readers:
        start = member.market_digest_sent_until or now
        posts = [
            p
            for p in new_requests
            if p.community_id == member.community_id
            and p.owner_id != member.id
            and p.category_id in interests[member.id]
            and start < p.created_at
            and p.owner_id not in blocks[member.id]
        ]
        if posts and queue_mail(member, "market_digest", posts=posts) is not None:
            sent += 1
        member.market_digest_sent_until = now
    db.session.flush()
    return sent
