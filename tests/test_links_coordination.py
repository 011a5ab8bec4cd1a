"""Making, pausing and ending links between communities: an administrator at the command line,
and each community's coordinators on their page, for their own community only."""

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.links import (
    LinkError,
    LinkForbidden,
    accept_link,
    end_link,
    linked_community_ids,
    links_of,
    pause_link,
    propose_link,
    resume_link,
)
from timebank.communities.models import Community, CommunityLink
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .conftest import count, login

EN = {"Accept-Language": "en"}


@pytest.fixture
def three(make_community, make_member):
    """Noord, Zuid and West, each with a coordinator; Noord also a plain member."""
    north, south, west = (
        make_community(slug, name) for slug, name in (("noord", "Noord"), ("zuid", "Zuid"), ("west", "West"))
    )
    people = {
        "Els": make_member("Els", role="coordinator", community_id=north.id),
        "Karim": make_member("Karim", role="coordinator", community_id=south.id),
        "Piet": make_member("Piet", role="coordinator", community_id=west.id),
        "Fatima": make_member("Fatima", community_id=north.id),
    }
    return (north, south, west), people


def get(model, instance):
    return db.session.get(model, instance.id)


def test_administrator_links_and_unlinks_from_the_command_line(app, runner, three):
    (north, south, _west), _people = three
    result = runner.invoke(args=["communities", "link", "noord", "zuid", "--cap", "600", "--no-posts"])
    assert result.exit_code == 0, result.output
    assert "a cap of 600 minutes" in result.output
    with app.app_context():
        link = db.session.scalar(sa.select(CommunityLink))
        assert (link.state, link.cap_minutes, link.see_posts) == ("active", 600, False)
        assert (
            ledger.clearing_account(north.id, south.id).ceiling_override,
            ledger.clearing_account(south.id, north.id).floor_override,
        ) == (600, -600)
    # Linking again changes the cap on both clearing accounts.
    assert runner.invoke(args=["communities", "link", "zuid", "noord", "--cap", "120"]).exit_code == 0
    with app.app_context():
        assert ledger.clearing_account(north.id, south.id).floor_override == -120 and verify().ok
    for args, said in (
        (["communities", "link", "noord", "noord", "--cap", "60"], "cannot be linked to itself"),
        (["communities", "link", "noord", "nergens", "--cap", "60"], "no community 'nergens'"),
        (["communities", "link", "noord", "zuid", "--cap", "0"], "cap must be"),
        (["communities", "unlink", "noord", "zuid", "--reason", " "], "write down why"),
        (["communities", "unlink", "noord", "west", "--reason", "x"], "are not linked"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and said in result.output, (args, result.output)
    result = runner.invoke(args=["communities", "unlink", "noord", "zuid", "--reason", "The project ended"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        link = db.session.scalar(sa.select(CommunityLink))
        assert (link.state, link.state_reason, link.cap_minutes) == ("ended", "The project ended", 120)
        # Both communities' audit logs say it.
        assert sorted(
            db.session.scalars(sa.select(AuditEvent.community_id).where(AuditEvent.action == "community.link_ended"))
        ) == sorted([north.id, south.id])


@pytest.mark.usefixtures("ctx")
def test_one_proposes_the_other_accepts_either_pauses_the_pauser_resumes(three):
    (north, south, _west), people = three
    els, karim = get(Member, people["Els"]), get(Member, people["Karim"])
    link = propose_link(
        get(Community, north), "zuid", actor=els, cap_minutes=300, see_posts=True, reason="Neighbours across the canal"
    )
    db.session.commit()
    assert link.state == "proposed" and ledger.clearing_account(north.id, south.id) is None
    with pytest.raises(LinkForbidden):
        accept_link(link, actor=els)  # the proposer cannot accept their own proposal
    db.session.rollback()
    accept_link(link, actor=karim, reason="Gladly")
    db.session.commit()
    assert link.state == "active" and ledger.clearing_account(south.id, north.id).floor_override == -300
    pause_link(link, actor=karim, reason="Too many disputes this month")
    db.session.commit()
    with pytest.raises(LinkForbidden):
        resume_link(link, actor=els, reason="We want to go on")
    db.session.rollback()
    resume_link(link, actor=karim, reason="Sorted out")
    end_link(link, actor=els, reason="Moving on")
    db.session.commit()
    assert (link.state, link.state_reason, link.changed_by_id) == ("ended", "Moving on", north.id)
    # An ended link can be proposed again, by either side.
    again = propose_link(get(Community, south), "noord", actor=karim, cap_minutes=60, see_posts=False, reason="Again")
    db.session.commit()
    assert (again.id, again.proposer_id, again.state) == (link.id, south.id, "proposed")
    assert count(CommunityLink) == 1 and verify().ok


@pytest.mark.usefixtures("ctx", "english")
def test_bad_proposals_are_refused_and_change_nothing(three):
    (north, south, _west), people = three
    els = get(Member, people["Els"])
    fatima = get(Member, people["Fatima"])
    for actor, other, cap, reason, field in (
        (els, "noord", 60, "x", "other"),
        (els, "nergens", 60, "x", "other"),
        (els, "zuid", 0, "x", "cap_minutes"),
        (els, "zuid", 60, " ", "reason"),
        (els, "zuid", "60", "x", "cap_minutes"),
        (els, "zuid", True, "x", "cap_minutes"),
        (els, "zuid", 600_001, "x", "cap_minutes"),
        (els, "zuid", 60, "x" * 501, "reason"),
        (els, "zuid", 60, "\x00 ", "reason"),
    ):
        with pytest.raises(LinkError) as refused:
            propose_link(get(Community, north), other, actor=actor, cap_minutes=cap, see_posts=True, reason=reason)
        assert refused.value.field == field, (other, cap, reason)
        db.session.rollback()
    with pytest.raises(LinkForbidden):  # a member who is not a coordinator
        propose_link(get(Community, north), "zuid", actor=fatima, cap_minutes=60, see_posts=True, reason="x")
    db.session.rollback()
    propose_link(get(Community, north), "zuid", actor=els, cap_minutes=60, see_posts=True, reason="x")
    db.session.commit()
    with pytest.raises(LinkError, match="linked already"):
        propose_link(get(Community, north), "zuid", actor=els, cap_minutes=90, see_posts=True, reason="x")
    db.session.rollback()
    assert count(CommunityLink) == 1 and db.session.scalar(sa.select(CommunityLink.cap_minutes)) == 60


def test_coordinator_page_proposes_and_the_other_coordinator_accepts(app, client, three):
    (north, south, _west), people = three
    login(client, people["Els"])
    page = client.get("/coordinate/links", headers=EN)
    assert page.status_code == 200 and "trades with no other neighbourhood" in page.text
    refused = client.post("/coordinate/links", data={"other": "zuid", "cap_hours": "", "reason": "Canal"})
    assert refused.status_code == 422
    refused = client.post(
        "/coordinate/links", data={"other": "zuid", "cap_hours": "20000", "reason": "Canal"}, headers=EN
    )
    assert refused.status_code == 422 and "The cap must be above zero and at most 10,000 hours." in refused.text
    sent = client.post(
        "/coordinate/links",
        data={"other": "zuid", "cap_hours": "5", "see_posts": "y", "reason": "Neighbours across the canal"},
    )
    assert sent.status_code == 302
    with app.app_context():
        link_id = db.session.scalar(sa.select(CommunityLink.id))
    # Els cannot accept her own proposal through the page either.
    client.post(f"/coordinate/links/{link_id}/accept", data={"reason": ""})
    client.post("/logout")
    login(client, people["Karim"])
    page = client.get("/coordinate/links", headers=EN)
    assert "They propose to trade with you." in page.text and "Neighbours across the canal" in page.text
    assert client.post(f"/coordinate/links/{link_id}/accept", data={"reason": "Gladly"}).status_code == 302
    with app.app_context():
        link = db.session.get(CommunityLink, link_id)
        assert (link.state, link.cap_minutes) == ("active", 300)


def test_a_coordinator_cannot_touch_other_communities_links(app, client, three):
    (north, south, west), people = three
    with app.app_context():
        link = propose_link(
            get(Community, north), "zuid", actor=get(Member, people["Els"]), cap_minutes=60, see_posts=True, reason="x"
        )
        db.session.commit()
        link_id = link.id
    login(client, people["Piet"])  # West's coordinator
    for action in ("accept", "pause", "end", "resume"):
        assert client.post(f"/coordinate/links/{link_id}/{action}", data={"reason": "mine now"}).status_code == 404
    assert "Noord" not in client.get("/coordinate/links", headers=EN).text
    client.post("/logout")
    login(client, people["Fatima"])  # a member of Noord, not a coordinator
    assert client.post(f"/coordinate/links/{link_id}/end", data={"reason": "no"}).status_code == 403
    assert client.get("/coordinate/links", headers=EN).status_code == 403
    with app.app_context():
        assert db.session.get(CommunityLink, link_id).state == "proposed"
        with pytest.raises(LinkForbidden):
            end_link(db.session.get(CommunityLink, link_id), actor=get(Member, people["Piet"]), reason="x")


def test_a_reason_is_required_to_pause_and_the_page_says_so(app, client, three):
    (north, south, _west), people = three
    with app.app_context():
        link = propose_link(
            get(Community, north), "zuid", actor=get(Member, people["Els"]), cap_minutes=60, see_posts=True, reason="x"
        )
        accept_link(link, actor=get(Member, people["Karim"]))
        db.session.commit()
        link_id = link.id
    login(client, people["Karim"])
    page = client.post(f"/coordinate/links/{link_id}/pause", data={"reason": "  "}, follow_redirects=True, headers=EN)
    assert "Please write down why." in page.text
    with app.app_context():
        assert db.session.get(CommunityLink, link_id).state == "active"


def link_events() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action.like("community.link_%"))
    )


@pytest.mark.usefixtures("ctx", "english")
def test_no_step_of_a_link_can_be_skipped_or_taken_twice(three):
    """Accepting, pausing and resuming each start from one state only: the side that was asked cannot
    bring a withdrawn proposal or a link the other side paused back to life by "accepting" it, nor
    resume a link that was ended; and ending twice is said to be done, and logged once."""
    (north, south, west), people = three
    els, karim, piet = (get(Member, people[name]) for name in ("Els", "Karim", "Piet"))
    link = propose_link(get(Community, north), "zuid", actor=els, cap_minutes=60, see_posts=False, reason="Canal")
    db.session.commit()

    def refused(step, message, **reason):
        events = link_events()
        with pytest.raises(LinkError, match=message):
            step(link, actor=karim, **reason)
        db.session.rollback()
        assert link_events() == events

    refused(pause_link, "Only a link in use can be paused", reason="x")
    refused(resume_link, "Only a paused link can go on again", reason="x")
    accept_link(link, actor=karim)
    db.session.commit()
    assert (link.state, link.see_posts) == ("active", False)  # as proposed
    refused(accept_link, "answered already")
    pause_link(link, actor=els, reason="Too many disputes")
    db.session.commit()
    refused(accept_link, "answered already")
    refused(pause_link, "Only a link in use can be paused", reason="x")
    assert link.state == "paused"
    resume_link(link, actor=els, reason="Sorted out")
    end_link(link, actor=els, reason="The project ended")
    db.session.commit()
    refused(accept_link, "answered already")
    refused(resume_link, "Only a paused link", reason="x")
    refused(pause_link, "Only a link in use can be paused", reason="x")
    refused(end_link, "has ended already", reason="x")
    assert link.state == "ended" and linked_community_ids(north.id) == []

    # Linked again, and asked by a third: the page lists what waits for an answer first.
    accept_link(
        propose_link(get(Community, south), "noord", actor=karim, cap_minutes=60, see_posts=True, reason="Again"),
        actor=els,
    )
    propose_link(get(Community, west), "noord", actor=piet, cap_minutes=60, see_posts=True, reason="Market day")
    db.session.commit()
    assert [(one.proposer_id, one.state) for one in links_of(north.id)] == [(west.id, "proposed"), (south.id, "active")]


@pytest.mark.usefixtures("ctx", "english")
def test_a_pause_by_an_administrator_is_lifted_by_an_administrator_only(three, make_member):
    (north, south, _west), people = three
    ada = get(Member, make_member("Ada", community_id=north.id, is_admin=True))
    link = propose_link(
        get(Community, north), "zuid", actor=get(Member, people["Els"]), cap_minutes=60, see_posts=True, reason="x"
    )
    accept_link(link, actor=get(Member, people["Karim"]))
    pause_link(link, actor=ada, reason="Checking the books", as_administrator=True)
    db.session.commit()
    for coordinator in ("Els", "Karim"):
        with pytest.raises(LinkForbidden, match="An administrator paused this link"):
            resume_link(link, actor=get(Member, people[coordinator]), reason="We want to go on")
        db.session.rollback()
    assert link.state == "paused"
    resume_link(link, actor=ada, reason="All in order", as_administrator=True)
    db.session.commit()
    assert link.state == "active"
