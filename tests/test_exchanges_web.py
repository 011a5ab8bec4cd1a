"""Exchange pages as residents use them: respond on the post page, follow the next step, double
submits that settle once, limit refusals explained, the conversation, thank-you notes on the
profile, notifications, and the coordinators' pages."""

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from timebank.communities.models import Area
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.members.models import Member
from timebank.notifications.models import Notification

from .conftest import count, login

EN = {"Accept-Language": "en"}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.text)


def as_member(client, member):
    client.post("/logout")
    login(client, member)


def test_respond_accept_record_confirm_through_the_pages(app, client, neighbours):
    offer, fatima, jan = neighbours["offer"], neighbours["Fatima"], neighbours["Jan"]
    login(client, jan)
    post_page = text(client.get(f"/market/posts/{offer.id}", headers=EN))
    assert "Ask Fatima for this" in post_page and 'name="hours" type="text" value="1"' in post_page
    response = client.post(
        f"/exchanges/respond/{offer.id}", data={"hours": "1", "minutes": "45", "message": "Saturday?"}, headers=EN
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"], headers=EN))
    assert "You proposed 1 hour 45 minutes to Fatima." in page and "Fatima has until " in page
    assert "Saturday?" in page
    assert "You responded already." in text(client.get(f"/market/posts/{offer.id}", headers=EN))
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Exchange.id))

    as_member(client, fatima)
    home = text(client.get("/", headers=EN))
    assert "Your turn" in home and "Jan proposes 1 hour 45 minutes." in home
    assert re.search(r"Notifications <span class=\"nav-count\">1", home)
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Please accept or decline by " in page and "time recorded" not in page
    assert "nav-count" not in page  # opening the exchange read its notification
    client.post(f"/exchanges/{exchange_id}/accept")
    response = client.post(f"/exchanges/{exchange_id}/record", data={"hours": "2", "minutes": ""}, headers=EN)
    assert response.status_code == 302
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "You recorded 2 hours." in page and "If Jan does nothing, the hours move by themselves on" in page

    as_member(client, jan)
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Fatima recorded 2 hours.</strong></p> <p>Next: Please confirm, or change the time" in page
    assert '<span class="badge badge-state-accepted">time recorded</span>' in page
    assert "time recorded" in text(client.get("/exchanges", headers=EN))
    assert "tijd genoteerd" in client.get(f"/exchanges/{exchange_id}", headers={"Accept-Language": "nl"}).text
    # The confirm form sent twice (a double click, the back button and resubmit): one settlement.
    first = client.post(f"/exchanges/{exchange_id}/confirm", data={"hours": "2", "minutes": "0"}, headers=EN)
    second = client.post(f"/exchanges/{exchange_id}/confirm", data={"hours": "2", "minutes": "0"}, headers=EN)
    assert first.status_code == second.status_code == 302
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Confirmed: 2 hours went from your balance to Fatima." in page
    assert "This was done already. Nothing more was changed." in page
    assert "Done: 2 hours went from Jan to Fatima" in page
    with app.app_context():
        assert count(Transaction) == 1
        assert ledger.balance(ledger.account_for(db.session.get(Member, jan.id))) == -120

    client.post(f"/exchanges/{exchange_id}/thanks", data={"to": fatima.id, "text": "Like new!"})
    profile = text(client.get(f"/members/{fatima.id}", headers=EN))
    assert "“Like new!”" in profile and "Jan, after “Bike repair”" in profile
    mine = text(client.get("/exchanges", headers=EN))
    assert "Bike repair" in mine and "Your balance: −2 hours." in mine
    export = client.post("/settings/data/export.json").json
    assert [row["title"] for row in export["exchanges"] if row["record"] == "exchange"] == ["Bike repair"]
    assert {"record": "thank_you", "text": "Like new!"}.items() <= next(
        row for row in export["exchanges"] if row["record"] == "thank_you"
    ).items()
    assert any(row["kind"] == "recorded" for row in export["notifications"])


def test_limit_refusal_is_explained_and_nothing_moves(app, client, neighbours):
    """Jan's balance fell after Fatima accepted: the page warns before the work, and the refused
    confirmation speaks to Jan about his own balance."""
    offer, fatima, jan = neighbours["offer"], neighbours["Fatima"], neighbours["Jan"]
    login(client, jan)
    client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1"})
    as_member(client, fatima)
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Exchange.id))
    client.post(f"/exchanges/{exchange_id}/accept")
    with app.app_context():
        jan_db = db.session.get(Member, jan.id)
        ledger.transfer(
            ledger.account_for(jan_db),
            ledger.account_for(db.session.get(Member, neighbours["Wilma"].id)),
            570,
            kind="gift",
            actor=None,
        )
        db.session.commit()
    as_member(client, jan)
    before = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "You can pay for up to 30 minutes of help now." in before
    assert "1 hour is more than fits now: the hours would not move." in before
    assert "Agree on fewer minutes: at most 30 minutes." in before
    refused = client.post(f"/exchanges/{exchange_id}/confirm", data={"hours": "1"}, headers=EN)
    assert refused.status_code == 409
    page = text(refused)
    assert "The hours could not move" in page
    assert (
        "Your balance may not go below −10 hours. It is −9 hours 30 minutes now, so you can pay for at most "
        "30 minutes of help."
    ) in page and "the balance of Jan" not in page
    assert "Confirm fewer minutes: at most 30 minutes fits now." in page and "Ask a coordinator for help" in page
    assert "Let it go past the limit" not in page  # only coordinators may
    client.post(f"/exchanges/{exchange_id}/help")
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "accepted" and count(Transaction) == 1
        assert (
            db.session.scalar(sa.select(Notification.kind).where(Notification.member_id == neighbours["Karim"].id))
            == "help"
        )
    as_member(client, neighbours["Karim"])
    assert "A member asked for help to settle it." in text(client.get("/exchanges/coordinate", headers=EN))
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Give Jan hours from the community fund" in page and "Conversation" not in page  # not in dispute


def test_who_sees_what(app, client, neighbours):
    offer, fatima, jan, wilma, karim = (neighbours[k] for k in ("offer", "Fatima", "Jan", "Wilma", "Karim"))
    login(client, jan)
    client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1", "message": "Private words"})
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Exchange.id))
    as_member(client, wilma)
    assert client.get(f"/exchanges/{exchange_id}").status_code == 404
    assert client.post(f"/exchanges/{exchange_id}/accept").status_code == 404
    assert client.post(f"/exchanges/{exchange_id}/messages", data={"text": "hi"}).status_code == 404
    as_member(client, karim)
    assert "Private words" not in client.get(f"/exchanges/{exchange_id}").text
    as_member(client, fatima)
    client.post(f"/exchanges/{exchange_id}/accept")
    client.post(f"/exchanges/{exchange_id}/messages", data={"text": "See you then"})
    client.post(f"/exchanges/{exchange_id}/dispute", data={"reason": "He did not come"})
    as_member(client, karim)
    page = text(client.get(f"/exchanges/{exchange_id}", headers=EN))
    assert "Private words" in page and "See you then" in page and "Save my decision" in page
    response = client.post(
        f"/exchanges/{exchange_id}/resolve", data={"decision": "cancel", "reason": "Nothing happened"}, headers=EN
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Exchange, exchange_id).state == "cancelled"


def test_bad_input_on_the_pages_is_a_clear_error(app, client, neighbours, make_post):
    offer, fatima, jan = neighbours["offer"], neighbours["Fatima"], neighbours["Jan"]
    login(client, fatima)
    own = client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1"}, headers=EN)
    assert own.status_code == 422 and "This is your own post." in own.text
    as_member(client, jan)
    for data, words in [
        ({"hours": "0"}, "more than 0 minutes"),
        ({"hours": "9"}, "at most 8 hours"),
        ({"hours": "two"}, "whole number"),
    ]:
        response = client.post(f"/exchanges/respond/{offer.id}", data=data, headers=EN)
        assert response.status_code == 422 and words in response.text
    closed = make_post(fatima, title="Old", status="closed")
    response = client.post(f"/exchanges/respond/{closed.id}", data={"hours": "1"}, headers=EN)
    assert response.status_code == 422 and "no longer in the market" in response.text
    with app.app_context():
        assert count(Exchange) == 0


def test_give_hours_and_a_double_submitted_grant(app, client, neighbours):
    jan, fatima, karim = neighbours["Jan"], neighbours["Fatima"], neighbours["Karim"]
    login(client, jan)
    page = text(client.get(f"/exchanges/give?to={fatima.id}", headers=EN))
    key = re.search(r'name="request_key" type="hidden" value="(\w+)"', page).group(1)
    data = {"hours": "0", "minutes": "45", "memo": "Thanks", "request_key": key}
    assert client.post(f"/exchanges/give?to={fatima.id}", data=data).status_code == 302
    assert client.post(f"/exchanges/give?to={fatima.id}", data=data).status_code == 302
    search = text(client.get("/exchanges/give?q_to=fat", headers=EN))
    assert "Choose" in search and f"to={fatima.id}" in search
    as_member(client, karim)
    page = text(client.get(f"/exchanges/grant?to={jan.id}", headers=EN))
    key = re.search(r'name="request_key" type="hidden" value="(\w+)"', page).group(1)
    empty = client.post(
        f"/exchanges/grant?to={jan.id}", data={"hours": "1", "reason": "Winter", "request_key": key}, headers=EN
    )
    assert empty.status_code == 422 and "the community fund may not go below 0 minutes" in empty.text
    with app.app_context():
        assert count(Transaction) == 1
        assert ledger.balance(ledger.account_for(db.session.get(Member, fatima.id))) == 45


def test_the_picker_tells_neighbours_of_the_same_name_apart(app, client, neighbours, make_member, community):
    """Two active members called Fatima in the same part of the neighbourhood show the day each
    joined and a link to their profile; a Fatima elsewhere, or beside only a suspended one, does not."""
    jan = neighbours["Jan"]
    with app.app_context():
        akkers = Area(community_id=community.id, name="De Akkers")
        db.session.add(akkers)
        db.session.commit()
        akkers_id = akkers.id
    twin = make_member("fatima", created_at=datetime(2025, 3, 2, 12, 0, tzinfo=UTC))
    elsewhere = make_member("Fatima", area_id=akkers_id)
    make_member("Fatima", area_id=akkers_id, status="suspended")
    login(client, jan)
    found = client.get("/exchanges/give?q_to=fatima", headers=EN).text
    assert found.count(">Look at the profile<") == 2
    assert "member since 2 March 2025" in found
    assert f"/members/{twin.id}" in found and f"/members/{neighbours['Fatima'].id}" in found
    assert f"/members/{elsewhere.id}" not in found and found.count("member since") == 2
    chosen = client.get(f"/exchanges/give?to={twin.id}", headers={"Accept-Language": "nl"}).text
    assert "lid sinds 2 maart 2025" in chosen
    alone = client.get(f"/exchanges/give?to={elsewhere.id}", headers=EN).text
    assert "member since" not in alone and "De Akkers" in alone


def test_paper_slip_and_group_pages(app, client, neighbours, make_member):
    karim, fatima, jan = neighbours["Karim"], neighbours["Fatima"], neighbours["Jan"]
    anna = make_member("Anna", email=None, assisted=True)
    piet = make_member("Piet", email=None, assisted=True)
    login(client, karim)
    url = f"/exchanges/slip?provider={anna.id}&receiver={piet.id}"
    page = text(client.get(url, headers=EN))
    assert "Record: Piet pays Anna" in page
    key = re.search(r'name="request_key" type="hidden" value="(\w+)"', page).group(1)
    data = {"title": "Shopping", "hours": "1", "request_key": key}
    assert client.post(url, data=data).status_code == client.post(url, data=data).status_code == 302
    with app.app_context():
        assert count(Exchange) == count(Transaction) == 1
    as_member(client, fatima)
    page = text(client.get(f"/exchanges/group/new?with={jan.id}&q_with=wil", headers=EN))
    assert "Jan" in page and "Wilma" in page and "Choose" in page
    response = client.post(
        f"/exchanges/group/new?with={jan.id}&with={neighbours['Wilma'].id}",
        data={"role": "provider", "title": "Sewing lesson", "hours": "2"},
        headers=EN,
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"], headers=EN))
    assert "0 of 2 confirmed their part." in page and "Settle now" not in page
    as_member(client, jan)
    page = text(client.get(response.headers["Location"], headers=EN))
    assert "Fatima added you: 2 hours." in page and "Confirm: I took part and pay 2 hours" in page


def test_notifications_page_and_email_choice(app, client, neighbours):
    offer, fatima, jan = neighbours["offer"], neighbours["Fatima"], neighbours["Jan"]
    login(client, fatima)
    assert client.post("/notifications/settings", data={"email": "daily"}).status_code == 302
    bad = client.post("/notifications/settings", data={"email": "hourly"})
    assert bad.status_code == 422
    as_member(client, jan)
    client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1"})
    as_member(client, fatima)
    page = text(client.get("/notifications", headers=EN))
    assert "Jan proposes an exchange: “Bike repair”, 1 hour." in page and "1 is new for you." in page
    with app.app_context():
        notification_id = db.session.scalar(sa.select(Notification.id))
        assert db.session.get(Member, fatima.id).notify_email == "daily"
    response = client.get(f"/notifications/{notification_id}")
    assert response.status_code == 302 and "/exchanges/" in response.headers["Location"]
    assert "You have read everything." in text(client.get("/notifications", headers=EN))
    as_member(client, jan)
    assert client.get(f"/notifications/{notification_id}").status_code == 404
