"""The administrator's page for links between communities: every link listed, one set up between
any two communities with its cap and whether posts are seen, paused, resumed and ended with a
reason, each change in both communities' audit logs under the administrator's name; nobody else
may do any of it."""

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.links import LinkForbidden, pause_link, resume_link, set_link
from timebank.communities.models import Community, CommunityLink
from timebank.extensions import db
from timebank.ledger import services as ledger

from .conftest import count, login

EN = {"Accept-Language": "en"}


@pytest.fixture
def three(make_community, make_member):
    """Noord, Zuid and West; Ada administers the installation (and lives in West); Els coordinates
    Noord, Fatima is a member there."""
    north, south, west = (
        make_community(slug, name) for slug, name in (("noord", "Noord"), ("zuid", "Zuid"), ("west", "West"))
    )
    people = {
        "Ada": make_member("Ada", community_id=west.id, is_admin=True),
        "Els": make_member("Els", role="coordinator", community_id=north.id),
        "Karim": make_member("Karim", role="coordinator", community_id=south.id),
        "Fatima": make_member("Fatima", community_id=north.id),
    }
    return (north, south, west), people


def the_link(app) -> CommunityLink:
    with app.app_context():
        link = db.session.scalar(sa.select(CommunityLink))
        db.session.expunge(link)
        return link


def audit(app, action: str) -> list[tuple]:
    with app.app_context():
        return [
            (event.community_id, event.actor_id, event.reason)
            for event in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))
        ]


def test_administrator_sets_up_pauses_resumes_and_ends_a_link(app, client, three):
    (north, south, _west), people = three
    ada = people["Ada"]
    login(client, ada)
    page = client.get("/admin/links", headers=EN)
    assert page.status_code == 200 and "No neighbourhoods trade with each other yet." in page.text
    answer = client.post(
        "/admin/links",
        data={"first": north.id, "second": south.id, "cap_hours": 5, "see_posts": "y", "reason": "Neighbours"},
        headers=EN,
    )
    assert answer.status_code == 302
    link = the_link(app)
    assert (link.state, link.cap_minutes, link.see_posts) == ("active", 300, True)
    with app.app_context():
        assert ledger.clearing_account(north.id, south.id).ceiling_override == 300
        assert ledger.clearing_account(south.id, north.id).floor_override == -300
    assert sorted(audit(app, "community.link_set")) == [
        (north.id, ada.id, "Neighbours"),
        (south.id, ada.id, "Neighbours"),
    ]
    listed = client.get("/admin/links", headers=EN).text
    assert "Noord – Zuid" in listed and "Cap: 5 hours." in listed and "Even: neither owes the other." in listed

    # Pause needs a reason; then an administrator's pause is lifted only by an administrator.
    assert client.post(f"/admin/links/{link.id}/pause", data={"reason": ""}).status_code == 302
    assert the_link(app).state == "active"
    client.post(f"/admin/links/{link.id}/pause", data={"reason": "Checking the books"})
    assert the_link(app).state == "paused"
    assert sorted(audit(app, "community.link_paused")) == [
        (north.id, ada.id, "Checking the books"),
        (south.id, ada.id, "Checking the books"),
    ]
    with app.app_context():
        with pytest.raises(LinkForbidden):
            resume_link(
                db.session.get(CommunityLink, link.id),
                actor=db.session.get(type(people["Els"]), people["Els"].id),
                reason="We want to go on",
            )
        db.session.rollback()
    client.post(f"/admin/links/{link.id}/resume", data={"reason": "Books are fine"})
    assert the_link(app).state == "active"
    # Changing the cap and posts on the same page; then ending it.
    client.post("/admin/links", data={"first": south.id, "second": north.id, "cap_hours": 2, "reason": ""})
    link = the_link(app)
    assert (link.state, link.cap_minutes, link.see_posts) == ("active", 120, False)
    client.post(f"/admin/links/{link.id}/end", data={"reason": "The project ended"})
    assert the_link(app).state == "ended"
    assert len(audit(app, "community.link_ended")) == 2


def test_a_neighbourhood_is_not_linked_to_itself_and_the_cap_is_checked(app, client, three):
    (north, _south, _west), people = three
    login(client, people["Ada"])
    same = client.post("/admin/links", data={"first": north.id, "second": north.id, "cap_hours": 5}, headers=EN)
    assert same.status_code == 422 and "A neighbourhood cannot be linked to itself." in same.text
    none = client.post("/admin/links", data={"first": north.id, "second": 9999, "cap_hours": 5}, headers=EN)
    assert none.status_code == 422
    with app.app_context():
        assert count(CommunityLink) == 0


@pytest.mark.parametrize("who", ["Els", "Karim", "Fatima"])
def test_nobody_but_an_administrator_manages_links(app, client, three, who):
    (north, south, _west), people = three
    with app.app_context():
        link = set_link(
            db.session.get(Community, north.id), db.session.get(Community, south.id), cap_minutes=60, see_posts=True
        )
        db.session.commit()
        link_id = link.id
    login(client, people[who])
    assert client.get("/admin/links").status_code == 403
    assert (
        client.post("/admin/links", data={"first": north.id, "second": south.id, "cap_hours": 500}).status_code == 403
    )
    for action in ("pause", "resume", "end"):
        assert client.post(f"/admin/links/{link_id}/{action}", data={"reason": "Mine now"}).status_code == 403
    link = the_link(app)
    assert (link.state, link.cap_minutes) == ("active", 60)
    # Nor through the services, posing as the administrator.
    with app.app_context():
        person = db.session.get(type(people[who]), people[who].id)
        with pytest.raises(LinkForbidden):
            pause_link(db.session.get(CommunityLink, link_id), actor=person, reason="x", as_administrator=True)
        db.session.rollback()
        with pytest.raises(LinkForbidden):
            set_link(
                db.session.get(Community, north.id),
                db.session.get(Community, south.id),
                cap_minutes=6000,
                see_posts=True,
                actor=person,
            )
        db.session.rollback()
    assert the_link(app).cap_minutes == 60


def test_logged_out_visitors_are_sent_to_log_in(client, three):
    assert client.get("/admin/links").status_code in (302, 401)
