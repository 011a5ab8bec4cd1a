"""The voting pages: propose, support, vote, discuss, and the result computed when someone looks."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.db import utcnow
from timebank.extensions import db
from timebank.governance.models import Proposal

from .conftest import login


@pytest.fixture
def people(make_member):
    found = {name: make_member(name, locale="en") for name in ("Fatima", "Jan", "Wilma", "Ahmed")}
    found["Karim"] = make_member("Karim", role="coordinator", locale="en")
    return found


def option(proposal, key):
    return next(o.id for o in proposal.options if (o.key or o.label) == key)


def test_the_pages(app, people, client):
    login(client, people["Fatima"])
    response = client.post(
        "/decide/new",
        data={
            "title": "A tool library",
            "body": "Lend drills",
            "voting_days": "7",
            "quorum_percent": "0",
            "kind": "advisory",
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        proposal = db.session.scalar(sa.select(Proposal))
        assert proposal.state == "support"
        yes = option(proposal, "yes")
    for name in ("Jan", "Wilma", "Ahmed"):
        other = app.test_client()
        login(other, people[name])
        assert other.post(f"/decide/{proposal.id}/support").status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, proposal.id).state == "open"
    assert client.post(f"/decide/{proposal.id}/vote", data={"option": str(yes)}).status_code == 302
    page = client.get(f"/decide/{proposal.id}").text
    assert "You voted" in page and "Who chose what" in page
    assert client.post(f"/decide/{proposal.id}/comments", data={"body": "Good idea"}).status_code == 302
    assert "Good idea" in client.get(f"/decide/{proposal.id}").text
    assert client.get("/decide").status_code == 200 and client.get("/decide/decisions").status_code == 200
    with app.app_context():
        db.session.get(Proposal, proposal.id).closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # Looking at it after the end computes the result.
    assert "Adopted" in client.get(f"/decide/{proposal.id}").text
    assert "Adopted" in client.get("/decide/decisions").text
