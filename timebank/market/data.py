"""The market's part of a member's data: the export (GDPR art. 15 and 20) and what erasure lets go
of."""

import sqlalchemy as sa

from timebank.extensions import db
from timebank.market.models import Post
from timebank.market.posts import _replace_photo
from timebank.members.models import Member


def export_member_posts(member: Member) -> list[dict]:
    """The member's posts, for their data export (GDPR art. 15 and 20)."""
    posts = db.session.scalars(sa.select(Post).where(Post.owner_id == member.id).order_by(Post.id))
    return [
        {
            "id": p.id,
            "kind": p.kind,
            "title": p.title,
            "description": p.description,
            "category": p.category.key,
            "minutes": p.minutes,
            "gift": p.is_gift,
            "status": p.status,
            "available_days": p.available_days,
            "available_parts": p.available_parts,
            "available_note": p.available_note,
            "created_at": p.created_at,
            "expires_at": p.expires_at,
        }
        for p in posts
    ]


def let_go_of_posts(member: Member, actor: Member) -> None:
    """An erased member's posts leave the market for good, without their words or photo; the
    titles stay, so the neighbours' exchange history still says what was done."""
    for post in db.session.scalars(sa.select(Post).where(Post.owner_id == member.id)):
        post.description = post.available_note = ""
        if post.status != "closed":
            post.status, post.closed_by = "closed", member
        _replace_photo(post, None)
    db.session.flush()
