"""Limits said before the work is done: proposing and accepting say how much fits between the two
balances, refuse more (nothing stored), and offer fewer minutes or a coordinator; the API too."""

import re

import pytest
import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.members.models import Member

from .conftest import count, login

EN = {"Accept-Language": "en"}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.text)


def gift(app, giver, receiver, minutes):
    with app.app_context():
        ledger.transfer(
            ledger.account_for(db.session.get(Member, giver.id)),
            ledger.account_for(db.session.get(Member, receiver.id)),
            minutes,
            kind="gift",
            actor=None,
        )
        db.session.commit()


@pytest.fixture
def jan_low(app, neighbours):
    """Jan has 6 hours 50 minutes left above his floor of −10 hours (he gave Wilma 3 h 10)."""
    gift(app, neighbours["Jan"], neighbours["Wilma"], 190)
    return neighbours


def test_proposal_form_says_how_much_fits(client, jan_low):
    login(client, jan_low["Jan"])
    page = text(client.get(f"/market/posts/{jan_low['offer'].id}", headers=EN))
    assert "You can pay for up to 6 hours 50 minutes of help now." in page
    assert "Between you and Fatima" not in page  # Jan's own room is what limits


def test_proposing_more_than_fits_is_refused_with_the_choices(app, client, jan_low):
    login(client, jan_low["Jan"])
    refused = client.post(f"/exchanges/respond/{jan_low['offer'].id}", data={"hours": "8"}, headers=EN)
    assert refused.status_code == 422
    page = text(refused)
    assert (
        "Your balance may not go lower: you can pay for at most 6 hours 50 minutes of help now. "
        "Propose 6 hours 50 minutes or less, or ask a coordinator for help first."
    ) in page
    assert 'value="8"' in page  # what was typed is kept
    with app.app_context():
        assert count(Exchange) == 0
    fits = client.post(f"/exchanges/respond/{jan_low['offer'].id}", data={"hours": "6", "minutes": "50"})
    assert fits.status_code == 302


def test_the_providers_ceiling_counts_too_and_is_said_without_her_figures(app, client, neighbours):
    """Fatima is 30 minutes below her ceiling of 40 hours: Jan hears that her balance allows 30 minutes."""
    fatima, wilma = neighbours["Fatima"], neighbours["Wilma"]
    with app.app_context():
        db.session.scalar(sa.select(Community)).ledger_floor = -3000
        db.session.commit()
    gift(app, wilma, fatima, 40 * 60 - 30)
    login(client, neighbours["Jan"])
    refused = client.post(f"/exchanges/respond/{neighbours['offer'].id}", data={"hours": "1"}, headers=EN)
    assert "The balance of Fatima allows at most 30 minutes now." in text(refused)
    assert "39 hours" not in text(refused)


def no_longer_fits(app, client, neighbours) -> int:
    """Jan proposes 2 hours for Fatima's offer, then gives most of his room away; Fatima is logged in."""
    login(client, neighbours["Jan"])
    client.post(f"/exchanges/respond/{neighbours['offer'].id}", data={"hours": "2"})
    gift(app, neighbours["Jan"], neighbours["Wilma"], 540)
    client.post("/logout")
    login(client, neighbours["Fatima"])
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Exchange.id))
    return exchange_id


def test_accepting_more_than_fits_is_refused_and_addressed_to_the_reader(app, client, neighbours):
    """Jan proposed 2 hours; before Fatima accepts, his balance fell. Fatima is told, in her words."""
    exchange_id = no_longer_fits(app, client, neighbours)
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Between you and Jan, at most 1 hour fits now." in page
    assert "2 hours is more than fits now" in page and "Ask a coordinator for help" in page
    refused = text(client.post(f"/exchanges/{exchange_id}/accept", headers=EN, follow_redirects=True))
    assert (
        "The balance of Jan allows at most 1 hour now. Decline and ask for a proposal of at most 1 hour, "
        "or ask a coordinator for help."
    ) in refused
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "proposed"
    dutch = client.post(f"/exchanges/{exchange_id}/accept", headers={"Accept-Language": "nl"}, follow_redirects=True)
    assert "Het saldo van Jan laat nu hoogstens 1 uur toe." in dutch.text


def test_the_api_proposal_respects_the_limits_too(app, client, callers, make_post):
    fatima, jan = callers["member"], callers["other_member"]
    post = make_post(jan.member, title="Ironing", minutes=60)
    gift(app, fatima.member, jan.member, 570)
    response = client.post("/api/v1/exchanges", json={"post_id": post.id, "minutes": 60}, headers=fatima.headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "limit_exceeded"
    assert "at most 30 minutes" in response.json["error"]["message"]
    assert response.json["error"]["fits"] == 30  # a client can offer the amount that would be accepted
    with app.app_context():
        assert count(Exchange) == 0
    assert (
        client.post("/api/v1/exchanges", json={"post_id": post.id, "minutes": 30}, headers=fatima.headers).status_code
        == 201
    )


def test_the_api_accept_says_what_still_fits(app, client, callers, make_post):
    """Fatima proposed 1 hour; then her balance fell to 20 minutes above her floor. Jan's accept is
    refused, nothing changes, and the error carries the 20 minutes that would still fit."""
    fatima, jan = callers["member"], callers["other_member"]
    post = make_post(jan.member, title="Ironing", minutes=60)
    proposed = client.post("/api/v1/exchanges", json={"post_id": post.id, "minutes": 60}, headers=fatima.headers)
    assert proposed.status_code == 201
    gift(app, fatima.member, jan.member, 580)
    refused = client.post(f"/api/v1/exchanges/{proposed.json['id']}/accept", headers=jan.headers)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "limit_exceeded" and refused.json["error"]["fits"] == 20
    with app.app_context():
        assert db.session.get(Exchange, proposed.json["id"]).state == "proposed"
    other = client.post("/api/v1/exchanges", json={"post_id": 10**6, "minutes": 30}, headers=fatima.headers)
    assert "fits" not in other.json["error"]  # only a refusal for room carries it
    body = client.get("/api/v1/openapi.json").json["components"]["schemas"]["ApiErrorBody"]["properties"]
    assert "limit_exceeded" in body["fits"]["description"]


# Group exchanges and paper slips check each side's room at the start too -----------------------


def group(client, people, role, hours):
    ids = "&".join(f"with={p.id}" for p in people)
    return client.post(
        f"/exchanges/group/new?{ids}", data={"role": role, "title": "Sewing lesson", "hours": hours}, headers=EN
    )


def test_a_lesson_names_the_pupil_whose_balance_is_too_low(app, client, jan_low):
    """Fatima teaches Jan and Wilma 7 hours each; Jan has 6 h 50 left above his floor."""
    login(client, jan_low["Fatima"])
    assert "You can be paid for up to 40 hours of help now." in text(client.get("/exchanges/group/new", headers=EN))
    refused = group(client, [jan_low["Jan"], jan_low["Wilma"]], "provider", "7")
    assert refused.status_code == 422
    assert (
        "The balance of Jan allows at most 6 hours 50 minutes now. Choose at most 6 hours 50 minutes for each "
        "person, or leave out whom it does not fit, or ask a coordinator for help first."
    ) in text(refused)
    assert "Wilma allows" not in text(refused)
    alone = group(client, [jan_low["Jan"]], "provider", "7")
    with app.app_context():
        assert count(Exchange) == 0
    assert alone.status_code == 422
    assert group(client, [jan_low["Jan"], jan_low["Wilma"]], "provider", "6").status_code == 302


def test_a_helping_hand_is_refused_when_the_organiser_cannot_pay_everyone(app, client, jan_low):
    """Jan asks Fatima and Wilma to help 4 hours each: 8 hours, more than his 6 h 50."""
    login(client, jan_low["Jan"])
    page = text(client.get("/exchanges/group/new", headers=EN))
    assert "You can pay for up to 6 hours 50 minutes of help now." in page
    refused = group(client, [jan_low["Fatima"], jan_low["Wilma"]], "receiver", "4")
    assert (
        "Your balance may not go lower: you can pay for at most 6 hours 50 minutes of help now. Choose at most "
        "3 hours 25 minutes for each person"
    ) in text(refused)
    with app.app_context():
        assert count(Exchange) == 0
    nl = client.post(
        f"/exchanges/group/new?with={jan_low['Fatima'].id}&with={jan_low['Wilma'].id}",
        data={"role": "receiver", "title": "Verhuizen", "hours": "4"},
        headers={"Accept-Language": "nl"},
    )
    assert "Jouw saldo mag niet lager" in nl.text or "Je saldo mag niet lager" in nl.text
    assert group(client, [jan_low["Fatima"], jan_low["Wilma"]], "receiver", "3").status_code == 302


def test_a_group_via_the_service_refuses_an_abuse_of_the_form(app, jan_low):
    """Straight to the service (as the API or a crafted form would): the same refusal, nothing made."""
    from timebank.exchanges import services
    from timebank.exchanges.room import NoRoom

    with app.app_context():
        fatima, jan, wilma = (db.session.get(Member, jan_low[n].id) for n in ("Fatima", "Jan", "Wilma"))
        with pytest.raises(NoRoom) as refused:
            services.create_group(fatima, "provider", "Lesson", 480, [jan, wilma, jan], actor=fatima)
        assert refused.value.fits == 410 and refused.value.field == "minutes"
        db.session.rollback()
        assert count(Exchange) == 0


def test_a_paper_slip_that_does_not_fit_is_refused_when_recorded(app, client, jan_low, make_member):
    """Karim records that Wilma helped Jan 8 hours: Jan can pay 6 h 50; nothing is recorded."""
    karim, jan, wilma = jan_low["Karim"], jan_low["Jan"], jan_low["Wilma"]
    login(client, karim)
    url = f"/exchanges/slip?provider={wilma.id}&receiver={jan.id}"
    page = text(client.get(url, headers=EN))
    assert "Between Jan and Wilma, at most 6 hours 50 minutes fits now." in page
    key = re.search(r'name="request_key" type="hidden" value="(\w+)"', page).group(1)
    refused = client.post(url, data={"title": "Painting", "hours": "8", "request_key": key}, headers=EN)
    assert refused.status_code == 422
    assert (
        "The balance of Jan allows at most 6 hours 50 minutes now. Record 6 hours 50 minutes or less, or give "
        "hours from the community fund first."
    ) in text(refused)
    with app.app_context():
        assert count(Exchange) == 0
    done = client.post(url, data={"title": "Painting", "hours": "6", "minutes": "50", "request_key": key})
    assert done.status_code == 302
    with app.app_context():
        assert count(Exchange) == 1


# Asking a coordinator when it does not fit --------------------------------------------------------


def test_a_proposal_that_does_not_fit_offers_to_ask_the_coordinators(app, client, jan_low):
    """Jan wants 8 hours of Fatima's help but can pay 6 h 50: one click tells Karim, the coordinator,
    what Jan wants and what fits; the notification leads Karim to Jan's page. Nothing is proposed."""
    from timebank.notifications.models import Notification

    jan, karim, offer = jan_low["Jan"], jan_low["Karim"], jan_low["offer"]
    login(client, jan)
    refused = text(client.post(f"/exchanges/respond/{offer.id}", data={"hours": "8"}, headers=EN))
    assert "Ask the coordinators about 8 hours" in refused
    assert f'href="/members/{karim.id}">Karim</a>' in refused  # or reach him yourself
    asked = client.post(f"/exchanges/respond/{offer.id}/ask", data={"hours": "8"}, headers=EN, follow_redirects=True)
    assert "The coordinators are asked to help." in asked.text
    again = client.post(f"/exchanges/respond/{offer.id}/ask", data={"hours": "8"}, headers=EN, follow_redirects=True)
    assert "This was done already." in again.text
    with app.app_context():
        (note,) = db.session.scalars(sa.select(Notification).where(Notification.kind == "room_help")).all()
        assert note.member_id == karim.id and note.actor_id == jan.id and count(Exchange) == 0
    client.post("/logout")
    login(client, karim)
    page = text(client.get("/notifications", headers=EN))
    assert (
        "Jan would like to exchange 8 hours for “Bike repair”, but only 6 hours 50 minutes fits between the "
        "balances now. They ask a coordinator for help."
    ) in page
    assert client.get(f"/notifications/{note.id}").headers["Location"].endswith(f"/coordinate/members/{jan.id}")


def test_asking_about_what_fits_or_a_post_out_of_sight_is_refused(
    app, client, jan_low, make_community, make_member, make_post
):
    """No message to coordinators for minutes that fit (nothing to help with), nor about a post the
    member cannot see (another neighbourhood's)."""
    from timebank.notifications.models import Notification

    login(client, jan_low["Jan"])
    fits = client.post(
        f"/exchanges/respond/{jan_low['offer'].id}/ask", data={"hours": "1"}, headers=EN, follow_redirects=True
    )
    assert "This fits between both balances now: you can propose it." in fits.text
    elsewhere = make_community("noord", "Noord")
    olga = make_member("Olga", community_id=elsewhere.id)
    post = make_post(olga, title="Soup", minutes=600)
    assert client.post(f"/exchanges/respond/{post.id}/ask", data={"hours": "10"}).status_code == 404
    with app.app_context():
        assert count(Notification) == 0


def test_the_post_page_offers_to_ask_when_its_time_does_not_fit(client, jan_low, make_post):
    """Jan has 6 h 50 left: Fatima's offer of 8 hours, which Jan would pay, shows him the way to a
    coordinator before he tries; her bike repair of 1 h 30 does not."""
    post = make_post(jan_low["Fatima"], title="Painting the hall", minutes=480)
    login(client, jan_low["Jan"])
    assert "Ask the coordinators about 8 hours" in text(client.get(f"/market/posts/{post.id}", headers=EN))
    assert "Ask the coordinators" not in text(client.get(f"/market/posts/{jan_low['offer'].id}", headers=EN))


def test_a_proposal_that_no_longer_fits_can_ask_for_help_before_accepting(app, client, neighbours):
    exchange_id = no_longer_fits(app, client, neighbours)
    asked = client.post(f"/exchanges/{exchange_id}/help", headers=EN, follow_redirects=True)
    assert "The coordinators are asked to help." in asked.text
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).help_requested_at is not None
