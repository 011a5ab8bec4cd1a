"""A community's market settings and its categories in every language: add, rename, retire, restore,
merge."""

import re
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.models import Category, Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.market.models import Post
from timebank.market.rules import CATEGORY_NAME_MAX, EXPIRY_WEEKS_RANGE, MarketError
from timebank.members.models import Member, member_skills


def set_post_expiry(community: Community, weeks: int, *, actor: Member) -> Community:
    """How long new and renewed posts stay online; posts already online keep their date."""
    low, high = EXPIRY_WEEKS_RANGE
    if weeks is None or not low <= weeks <= high:
        raise MarketError(_l("Please choose between %(low)d and %(high)d weeks.", low=low, high=high), "weeks")
    if weeks != community.post_expiry_weeks:
        record(
            "market.expiry_changed", actor=actor, community_id=community.id, old=community.post_expiry_weeks, new=weeks
        )
        community.post_expiry_weeks = weeks
    db.session.flush()
    return community


def add_category(community: Community, names: dict[str, str], *, actor: Member) -> Category:
    names = _clean_names(community, names)
    position = (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(Category.position), -1)).where(Category.community_id == community.id)
        )
        + 1
    )
    category = Category(community_id=community.id, key=_new_key(community, names), names=names, position=position)
    db.session.add(category)
    db.session.flush()
    record("category.added", actor=actor, community_id=community.id, subject=category, names=names)
    return category


def rename_category(category: Category, names: dict[str, str], *, actor: Member) -> Category:
    names = _clean_names(category.community, names, category)
    record(
        "category.renamed",
        actor=actor,
        community_id=category.community_id,
        subject=category,
        old=category.names,
        new=names,
    )
    category.names = names
    db.session.flush()
    return category


def retire_category(category: Category, *, actor: Member) -> Category:
    """No new posts in it; posts already in it stay as they are."""
    if category.retired_at is not None:
        raise MarketError(_l("This category is not used any more already."))
    category.retired_at = utcnow()
    db.session.flush()
    record("category.retired", actor=actor, community_id=category.community_id, subject=category)
    return category


def restore_category(category: Category, *, actor: Member) -> Category:
    if category.merged_into_id is not None:
        raise MarketError(_l("This category was merged into another one and cannot come back."))
    if category.retired_at is None:
        raise MarketError(_l("This category is in use already."))
    category.retired_at = None
    db.session.flush()
    record("category.restored", actor=actor, community_id=category.community_id, subject=category)
    return category


def merge_category(source: Category, target: Category, *, actor: Member) -> Category:
    """Move every post and skill of `source` to `target` and retire `source`. Old links to
    `source` keep working: the listing follows `merged_into_id`."""
    if target.id == source.id or target.community_id != source.community_id:
        raise MarketError(_l("Please choose another category of this neighbourhood."), "target_id")
    if target.retired_at is not None:
        raise MarketError(_l("You cannot merge into a category that is not used any more."), "target_id")
    if source.merged_into_id is not None:
        raise MarketError(_l("This category was merged already."))
    moved = db.session.execute(
        sa.update(Post)
        .where(Post.category_id == source.id)
        .values(category_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    has_target = sa.select(member_skills.c.member_id).where(member_skills.c.category_id == target.id)
    db.session.execute(
        sa.insert(member_skills).from_select(
            ["member_id", "category_id"],
            sa.select(member_skills.c.member_id, sa.literal(target.id)).where(
                member_skills.c.category_id == source.id, member_skills.c.member_id.not_in(has_target)
            ),
        )
    )
    db.session.execute(sa.delete(member_skills).where(member_skills.c.category_id == source.id))
    source.merged_into_id = target.id
    source.retired_at = source.retired_at or utcnow()
    db.session.flush()
    db.session.expire_all()
    record(
        "category.merged",
        actor=actor,
        community_id=source.community_id,
        subject=source,
        into=target.id,
        posts_moved=moved,
    )
    return target


def resolve_category(community_id: int, category_id: int | None) -> Category | None:
    """The category a link means: merged categories lead to the one they were merged into."""
    category = db.session.get(Category, category_id) if category_id is not None else None
    seen = set()
    while category is not None and category.merged_into_id is not None and category.id not in seen:
        seen.add(category.id)
        category = db.session.get(Category, category.merged_into_id)
    if category is None or category.community_id != community_id:
        return None
    return category


def _clean_names(community: Community, names: dict[str, str], renaming: Category | None = None) -> dict:
    cleaned = {}
    for language in current_app.config["LANGUAGES"]:
        name = " ".join((names.get(language) or "").split())
        if not name:
            raise MarketError(_l("Please fill in the name in every language."), f"name_{language}")
        if len(name) > CATEGORY_NAME_MAX:
            raise MarketError(
                _l("Please keep the name under %(max)d characters.", max=CATEGORY_NAME_MAX), f"name_{language}"
            )
        cleaned[language] = name
    others = db.session.scalars(
        sa.select(Category).where(Category.community_id == community.id, Category.merged_into_id.is_(None))
    ).all()
    for other in others:
        if renaming is not None and other.id == renaming.id:
            continue
        for language, name in cleaned.items():
            if (other.names.get(language) or "").casefold() == name.casefold():
                raise MarketError(_l("There is already a category called “%(name)s”.", name=name), f"name_{language}")
    return cleaned


def _new_key(community: Community, names: dict[str, str]) -> str:
    base_name = names.get("en") or next(iter(names.values()))
    plain = unicodedata.normalize("NFKD", base_name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:32] or "category"
    taken = set(db.session.scalars(sa.select(Category.key).where(Category.community_id == community.id)))
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key
