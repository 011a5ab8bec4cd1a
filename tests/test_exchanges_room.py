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


def test_accepting_more_than_fits_is_refused_and_addressed_to_the_reader(app, client, neighbours):
    """Jan proposed 2 hours; before Fatima accepts, his balance fell. Fatima is told, in her words."""
    login(client, neighbours["Jan"])
    client.post(f"/exchanges/respond/{neighbours['offer'].id}", data={"hours": "2"})
    gift(app, neighbours["Jan"], neighbours["Wilma"], 540)
    client.post("/logout")
    login(client, neighbours["Fatima"])
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Exchange.id))
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
