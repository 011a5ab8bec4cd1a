"""Creating communities. Services flush; the caller commits."""
import re

import sqlalchemy as sa
from flask import current_app

from timebank.communities.defaults import DEFAULT_CATEGORIES
from timebank.communities.models import Category, Community
from timebank.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class CommunityError(ValueError):
    """A community could not be created; the message is fit to show."""


def create_community(slug: str, name: str, join_policy: str = "approval") -> Community:
    """A new community with the default categories, ready for members."""
    slug = slug.strip().lower()
    name = name.strip()
    if not SLUG_RE.match(slug):
        raise CommunityError("the slug must be 2-40 lowercase letters, digits or dashes")
    if not name or len(name) > 100:
        raise CommunityError("the name must be 1-100 characters")
    if db.session.scalar(sa.select(Community.id).where(Community.slug == slug)):
        raise CommunityError(f"a community with slug {slug!r} exists already")
    community = Community(slug=slug, name=name, join_policy=join_policy)
    community.categories = [
        Category(key=key, names={"en": en, "nl": nl}, position=i)
        for i, (key, en, nl) in enumerate(DEFAULT_CATEGORIES)
    ]
    db.session.add(community)
    db.session.flush()
    return community


def default_community() -> Community | None:
    """The community a visitor lands in when the installation hosts one, or the configured one."""
    slug = current_app.config["DEFAULT_COMMUNITY_SLUG"]
    return db.session.scalar(sa.select(Community).where(Community.slug == slug)) or db.session.scalar(
        sa.select(Community).order_by(Community.id).limit(1))


def ensure_default_community() -> Community:
    """Create the default community on first run."""
    community = default_community()
    if community is None:
        community = create_community(current_app.config["DEFAULT_COMMUNITY_SLUG"],
                                     current_app.config["DEFAULT_COMMUNITY_NAME"])
    return community
