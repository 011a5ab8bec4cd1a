"""Votes through the API: the contract of issue 17 and the same rules as the proposal pages."""

from datetime import timedelta

import sqlalchemy as sa

from timebank.db import utcnow
from timebank.extensions import db
from timebank.governance.models import Ballot, Proposal, Vote, Voter


def open_proposal(client, caller, **body):
    closes = (utcnow() + timedelta(days=3)).isoformat()
    return client.post(
        "/api/v1/proposals", headers=caller.headers, json={"title": "A bench by the pond", "closes_at": closes, **body}
    )


def end_voting(app, proposal_id):
    """Let the voting period pass (voting must end at least an hour from when it is proposed)."""
    with app.app_context():
        db.session.execute(
            sa.update(Proposal).where(Proposal.id == proposal_id).values(closes_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_a_coordinator_opens_a_proposal_and_members_vote_once_each(app, client, callers):
    karim, fatima, jan = callers["coordinator"], callers["member"], callers["other_member"]
    created = open_proposal(client, karim, quorum=0.5)
    assert created.status_code == 201, created.json
    proposal = created.json
    assert proposal["state"] == "open" and proposal["quorum"] == 0.5 and proposal["result"] is None
    assert [o["label"] for o in proposal["options"]] == ["Yes", "No", "Abstain"]
    url = f"/api/v1/proposals/{proposal['id']}"

    assert client.put(f"{url}/vote", headers=fatima.headers, json={"option": "no"}).json == {
        "option": "No",
        "receipt": None,
    }
    changed = client.put(f"{url}/vote", headers=fatima.headers, json={"option": "yes"})
    assert changed.status_code == 200 and changed.json["option"] == "Yes"
    client.put(f"{url}/vote", headers=jan.headers, json={"option": "Yes"})
    shown = client.get(url, headers=fatima.headers).json
    assert [(o["label"], o["votes"]) for o in shown["options"]] == [("Yes", 2), ("No", 0), ("Abstain", 0)]
    assert shown["turnout"] == 2

    early = client.post(f"{url}/close", headers=karim.headers)
    assert early.status_code == 409 and early.json["error"]["code"] == "still_open"
    end_voting(app, proposal["id"])
    assert client.post(f"{url}/close", headers=fatima.headers).status_code == 403
    closed = client.post(f"{url}/close", headers=karim.headers)
    assert closed.status_code == 200
    # Fatima, Jan and Karim could vote; two did: the quorum of half is met and "yes" won.
    assert {k: closed.json[k] for k in ("state", "turnout", "quorum_met", "result")} == {
        "state": "closed",
        "turnout": 2,
        "quorum_met": True,
        "result": "adopted",
    }
    late = client.put(f"{url}/vote", headers=karim.headers, json={"option": "no"})
    assert late.status_code == 409 and late.json["error"]["code"] == "voting_closed"
    assert client.post(f"{url}/close", headers=karim.headers).json == closed.json
    listed = client.get("/api/v1/proposals?state=closed", headers=jan.headers).json
    assert [p["id"] for p in listed["items"]] == [proposal["id"]] and listed["total"] == 1
    assert client.get("/api/v1/proposals?state=open", headers=jan.headers).json["total"] == 0


def test_a_secret_ballot_hides_counts_and_is_changed_only_with_its_receipt(app, client, callers):
    karim, fatima = callers["coordinator"], callers["member"]
    proposal = open_proposal(client, karim, secret=True).json
    url = f"/api/v1/proposals/{proposal['id']}"
    first = client.put(f"{url}/vote", headers=fatima.headers, json={"option": "yes"}).json
    assert first["option"] == "Yes" and first["receipt"]
    again = client.put(f"{url}/vote", headers=fatima.headers, json={"option": "no"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_voted"
    changed = client.put(f"{url}/vote", headers=fatima.headers, json={"option": "no", "receipt": first["receipt"]})
    assert changed.status_code == 200 and changed.json["option"] == "No"
    shown = client.get(url, headers=karim.headers).json
    assert [o["votes"] for o in shown["options"]] == [None, None, None] and shown["turnout"] == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Voter)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
    end_voting(app, proposal["id"])
    result = client.post(f"{url}/close", headers=karim.headers).json
    assert [o["votes"] for o in result["options"]] == [0, 1, 0] and result["result"] == "rejected"


def test_who_may_propose_see_and_vote(app, client, callers):
    karim, fatima, olga = callers["coordinator"], callers["member"], callers["other_coordinator"]
    refused = open_proposal(client, fatima)
    assert refused.status_code == 403
    proposal = open_proposal(client, karim).json
    url = f"/api/v1/proposals/{proposal['id']}"
    assert client.get(url, headers=olga.headers).status_code == 404
    assert client.put(f"{url}/vote", headers=olga.headers, json={"option": "yes"}).status_code == 404
    assert client.post(f"{url}/close", headers=olga.headers).status_code == 404
    assert client.get("/api/v1/proposals", headers=olga.headers).json["total"] == 0
    assert client.get(url, headers=callers["anonymous"].headers).status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_bad_input_is_refused_with_reasons_and_changes_nothing(app, client, callers):
    karim, fatima = callers["coordinator"], callers["member"]
    naive = client.post(
        "/api/v1/proposals", headers=karim.headers, json={"title": "Bench", "closes_at": "2030-01-01T10:00:00"}
    )
    assert naive.status_code == 422 and "closes_at" in naive.json["error"]["fields"]
    too_soon = open_proposal(client, karim, closes_at=(utcnow() + timedelta(minutes=5)).isoformat())
    assert too_soon.status_code == 422 and "closes_at" in too_soon.json["error"]["fields"]
    for quorum in (1.5, 0.333, -0.1):
        answer = open_proposal(client, karim, quorum=quorum)
        assert answer.status_code == 422 and "quorum" in answer.json["error"]["fields"], quorum
    assert open_proposal(client, karim, options=["yes"]).status_code == 422
    assert open_proposal(client, karim, title=" ").status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    proposal = open_proposal(client, karim, options=["Tuesday", "Thursday"]).json
    url = f"/api/v1/proposals/{proposal['id']}/vote"
    wrong = client.put(url, headers=fatima.headers, json={"option": "Friday"})
    assert wrong.status_code == 422 and "option" in wrong.json["error"]["fields"]
    assert client.put(url, headers=fatima.headers, json={"option": " thursday "}).json["option"] == "Thursday"


def test_a_quorum_in_hundredths_is_kept_as_given(client, callers):
    for quorum in (0.29, 0.57):
        created = open_proposal(client, callers["coordinator"], quorum=quorum)
        assert created.status_code == 201 and created.json["quorum"] == quorum
        assert (
            client.get(f"/api/v1/proposals/{created.json['id']}", headers=callers["member"].headers).json["quorum"]
            == quorum
        )


def test_a_retried_vote_with_the_same_key_is_answered_once(app, client, callers):
    karim, fatima = callers["coordinator"], callers["member"]
    proposal = open_proposal(client, karim, secret=True).json
    url = f"/api/v1/proposals/{proposal['id']}/vote"
    headers = {**fatima.headers, "Idempotency-Key": "vote-bench"}
    first = client.put(url, headers=headers, json={"option": "yes"})
    retry = client.put(url, headers=headers, json={"option": "yes"})
    assert retry.status_code == 200 and retry.json == first.json
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 1
