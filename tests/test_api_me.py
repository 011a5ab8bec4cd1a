"""Who is calling, their community's categories and signing out, for every role: each caller
sees only their own community, and a revoked token stops working for that caller alone."""

import pytest
import sqlalchemy as sa

from timebank.communities.models import Category
from timebank.db import utcnow
from timebank.extensions import db

from .api import ROLES

# Who each caller is: name, role, and the slug and name of their community.
WHO = {
    "member": ("Fatima", "member", "buurt", "Onze buurt"),
    "other_member": ("Jan", "member", "buurt", "Onze buurt"),
    "coordinator": ("Karim", "coordinator", "buurt", "Onze buurt"),
    "other_coordinator": ("Olga", "coordinator", "noord", "Noord"),
}


@pytest.mark.parametrize("role", ROLES)
def test_me_is_the_caller_in_their_own_community(client, callers, role):
    caller = callers[role]
    response = client.get("/api/v1/me", headers=caller.headers)
    if caller.member is None:
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
        return
    name, member_role, slug, community_name = WHO[role]
    assert response.status_code == 200
    assert response.json == {
        "id": caller.member.id,
        "name": name,
        "role": member_role,
        "locale": None,
        "community": {"id": caller.member.community_id, "slug": slug, "name": community_name},
    }


@pytest.fixture
def beekeeping(app, community):
    """A category only this community has."""
    with app.app_context():
        db.session.add(
            Category(community_id=community.id, key="bees", names={"en": "Beekeeping", "nl": "Imkeren"}, position=99)
        )
        db.session.commit()


@pytest.mark.parametrize("role", ROLES)
def test_categories_are_those_of_the_callers_own_community(app, client, callers, beekeeping, role):
    caller = callers[role]
    response = client.get("/api/v1/categories?per_page=100", headers=caller.headers)
    if caller.member is None:
        assert response.status_code == 401
        return
    with app.app_context():
        own = db.session.scalars(
            sa.select(Category.id).where(Category.community_id == caller.member.community_id)
        ).all()
    assert response.status_code == 200
    assert sorted(item["id"] for item in response.json["items"]) == sorted(own)
    has_bees = "Beekeeping" in [item["name"] for item in response.json["items"]]
    assert has_bees is (role != "other_coordinator")


def test_a_retired_category_elsewhere_stays_elsewhere(app, client, callers):
    with app.app_context():
        theirs = db.session.scalar(
            sa.select(Category).where(
                Category.community_id == callers["other_coordinator"].member.community_id, Category.key == "cooking"
            )
        )
        theirs.retired_at = utcnow()
        db.session.commit()
    for role in ("member", "coordinator"):
        items = client.get("/api/v1/categories?per_page=100", headers=callers[role].headers).json["items"]
        assert not any(item["retired"] for item in items)
    items = client.get("/api/v1/categories?per_page=100", headers=callers["other_coordinator"].headers).json["items"]
    assert [item["key"] for item in items if item["retired"]] == ["cooking"] and items[-1]["key"] == "cooking"


@pytest.mark.parametrize("role", ROLES)
def test_signing_out_ends_that_callers_token_only(client, callers, role):
    response = client.delete("/api/v1/tokens/current", headers=callers[role].headers)
    if callers[role].member is None:
        assert response.status_code == 401
    else:
        assert response.status_code == 204 and response.data == b""
        assert client.get("/api/v1/me", headers=callers[role].headers).status_code == 401
        assert client.delete("/api/v1/tokens/current", headers=callers[role].headers).status_code == 401
    for other in ROLES:
        if other != role and callers[other].member is not None:
            assert client.get("/api/v1/me", headers=callers[other].headers).status_code == 200, other
