"""Links between communities: one community's coordinators propose, the other's accept (or an
administrator sets it up from the command line); either side pauses or ends it, with a reason.

A coordinator acts for their own community only: they propose from it, accept what was proposed to
it, and pause, resume or end the links it is part of; a pause is lifted by the side that paused.
`actor` None is an administrator at the command line; on the administrator's page the
administrator is the actor, `as_administrator`, acting for neither side. Every change is audit-logged in both
communities. Services flush; the caller commits."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from timebank.audit.services import record
from timebank.communities.models import Community, CommunityLink
from timebank.db import take_write_lock, utcnow
from timebank.errors import DomainError
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger import services as ledger
from timebank.ledger.errors import MAX_MINUTES
from timebank.members.models import Member
from timebank.permissions import can_administer, can_coordinate

REASON_MAX = 500

AUDIT_LABELS = {
    "community.link_proposed": _l("proposed that two neighbourhoods trade with each other"),
    "community.link_accepted": _l("accepted that two neighbourhoods trade with each other"),
    "community.link_paused": _l("paused the trade between two neighbourhoods"),
    "community.link_resumed": _l("let the trade between two neighbourhoods go on again"),
    "community.link_ended": _l("ended the trade between two neighbourhoods"),
    "community.link_set": _l("set up the trade between two neighbourhoods"),
}


class LinkError(DomainError):
    """A link could not be made or changed; the message is fit to show, `field` names the field."""

    status = 422


class LinkForbidden(LinkError):
    code = "forbidden"
    status = 403


def _reason(reason: str | None, *, required: bool) -> str:
    reason = (reason or "").replace("\x00", "").strip()
    if required and not reason:
        raise LinkError(_l("Please write down why."), "reason")
    if len(reason) > REASON_MAX:
        raise LinkError(_l("The reason can be at most 500 characters long."), "reason")
    return reason


def _cap(cap_minutes) -> int:
    if not (isinstance(cap_minutes, int) and not isinstance(cap_minutes, bool) and 0 < cap_minutes <= MAX_MINUTES):
        raise LinkError(
            _l("The cap must be above zero and at most %(max)s.", max=format_minutes(MAX_MINUTES)), "cap_minutes"
        )
    return cap_minutes


def _side(link: CommunityLink, actor: Member | None, as_administrator: bool = False) -> int | None:
    """The community the actor acts for in this link (None: an administrator); refuses anyone else."""
    if as_administrator:
        _require_administrator(actor)
        return None
    if actor is None:
        return None
    for community_id in (link.proposer_id, link.accepter_id):
        if can_coordinate(actor, community_id):
            return community_id
    raise LinkForbidden(_l("Only a coordinator of one of these two neighbourhoods can do this."))


def _require_administrator(actor: Member | None) -> None:
    if not can_administer(actor):
        raise LinkForbidden(_l("Only an administrator can do this."))


def _locked(link: CommunityLink) -> CommunityLink:
    """The link read again under the write lock: of two changes at once, the second sees the first."""
    take_write_lock(db.session)
    db.session.refresh(link, with_for_update=True)
    return link


def _changed(
    link: CommunityLink, action: str, state: str, side: int | None, actor: Member | None, reason: str, **details
) -> CommunityLink:
    before, link.state = link.state, state
    link.state_reason, link.changed_by_id, link.changed_at = reason, side, utcnow()
    db.session.flush()
    for community_id in (link.proposer_id, link.accepter_id):
        record(
            action,
            actor=actor,
            community_id=community_id,
            subject=link,
            reason=reason,
            before=before,
            after=state,
            **details,
        )
    return link


def link_between(first_id: int, second_id: int) -> CommunityLink | None:
    return db.session.scalar(
        sa.select(CommunityLink).where(CommunityLink.pair == CommunityLink.pair_of(first_id, second_id))
    )


def links_of(community_id: int) -> list[CommunityLink]:
    """Every link the community is part of, the ones that need an answer first."""
    return list(
        db.session.scalars(
            sa.select(CommunityLink)
            .where(sa.or_(CommunityLink.proposer_id == community_id, CommunityLink.accepter_id == community_id))
            .order_by(
                sa.case((CommunityLink.state == "proposed", 0), (CommunityLink.state == "active", 1), else_=2),
                CommunityLink.id,
            )
        )
    )


def linked_community_ids(community_id: int, *, posts: bool = False) -> list[int]:
    """The communities this one trades with now (active links); with posts=True only those whose
    posts its members see."""
    query = sa.select(CommunityLink).where(
        CommunityLink.state == "active",
        sa.or_(CommunityLink.proposer_id == community_id, CommunityLink.accepter_id == community_id),
    )
    if posts:
        query = query.where(CommunityLink.see_posts.is_(True))
    return sorted(link.other_id(community_id) for link in db.session.scalars(query))


def propose_link(
    community: Community, other_slug: str, *, actor: Member, cap_minutes, see_posts: bool, reason: str
) -> CommunityLink:
    """Ask another community to trade: it is linked once its coordinators accept."""
    if not can_coordinate(actor, community.id):
        raise LinkForbidden(_l("Only a coordinator of one of these two neighbourhoods can do this."))
    reason, cap_minutes = _reason(reason, required=True), _cap(cap_minutes)
    take_write_lock(db.session)
    other = db.session.scalar(sa.select(Community).where(Community.slug == (other_slug or "").strip().lower()))
    if other is None or other.id == community.id:
        raise LinkError(_l("There is no other neighbourhood with this short name."), "other")
    link = link_between(community.id, other.id)
    if link is not None and link.state != "ended":
        raise LinkError(_l("These neighbourhoods are linked already, or a proposal waits for an answer."), "other")
    if link is None:
        link = CommunityLink(pair=CommunityLink.pair_of(community.id, other.id), state="ended")
        db.session.add(link)
    link.proposer_id, link.accepter_id = community.id, other.id
    link.cap_minutes, link.see_posts, link.proposal_reason = cap_minutes, bool(see_posts), reason
    if ledger.clearing_account(community.id, other.id) is not None:
        ledger.open_clearing(link)  # linked before: the clearing accounts hold the new cap at once
    return _changed(
        link,
        "community.link_proposed",
        "proposed",
        community.id,
        actor,
        reason,
        cap_minutes=cap_minutes,
        see_posts=bool(see_posts),
    )


def accept_link(link: CommunityLink, *, actor: Member, reason: str = "") -> CommunityLink:
    """The other community's coordinator agrees: members may trade from now on, up to the cap."""
    reason = _reason(reason, required=False)
    link = _locked(link)
    if not can_coordinate(actor, link.accepter_id):
        raise LinkForbidden(_l("Only a coordinator of the neighbourhood that was asked can accept."))
    if link.state != "proposed":
        raise LinkError(_l("This proposal was answered already."))
    ledger.open_clearing(link)
    return _changed(link, "community.link_accepted", "active", link.accepter_id, actor, reason)


def pause_link(
    link: CommunityLink, *, actor: Member | None, reason: str, as_administrator: bool = False
) -> CommunityLink:
    """No new exchanges across the link until it is resumed; exchanges agreed before still finish."""
    reason = _reason(reason, required=True)
    link = _locked(link)
    side = _side(link, actor, as_administrator)
    if link.state != "active":
        raise LinkError(_l("Only a link in use can be paused."))
    return _changed(link, "community.link_paused", "paused", side, actor, reason)


def resume_link(
    link: CommunityLink, *, actor: Member | None, reason: str, as_administrator: bool = False
) -> CommunityLink:
    reason = _reason(reason, required=True)
    link = _locked(link)
    side = _side(link, actor, as_administrator)
    if link.state != "paused":
        raise LinkError(_l("Only a paused link can go on again."))
    if side is not None and link.changed_by_id is None:
        raise LinkForbidden(_l("An administrator paused this link: only an administrator can let it go on."))
    if side is not None and side != link.changed_by_id:
        raise LinkForbidden(_l("The other neighbourhood paused this link: only they can let it go on."))
    return _changed(link, "community.link_resumed", "active", side, actor, reason)


def end_link(
    link: CommunityLink, *, actor: Member | None, reason: str, as_administrator: bool = False
) -> CommunityLink:
    """Either side ends the link (or withdraws or turns down a proposal). Exchanges agreed before
    still finish; what one community owes the other stays on the clearing accounts."""
    reason = _reason(reason, required=True)
    link = _locked(link)
    side = _side(link, actor, as_administrator)
    if link.state == "ended":
        raise LinkError(_l("This link has ended already."))
    return _changed(link, "community.link_ended", "ended", side, actor, reason)


def set_link(
    first: Community,
    second: Community,
    *,
    cap_minutes,
    see_posts: bool,
    reason: str = "",
    actor: Member | None = None,
) -> CommunityLink:
    """An administrator links two communities at once, or changes the cap and whether posts are
    seen; the link is active afterwards. `actor`: the administrator on their page (None: the
    command line)."""
    if actor is not None:
        _require_administrator(actor)
    cap_minutes, reason = _cap(cap_minutes), _reason(reason, required=False)
    if first.id == second.id:
        raise LinkError(_l("A neighbourhood cannot be linked to itself."), "other")
    take_write_lock(db.session)
    link = link_between(first.id, second.id)
    if link is None:
        link = CommunityLink(
            proposer_id=first.id,
            accepter_id=second.id,
            pair=CommunityLink.pair_of(first.id, second.id),
            state="ended",
            proposal_reason=reason,
        )
        db.session.add(link)
    else:
        link = _locked(link)
    link.cap_minutes, link.see_posts = cap_minutes, bool(see_posts)
    db.session.flush()
    ledger.open_clearing(link)
    return _changed(
        link, "community.link_set", "active", None, actor, reason, cap_minutes=cap_minutes, see_posts=bool(see_posts)
    )
