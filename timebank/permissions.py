"""Named permission predicates, used alike by views, the API and templates.

A coordinator's powers end at the border of their own community; the instance administrator
manages communities and appoints coordinators."""

import sqlalchemy as sa

from timebank.communities.models import CommunityLink
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation.blocks import is_blocked_between


def is_member_of(member: Member | None, community_id: int) -> bool:
    return bool(member and member.is_authenticated and member.is_active and member.community_id == community_id)


def can_coordinate(member: Member | None, community_id: int) -> bool:
    """Approve members, moderate, act for assisted members: only in one's own community."""
    return is_member_of(member, community_id) and member.role == "coordinator"


def can_administer(member: Member | None) -> bool:
    """Create communities and appoint coordinators."""
    return bool(member and member.is_authenticated and member.is_active and member.is_admin)


def can_act_for(actor: Member | None, member: Member) -> bool:
    """Do something in `member`'s name: themselves, or a coordinator of their community."""
    if actor is None or not actor.is_authenticated:
        return False
    return actor.id == member.id or can_coordinate(actor, member.community_id)


def _shown_to(viewer: Member | None, member: Member, audience: str) -> bool:
    """Privacy by default: the member themself and their coordinators always; the neighbours only
    if the member chose "community"."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if viewer.id == member.id or can_coordinate(viewer, member.community_id):
        return True
    return audience == "community" and is_member_of(viewer, member.community_id)


def can_see_email(viewer: Member | None, member: Member) -> bool:
    return bool(member.email) and _shown_to(viewer, member, member.show_email_to)


def can_see_phone(viewer: Member | None, member: Member) -> bool:
    return bool(member.phone) and _shown_to(viewer, member, member.show_phone_to)


def can_see_balance(viewer: Member | None, member: Member) -> bool:
    return _shown_to(viewer, member, member.show_balance_to)


def rank(member: Member) -> int:
    """Powers over a member stop at one's own rank: 0 member, 1 coordinator, 2 administrator."""
    return 2 if member.is_admin else 1 if member.role == "coordinator" else 0


def outranks(actor: Member | None, member: Member) -> bool:
    return bool(actor and actor.is_authenticated and actor.id != member.id and rank(actor) > rank(member))


def can_manage_member(actor: Member | None, member: Member) -> bool:
    """Suspend, let back in, erase: coordinators of the member's community act on members,
    administrators on coordinators too; nobody on themself or on someone of their own rank."""
    return outranks(actor, member) and (can_coordinate(actor, member.community_id) or can_administer(actor))


def can_manage_post(member: Member | None, post) -> bool:
    """Edit, pause, close or renew a post: its owner. A coordinator acting for an assisted member
    passes `acting_member()`, which is then that member."""
    return is_member_of(member, post.community_id) and member.id == post.owner_id


def shares_posts(community_id: int, other_id: int) -> bool:
    """Whether members of one community see the other's posts: an active link that shows them."""
    if community_id == other_id:
        return True
    return (
        db.session.scalar(
            sa.select(sa.func.count(CommunityLink.id)).where(
                CommunityLink.pair == CommunityLink.pair_of(community_id, other_id),
                CommunityLink.state == "active",
                CommunityLink.see_posts.is_(True),
            )
        )
        > 0
    )


def can_see_post(viewer: Member | None, post, acting: Member | None = None) -> bool:
    """A post of the reader's community, or one in the market of a community linked with it that
    shows its posts; one a coordinator took down only for its owner (or a coordinator acting for the
    owner, `acting`) and the coordinators; none to a member who blocked its owner or was blocked by
    them."""
    if not is_member_of(viewer, post.community_id):
        # A linked community's members see only what is in its market.
        return (
            viewer is not None
            and is_member_of(viewer, viewer.community_id)
            and post.state == "active"
            and shares_posts(viewer.community_id, post.community_id)
            and not is_blocked_between((acting or viewer).id, post.owner_id)
        )
    if can_manage_post(acting or viewer, post) or can_moderate_post(viewer, post):
        return True
    return not post.is_moderated and not is_blocked_between((acting or viewer).id, post.owner_id)


def can_moderate_post(member: Member | None, post) -> bool:
    """Close anyone's post with a reason: the coordinators of its community."""
    return can_coordinate(member, post.community_id)


def coordinates_a_side(viewer: Member | None, exchange) -> bool:
    """A coordinator of the exchange's community, or (across a link) of a participant's community."""
    return can_coordinate(viewer, exchange.community_id) or any(
        can_coordinate(viewer, participant.member.community_id) for participant in exchange.participants
    )


def can_see_exchange(viewer: Member | None, exchange, acting: Member | None = None) -> bool:
    """An exchange's page: its participants (or a coordinator acting for one, `acting`) and the
    coordinators of its community; across a link, those of either community."""
    return exchange.participant(acting or viewer) is not None or coordinates_a_side(viewer, exchange)


def can_read_thread(viewer: Member | None, exchange, acting: Member | None = None) -> bool:
    """An exchange's conversation: the participants (a coordinator acting for one of them too);
    other coordinators of the community (across a link: of either community) only while it is in
    dispute."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if exchange.participant(viewer) is not None:
        return True
    if acting is not None and exchange.participant(acting) is not None and can_act_for(viewer, acting):
        return True
    return exchange.state == "disputed" and coordinates_a_side(viewer, exchange)


def can_view_statement(viewer: Member | None, member: Member) -> bool:
    """A member's balance and statement: the member, and the coordinators of their community."""
    if viewer is None or not viewer.is_authenticated or not viewer.is_active:
        return False
    return viewer.id == member.id or can_coordinate(viewer, member.community_id)


def can_correct_ledger(actor: Member | None, community_id: int) -> bool:
    """Undo a transaction, let one go past a limit, change an account's limits or status, set the
    community's limits, warning and levy, and see the community fund: coordinators, in their own
    community."""
    return can_coordinate(actor, community_id)


def can_manage_account(actor: Member | None, member: Member) -> bool:
    """Give a member's account its own limits, pause or reopen it: a coordinator of the member's
    community, over members below their rank (never their own account)."""
    return can_correct_ledger(actor, member.community_id) and outranks(actor, member)


def register_permissions(app) -> None:
    """Make the predicates available in every template."""
    app.jinja_env.globals.update(
        is_member_of=is_member_of,
        can_coordinate=can_coordinate,
        can_administer=can_administer,
        can_act_for=can_act_for,
        can_see_email=can_see_email,
        can_see_phone=can_see_phone,
        can_see_balance=can_see_balance,
        can_manage_member=can_manage_member,
        can_manage_post=can_manage_post,
        can_moderate_post=can_moderate_post,
        can_see_post=can_see_post,
        can_see_exchange=can_see_exchange,
        can_read_thread=can_read_thread,
        can_view_statement=can_view_statement,
        can_correct_ledger=can_correct_ledger,
        can_manage_account=can_manage_account,
    )
