"""The offers a request shows: same area first, then the newest, at most five, never the
requester's own, whatever the database's order of work."""

import pytest

from timebank.communities.models import Area
from timebank.extensions import db
from timebank.market.finding import matching_offers

pytestmark = pytest.mark.usefixtures("ctx")


def test_offers_from_the_same_area_come_first_then_the_newest(community, make_member, make_post):
    north, south = Area(community_id=community.id, name="Noord"), Area(community_id=community.id, name="Zuid")
    db.session.add_all([north, south])
    db.session.commit()
    asker, helper = make_member("Asker"), make_member("Helper")
    old_north = make_post(helper, "Old bike help in Noord", category_key="bikes", area_id=north.id)
    south_offers = [
        make_post(helper, f"Bike help in Zuid {i}", category_key="bikes", area_id=south.id) for i in range(3)
    ]
    nowhere = make_post(helper, "Bike help anywhere", category_key="bikes")
    new_north = make_post(helper, "New bike help in Noord", category_key="bikes", area_id=north.id)
    make_post(asker, "My own bike offer", category_key="bikes", area_id=north.id)
    make_post(helper, "Soup in Noord", category_key="cooking", area_id=north.id)
    request = make_post(asker, "Flat tyre", kind="request", category_key="bikes", area_id=north.id)

    found = [post.title for post in matching_offers(request)]

    assert found == [new_north.title, old_north.title, nowhere.title, south_offers[2].title, south_offers[1].title]


def test_a_request_without_an_area_gets_the_newest_offers(community, make_member, make_post):
    asker, helper = make_member("Asker"), make_member("Helper")
    offers = [make_post(helper, f"Bike help {i}", category_key="bikes") for i in range(7)]
    request = make_post(asker, "Flat tyre", kind="request", category_key="bikes")

    assert [post.id for post in matching_offers(request)] == [post.id for post in offers[:1:-1]]
