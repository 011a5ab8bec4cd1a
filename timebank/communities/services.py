"""Creating communities and changing their settings and areas. Services flush; the caller commits."""

import re

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.defaults import DEFAULT_CATEGORIES
from timebank.communities.links import AUDIT_LABELS as LINK_AUDIT_LABELS
from timebank.communities.links import linked_community_ids, links_of  # noqa: F401  (links, for other domains)
from timebank.communities.models import JOIN_POLICIES, TEXT_KINDS, Area, Category, Community
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.members.models import Member

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
TEXT_MAX = 5000
RESERVED_SLUGS = {"status"}  # /join/status is the applicant's status page

# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "community.created": _l("made a new neighbourhood"),
    "community.updated": _l("changed the settings of the neighbourhood"),
    "community.area_added": _l("added an area"),
    "community.area_renamed": _l("renamed an area"),
    **LINK_AUDIT_LABELS,
}


class CommunityError(DomainError):
    """A community could not be created or changed; the message is fit to show. `field` names the
    form field at fault."""


def create_community(slug: str, name: str, join_policy: str = "approval") -> Community:
    """A new community with the default categories, ready for members."""
    slug = slug.strip().lower()
    name = _clean_name(name)
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise CommunityError(_l("The short name must be 2 to 40 small letters, digits or dashes."), "slug")
    if join_policy not in JOIN_POLICIES:
        raise CommunityError(_l("Please choose how people join."), "join_policy")
    if db.session.scalar(sa.select(Community.id).where(Community.slug == slug)):
        raise CommunityError(_l("A community with the short name %(slug)s exists already.", slug=slug), "slug")
    community = Community(slug=slug, name=name, join_policy=join_policy)
    community.categories = [
        Category(key=key, names={"en": en, "nl": nl}, position=i) for i, (key, en, nl) in enumerate(DEFAULT_CATEGORIES)
    ]
    db.session.add(community)
    db.session.flush()
    return community


def default_community() -> Community | None:
    """The community a visitor lands in when the installation hosts one, or the configured one."""
    slug = current_app.config["DEFAULT_COMMUNITY_SLUG"]
    return db.session.scalar(sa.select(Community).where(Community.slug == slug)) or db.session.scalar(
        sa.select(Community).order_by(Community.id).limit(1)
    )


def ensure_default_community() -> Community:
    """Create the default community on first run."""
    community = default_community()
    if community is None:
        community = create_community(
            current_app.config["DEFAULT_COMMUNITY_SLUG"], current_app.config["DEFAULT_COMMUNITY_NAME"]
        )
    return community


def _clean_name(name: str | None, limit: int = 100) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > limit or "<" in name or ">" in name:
        raise CommunityError(_l("The name must be 1 to %(num)d characters, without < or >.", num=limit), "name")
    return name


def update_community(
    community: Community,
    *,
    actor: Member,
    name: str,
    description: str,
    join_policy: str,
    texts: dict[str, dict[str, str]] | None = None,
) -> Community:
    """A coordinator changes their community's name, description, way of joining and its texts
    (`texts[kind][language]`, see TEXT_KINDS; an empty text is removed; kinds and languages not
    given are kept)."""
    if join_policy not in JOIN_POLICIES:
        raise CommunityError(_l("Please choose how people join."), "join_policy")
    if len(description or "") > TEXT_MAX:
        raise CommunityError(_l("Please use at most %(num)d characters.", num=TEXT_MAX), "description")
    stored = {kind: dict(versions) for kind, versions in (community.texts or {}).items()}
    for kind, versions in (texts or {}).items():
        for code, text in versions.items():
            if kind not in TEXT_KINDS or code not in current_app.config["LANGUAGES"]:
                raise CommunityError(_l("This text cannot be kept here."), f"{kind}_{code}")
            text = (text or "").strip().replace("\r\n", "\n")
            if len(text) > TEXT_MAX:
                raise CommunityError(_l("Please use at most %(num)d characters.", num=TEXT_MAX), f"{kind}_{code}")
            stored.setdefault(kind, {})[code] = text
            if not text:
                del stored[kind][code]
    community.name = _clean_name(name)
    community.description = (description or "").strip()
    community.join_policy = join_policy
    community.texts = {kind: versions for kind, versions in stored.items() if versions}
    db.session.flush()
    record("community.updated", actor=actor, community_id=community.id, subject=community, join_policy=join_policy)
    return community


def set_stats_public(community: Community, public: bool) -> Community:
    """Whether the neighbourhood's figures are shown on its public page (the coordinators choose)."""
    community.stats_public = public
    db.session.flush()
    return community


def _ensure_area_name_free(community: Community, name: str, area_id: int | None = None) -> None:
    taken = sa.select(Area.id).where(Area.community_id == community.id, sa.func.lower(Area.name) == name.lower())
    if area_id is not None:
        taken = taken.where(Area.id != area_id)
    if db.session.scalar(taken):
        raise CommunityError(_l("There is already an area with this name."), "name")


def add_area(community: Community, *, actor: Member, name: str) -> Area:
    name = _clean_name(name, 80)
    _ensure_area_name_free(community, name)
    area = Area(community_id=community.id, name=name)
    db.session.add(area)
    db.session.flush()
    record("community.area_added", actor=actor, community_id=community.id, subject=area, name=name)
    return area


def rename_area(area: Area, *, actor: Member, name: str) -> Area:
    name = _clean_name(name, 80)
    _ensure_area_name_free(area.community, name, area.id)
    old, area.name = area.name, name
    db.session.flush()
    record("community.area_renamed", actor=actor, community_id=area.community_id, subject=area, old=old, new=name)
    return area
