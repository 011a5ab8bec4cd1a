"""The pots pages and API: open a pot, fill it, see the thermometer; nobody else can touch it; a
double-clicked move moves once; the common pot shows what the fund got and granted, and why."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from timebank.api.models import IdempotencyRecord
from timebank.db import utcnow
from timebank.exchanges.transfers import grant_from_fund
from timebank.extensions import db
from timebank.governance.services import Binding, close, create_proposal, vote
from timebank.ledger.models import Transaction
from timebank.ledger.services import account_for, fund_account, post
from timebank.members.models import Member
from timebank.pots.models import Pot
from timebank.stats.rollup import local_day

from .api import token_headers
from .conftest import login


@pytest.fixture
def people(app, make_member):
    found = {name: make_member(name, locale="en") for name in ("Fatima", "Jan")}
    found["Karim"] = make_member("Karim", role="coordinator", locale="en")
    with app.app_context():
        fatima, karim = (db.session.get(Member, found[n].id) for n in ("Fatima", "Karim"))
        post(fatima.community_id, "gift", [(account_for(karim), -300), (account_for(fatima), 300)], actor=None)
        db.session.commit()
    return found


def balances(app, member_id, pot_id):
    with app.app_context():
        pot = db.session.get(Pot, pot_id)
        return account_for(db.session.get(Member, member_id)).balance, pot.account.balance


def test_a_member_opens_a_pot_fills_it_and_sees_it_fill(app, client, people):
    fatima = people["Fatima"]
    login(client, fatima)
    opened = client.post("/pots", data={"name": "A sewing course", "goal_hours": "10"})
    assert opened.status_code == 302
    pot_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    move = {"move-direction": "in", "move-hours": "2", "move-minutes": "30", "move-request_key": "k1"}
    assert client.post(f"/pots/{pot_id}/move", data=move).status_code == 302
    # The same form sent twice (a double click) moves the hours once.
    assert client.post(f"/pots/{pot_id}/move", data=move).status_code == 302
    assert balances(app, fatima.id, pot_id) == (150, 150)
    page = client.get(f"/pots/{pot_id}").text
    assert "2 hours 30 minutes saved of 10 hours (25%)" in page
    assert '<progress class="thermometer" max="100" value="25"' in page  # a quarter of the bar
    assert "A sewing course" in client.get("/pots").text
    too_much = client.post(
        f"/pots/{pot_id}/move", data={"move-direction": "out", "move-hours": "3", "move-request_key": "k2"}
    )
    assert too_much.status_code == 422 and balances(app, fatima.id, pot_id) == (150, 150)
    share = client.post(f"/pots/{pot_id}/share", data={"share-share_percent": "80"})
    assert share.status_code == 422 and "from 0 to 50 percent" in share.text
    assert 'name="share-share_percent" type="text" value="80"' in share.text  # what she typed, to correct
    assert client.post(f"/pots/{pot_id}/share", data={"share-share_percent": "10"}).status_code == 302
    spend = client.post(f"/pots/{pot_id}/spend?to=fund", data={"spend-hours": "1", "spend-request_key": "k3"})
    assert spend.status_code == 302 and balances(app, fatima.id, pot_id) == (150, 90)
    assert client.post(f"/pots/{pot_id}/close", data={}).status_code == 302
    assert balances(app, fatima.id, pot_id) == (240, 0)
    assert client.get(f"/pots/{pot_id}").status_code == 404


def test_paying_a_neighbour_from_a_pot_finds_them_by_name(app, client, people, make_member, make_community):
    """The neighbourhood's members are searched for by name, not all listed in the page (thousands
    in a big neighbourhood); only a neighbour chosen that way, or the fund, can be paid."""
    fatima, jan, karim = people["Fatima"], people["Jan"], people["Karim"]
    olga = make_member("Olga", community_id=make_community("noord", "Noord").id)
    login(client, fatima)
    pot_id = int(client.post("/pots", data={"name": "Trip", "goal_hours": "5"}).headers["Location"].rsplit("/", 1)[1])
    move = {"move-direction": "in", "move-hours": "2", "move-request_key": "in"}
    assert client.post(f"/pots/{pot_id}/move", data=move).status_code == 302
    page = client.get(f"/pots/{pot_id}").text
    assert "Karim" not in page and "Jan" not in page
    assert f"?to={fatima.id}#pick-to" not in client.get(f"/pots/{pot_id}?q_to=fat").text  # not herself
    found = client.get(f"/pots/{pot_id}?q_to=ja").text
    assert f'href="/pots/{pot_id}?to={jan.id}#pick-to"' in found and "Karim" not in found
    chosen = client.get(f"/pots/{pot_id}?to={jan.id}").text
    assert f'action="/pots/{pot_id}/spend?to={jan.id}"' in chosen and "Pay Jan" in chosen
    pay = {"spend-hours": "1", "spend-request_key": "to-jan"}
    assert client.post(f"/pots/{pot_id}/spend?to={jan.id}", data=pay).status_code == 302
    assert client.post(f"/pots/{pot_id}/spend?to={jan.id}", data=pay).status_code == 302  # a double click
    assert balances(app, fatima.id, pot_id) == (180, 60) and balances(app, jan.id, pot_id)[0] == 60
    # No one chosen, someone of another neighbourhood, or herself: refused, and nothing moves.
    for to, reason in (
        ("", "Choose who gets the hours"),
        (f"?to={olga.id}", "Choose who gets the hours"),
        (f"?to={fatima.id}", "take them out of the pot"),
    ):
        refused = client.post(
            f"/pots/{pot_id}/spend{to}", data={"spend-hours": "1", "spend-request_key": f"x{to}"}, follow_redirects=True
        )
        assert refused.status_code == 422 and reason in refused.text, to
    assert balances(app, fatima.id, pot_id) == (180, 60) and balances(app, karim.id, pot_id)[0] == -300


def test_nothing_typed_is_refused_with_words_and_moves_nothing(app, client, people):
    fatima = people["Fatima"]
    login(client, fatima)
    nameless = client.post("/pots", data={"name": "", "goal_hours": "5"})
    assert nameless.status_code == 422 and "This field is required." in nameless.text
    pot_id = int(client.post("/pots", data={"name": "Trip", "goal_hours": "5"}).headers["Location"].rsplit("/", 1)[1])
    client.post(f"/pots/{pot_id}/move", data={"move-direction": "in", "move-hours": "2", "move-request_key": "in"})
    for action, fields in (
        ("move", {"move-direction": "out", "move-hours": "0", "move-minutes": "0", "move-request_key": "a"}),
        ("spend?to=fund", {"spend-hours": "", "spend-request_key": "b"}),
    ):
        refused = client.post(f"/pots/{pot_id}/{action}", data=fields)
        assert refused.status_code == 422 and "Please fill in how much time." in refused.text, action
    assert balances(app, fatima.id, pot_id) == (180, 120)
    client.post(f"/pots/{pot_id}/share", data={"share-share_percent": "10"})
    emptied = client.post(f"/pots/{pot_id}/share", data={"share-share_percent": ""}, follow_redirects=True)
    assert "From now on 0 percent of what you are paid goes into this pot." in emptied.text


def test_nobody_else_sees_or_moves_a_members_pot(app, client, people):
    login(client, people["Fatima"])
    pot_id = int(client.post("/pots", data={"name": "Trip", "goal_hours": "5"}).headers["Location"].rsplit("/", 1)[1])
    for name in ("Jan", "Karim"):
        other = app.test_client()
        login(other, people[name])
        assert other.get(f"/pots/{pot_id}").status_code == 404
        assert (
            other.post(
                f"/pots/{pot_id}/move", data={"move-direction": "out", "move-hours": "1", "move-request_key": "x"}
            ).status_code
            == 404
        )
        assert other.post(f"/pots/{pot_id}/close").status_code == 404
    assert app.test_client().get("/pots").status_code == 302


def test_the_common_pot_shows_what_came_in_and_what_was_granted(app, client, people):
    with app.app_context():
        fatima, jan = (db.session.get(Member, people[n].id) for n in ("Fatima", "Jan"))
        fund = fund_account(fatima.community_id)
        post(fatima.community_id, "donation", [(account_for(fatima), -120), (fund, 120)], actor=None)
        post(
            fatima.community_id, "grant", [(fund, -45), (account_for(jan), 45)], actor=None, memo="Paint for the bench"
        )
        db.session.commit()
    login(client, people["Jan"])
    page = client.get("/pots/common").text
    assert "1 hour 15 minutes" in page  # what the fund holds: 120 - 45
    assert "Donation to the fund" in page and "2 hours" in page
    assert "Paint for the bench" in page and "to Jan" in page


def test_the_common_pot_over_the_api(app, client, people):
    """What the page shows, for a phone app: after a donation of 120, a coordinator's grant of 30 to
    Jan and a grant of 45 to Fatima that the members voted for, newest first."""
    with app.app_context():
        fatima, jan, karim = (db.session.get(Member, people[n].id) for n in ("Fatima", "Jan", "Karim"))
        fund = fund_account(fatima.community_id)
        post(fatima.community_id, "donation", [(account_for(fatima), -120), (fund, 120)], actor=None)
        grant_from_fund(jan, 30, "Paint for the bench", actor=karim)
        proposal = create_proposal(
            karim, title="Hours for the garden", binding=Binding(kind="grant", grant_member=fatima, grant_minutes=45)
        )
        vote(proposal, jan, proposal.options[0].id)
        vote(proposal, fatima, proposal.options[0].id)
        close(proposal, now=proposal.closes_at + timedelta(minutes=1))
        db.session.commit()
        proposal_id = proposal.id
    answer = client.get("/api/v1/pots/common", headers=token_headers(app, people["Jan"]))
    assert answer.status_code == 200, answer.text
    pot = answer.json
    assert (pot["balance_minutes"], pot["came_in"], pot["went_out"]) == (45, {"donation": 120}, {"grant": 75})
    with app.app_context():
        today = local_day(utcnow())
    # Today and the 364 days before (a day more or less only where summer time moved midnight).
    assert today - date.fromisoformat(pot["since"]) in (timedelta(days=364), timedelta(days=365))
    assert [(g["to"], g["minutes"], g["proposal_id"]) for g in pot["grants"]] == [
        ("Fatima", 45, proposal_id),
        ("Jan", 30, None),
    ]
    assert "Hours for the garden" in pot["grants"][0]["memo"] and pot["grants"][1]["memo"] == "Paint for the bench"
    assert client.get("/api/v1/pots/common").status_code == 401


def test_the_pots_api(app, client, people):
    fatima, jan = people["Fatima"], people["Jan"]
    headers = token_headers(app, fatima)
    created = client.post("/api/v1/pots", headers=headers, json={"name": "Course", "goal_minutes": 600})
    assert created.status_code == 201
    pot = created.json
    assert {k: pot[k] for k in ("name", "goal_minutes", "balance_minutes")} == {
        "name": "Course",
        "goal_minutes": 600,
        "balance_minutes": 0,
    }
    url = f"/api/v1/pots/{pot['id']}"
    retry = {**headers, "Idempotency-Key": "save-1"}
    assert client.post(f"{url}/deposit", headers=retry, json={"minutes": 90}).json["balance_minutes"] == 90
    assert client.post(f"{url}/deposit", headers=retry, json={"minutes": 90}).json["balance_minutes"] == 90
    assert client.post(f"{url}/withdraw", headers=headers, json={"minutes": 30}).json["balance_minutes"] == 60
    refused = client.post(f"{url}/withdraw", headers=headers, json={"minutes": 61})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "limit_exceeded"
    assert client.post(f"{url}/deposit", headers=headers, json={"minutes": 0}).status_code == 422
    assert [p["id"] for p in client.get("/api/v1/pots", headers=headers).json] == [pot["id"]]
    others = token_headers(app, jan)
    assert client.post(f"{url}/withdraw", headers=others, json={"minutes": 10}).status_code == 404
    assert client.get("/api/v1/pots", headers=others).json == []
    with app.app_context():
        savings = db.session.scalar(sa.select(sa.func.count()).where(Transaction.kind == "saving"))
    assert savings == 2


def test_a_retried_deposit_moves_the_minutes_once_even_after_its_stored_answer_is_gone(app, client, people):
    headers = token_headers(app, people["Fatima"])
    pot = client.post("/api/v1/pots", headers=headers, json={"name": "Course", "goal_minutes": 600}).json
    url, retry = f"/api/v1/pots/{pot['id']}/deposit", {**headers, "Idempotency-Key": "save-1"}
    assert client.post(url, headers=retry, json={"minutes": 90}).json["balance_minutes"] == 90
    with app.app_context():
        db.session.execute(sa.delete(IdempotencyRecord))
        db.session.commit()
    late = client.post(url, headers=retry, json={"minutes": 90})
    assert late.status_code == 200 and late.json["balance_minutes"] == 90 and "Idempotent-Replayed" not in late.headers
    # The same key for taking the hours out again is not mistaken for the deposit: refused, nothing moves.
    out = client.post(f"/api/v1/pots/{pot['id']}/withdraw", headers=retry, json={"minutes": 90})
    assert out.status_code == 422 and out.json["error"]["code"] == "idempotency_key_reused"
    assert balances(app, people["Fatima"].id, pot["id"]) == (210, 90)
