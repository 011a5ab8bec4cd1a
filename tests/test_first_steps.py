"""A newcomer's first visit: a first-steps card that goes when the steps are done or put away, and
a page that says how hours work with the neighbourhood's own rules."""

import pytest
import sqlalchemy as sa

from timebank.exchanges import services as exchanges
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements

EN = {"Accept-Language": "en"}
CARD = "Welcome! Your first steps"


def test_the_card_shows_three_steps_and_goes_when_they_are_done(app, client, make_member, make_post):
    newcomer = make_member("Ayşe")
    neighbour = make_member("Jan")
    asked = make_post(neighbour, title="Help with my printer", kind="request")
    login(client, newcomer)
    home = client.get("/", headers=EN).text
    assert CARD in home and "3 steps to go." in home
    assert "Offer something you like to do" in home and "Look at what your neighbours ask" in home

    make_post(newcomer, title="I bake bread", kind="offer")
    assert "2 steps to go." in client.get("/", headers=EN).text
    with app.app_context():
        exchanges.propose(
            db.session.get(Post, asked.id),
            db.session.get(Member, newcomer.id),
            60,
            actor=db.session.get(Member, newcomer.id),
        )
        db.session.commit()
    assert "1 step to go." in client.get("/", headers=EN).text

    page = client.get("/hours", headers=EN).text
    assert "I understand" in page
    client.post("/hours/understood")
    assert CARD not in client.get("/", headers=EN).text
    assert "I understand" not in client.get("/hours", headers=EN).text


def test_putting_the_card_away_keeps_it_away(app, client, make_member):
    newcomer = make_member("Ayşe")
    login(client, newcomer)
    assert CARD in client.get("/", headers=EN).text
    client.post("/welcome/away")
    assert CARD not in client.get("/", headers=EN).text
    client.post("/logout")
    login(client, newcomer)
    assert CARD not in client.get("/", headers=EN).text
    with app.app_context():
        assert db.session.get(Member, newcomer.id).first_steps == {"dismissed": True}


def test_the_card_is_mine_alone_and_never_shown_while_acting_for_someone(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    resident = make_member("Mien", assisted=True, email=None)
    login(client, coordinator)
    client.post("/welcome/away")
    with app.app_context():
        assert db.session.get(Member, resident.id).first_steps == {}  # hers untouched
    client.post(f"/coordinate/members/{resident.id}/act")
    assert CARD not in client.get("/", headers=EN).text
    client.post("/hours/understood")  # acts on the coordinator's own card, not hers
    with app.app_context():
        assert db.session.get(Member, resident.id).first_steps == {}


def test_how_hours_work_uses_the_neighbourhoods_own_rules_for_visitors_too(client, community):
    page = client.get("/hours", headers=EN).text
    assert "One hour of help is one hour" in page
    assert "down to minus 10 hours" in page and "save up to 40 hours" in page
    assert "within 14 days" in page and "25% above the time you agreed" in page
    assert "I understand" not in page  # nothing to mark for a visitor
    dutch = client.get("/hours", headers={"Accept-Language": "nl"}).text
    assert "One hour of help" not in dutch


def test_first_steps_need_a_login_and_a_form_token(client, community):
    assert client.post("/hours/understood").status_code == 302
    assert client.post("/welcome/away").status_code == 302
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from statistics")
def test_the_card_looks_at_the_newcomers_own_exchanges_not_the_whole_neighbourhoods(app, client, make_member):
    """Whether a newcomer answered a neighbour was looked up among all exchanges, on every visit to
    the home page: 6 ms with the large demo's 45,000 exchanges, for exactly the members who have none."""
    login(client, make_member("Ayşe"))
    with statements(app, with_parameters=True) as sent:
        assert CARD in client.get("/", headers=EN).text
    with app.app_context():
        plan = sqlite_plan(sent, "proposer_id =")
    assert "ix_exchange_participants_member_exchange (member_id=?)" in plan and "SCAN exchanges" not in plan
