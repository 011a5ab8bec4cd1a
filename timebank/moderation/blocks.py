"""A member blocks another: from then on neither sees the other's posts, proposes an exchange to
the other or writes to them. Exchanges already under way can still be finished or disputed, so
nobody escapes paying by blocking. The blocked member is not told (services flush)."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.errors import DomainError
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation.models import Block


class BlockError(DomainError):
    """A block could not be made or lifted; the message is fit to show."""


class Blocked(DomainError):
    """One of the two blocked the other; nothing was changed."""

    code, status = "blocked", 403

    def __init__(self, message=None):
        super().__init__(message or _l("You cannot do this: one of you blocked the other."))


def blocked_with(member_id: int | None) -> sa.Select:
    """The ids of members `member_id` blocked or was blocked by (none for nobody)."""
    return (
        sa.union(
            sa.select(Block.blocked_id).where(Block.blocker_id == member_id),
            sa.select(Block.blocker_id).where(Block.blocked_id == member_id),
        )
        .subquery()
        .select()
    )


def not_blocked(column, viewer_id: int | None) -> list:
    """A condition to add to a query: `column` (a member id) is nobody the viewer has a block with."""
    return [] if viewer_id is None else [column.not_in(blocked_with(viewer_id))]


def is_blocked_between(a_id: int, b_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Block)
            .where(
                sa.or_(
                    sa.and_(Block.blocker_id == a_id, Block.blocked_id == b_id),
                    sa.and_(Block.blocker_id == b_id, Block.blocked_id == a_id),
                )
            )
        )
        > 0
    )


def blocked_sets(member_ids) -> dict[int, set[int]]:
    """For each of `member_ids`, everyone they have a block with, either way (one query)."""
    found: dict[int, set[int]] = {member_id: set() for member_id in member_ids}
    for blocker, blocked in db.session.execute(
        sa.select(Block.blocker_id, Block.blocked_id).where(
            sa.or_(Block.blocker_id.in_(found), Block.blocked_id.in_(found))
        )
    ):
        found.get(blocker, set()).add(blocked)
        found.get(blocked, set()).add(blocker)
    return found


def refuse_if_blocked(member: Member, others) -> None:
    """For a new exchange or a message: refused when `member` and any of `others` blocked each other."""
    ids = {other.id for other in others if other is not None and other.id != member.id}
    if ids and db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Block)
        .where(
            sa.or_(
                sa.and_(Block.blocker_id == member.id, Block.blocked_id.in_(ids)),
                sa.and_(Block.blocked_id == member.id, Block.blocker_id.in_(ids)),
            )
        )
    ):
        raise Blocked()


def block(blocker: Member, blocked: Member) -> Block:
    if blocked.id == blocker.id:
        raise BlockError(_l("You cannot block yourself."))
    if blocked.community_id != blocker.community_id or blocked.status == "erased":
        raise BlockError(_l("You can only block members of your own neighbourhood."))
    existing = db.session.get(Block, (blocker.id, blocked.id))
    if existing is not None:
        return existing
    entry = Block(blocker_id=blocker.id, blocked_id=blocked.id)
    db.session.add(entry)
    db.session.flush()
    return entry


def unblock(blocker: Member, blocked_id: int) -> None:
    entry = db.session.get(Block, (blocker.id, blocked_id))
    if entry is not None:
        db.session.delete(entry)
        db.session.flush()


def blocks_by(member: Member) -> list[Block]:
    return list(db.session.scalars(sa.select(Block).where(Block.blocker_id == member.id).order_by(Block.created_at)))


def export_blocks(member: Member) -> list[dict]:
    """Whom the member blocked (who blocked them is not theirs to know)."""
    return [{"blocked": entry.blocked.name, "since": entry.created_at} for entry in blocks_by(member)]


def forget_blocks(member: Member, _actor: Member) -> None:
    """An erased member blocks nobody and is blocked by nobody."""
    db.session.execute(sa.delete(Block).where(sa.or_(Block.blocker_id == member.id, Block.blocked_id == member.id)))
