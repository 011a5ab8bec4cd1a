"""Links between communities and clearing accounts: what the database itself refuses."""

import pytest
import sqlalchemy as sa

from timebank.communities.models import CommunityLink
from timebank.extensions import db
from timebank.ledger.models import Account

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def two(make_community):
    return make_community("noord", "Noord"), make_community("zuid", "Zuid")


def link(first, second, **fields):
    return CommunityLink(
        proposer_id=first.id,
        accepter_id=second.id,
        pair=CommunityLink.pair_of(first.id, second.id),
        cap_minutes=600,
        **fields,
    )


def refused(*rows) -> bool:
    db.session.add_all(rows)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return True
    db.session.rollback()
    return False


def test_one_link_per_pair_of_communities_whoever_proposed(two):
    north, south = two
    db.session.add(link(north, south))
    db.session.commit()
    assert refused(link(south, north))
    assert refused(link(north, north))
    assert refused(CommunityLink(proposer_id=north.id, accepter_id=south.id, pair="x", cap_minutes=0))


def test_one_clearing_account_per_community_per_linked_community_and_never_a_members(two, make_member):
    north, south = two
    clearing = dict(community_id=north.id, kind="clearing", status="open", balance=0)
    db.session.add(Account(peer_community_id=south.id, **clearing))
    db.session.commit()
    assert refused(Account(peer_community_id=south.id, **clearing))
    assert refused(Account(**clearing))  # a clearing account names the community it clears with
    member = make_member("Fatima", community_id=north.id)
    assert refused(Account(peer_community_id=south.id, member_id=member.id, **clearing))
    assert refused(Account(community_id=north.id, kind="fund", status="open", balance=0, peer_community_id=south.id))
    assert not refused(Account(peer_community_id=north.id, **{**clearing, "community_id": south.id}))
