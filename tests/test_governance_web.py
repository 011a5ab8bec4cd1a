"""The voting pages: propose, support, vote, discuss, and the result computed when someone looks."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.db import utcnow
from timebank.extensions import db
from timebank.governance import services
from timebank.governance.models import Ballot, Proposal
from timebank.members.models import Member

from .conftest import login, web
from .queries import queries_for


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
    ballot = client.get(f"/decide/{proposal.id}").text
    assert "<legend>Choose one answer</legend>" in ballot and ballot.count(">Your vote<") == 1  # said once
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


GRANT = {
    "title": "Hours for the soup kitchen",
    "body": "Karim cooks for the street every Friday",
    "voting_days": "7",
    "quorum_percent": "0",
    "kind": "grant",
    "grant_hours": "3",
    "grant_minutes": "0",
}


def test_the_grant_receiver_is_found_by_name_and_nothing_typed_is_lost(app, people, client, make_member):
    for name in ("Karin", "Kees", "Moana"):
        make_member(name)
    login(client, people["Fatima"])
    form = client.get("/decide/new").text
    assert "Karim" not in form and "Moana" not in form  # no list of the whole neighbourhood

    searched = client.post("/decide/new", data={**GRANT, "grant_query": "kar", "find": "1"})
    assert searched.status_code == 200
    page = searched.text
    assert "Hours for the soup kitchen" in page and "Karim cooks for the street every Friday" in page
    assert f'value="{people["Karim"].id}"' in page and "Karin" in page
    assert "Kees" not in page and "Moana" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0

    nobody = client.post("/decide/new", data={**GRANT, "grant_query": "zzz", "find": "1"}).text
    assert "Nobody found with “zzz”" in nobody

    chosen = {**GRANT, "grant_member_id": str(people["Karim"].id)}
    kept = client.post("/decide/new", data={**chosen, "grant_query": "moa", "find": "1"}).text
    karim = people["Karim"].id
    assert f'<input checked id="grant_member_id-0" name="grant_member_id" type="radio" value="{karim}">' in kept
    assert "Moana" in kept  # a new search keeps the choice and offers the names found

    assert client.post("/decide/new", data=chosen).status_code == 302
    with app.app_context():
        proposal = db.session.scalar(sa.select(Proposal))
        assert (proposal.kind, proposal.grant_member_id, proposal.grant_minutes) == ("grant", people["Karim"].id, 180)


@pytest.mark.parametrize("receiver", ["elsewhere", "suspended", "not a number", ""])
def test_hours_cannot_be_proposed_for_someone_outside_the_neighbourhood(
    app, people, client, make_member, make_community, receiver
):
    other = make_community(slug="elders", name="Elders")
    ids = {
        "elsewhere": str(make_member("Stranger", community_id=other.id).id),
        "suspended": str(make_member("Paul", status="suspended").id),
        "not a number": "1; drop table members",
        "": "",
    }
    login(client, people["Fatima"])
    response = client.post("/decide/new", data={**GRANT, "grant_member_id": ids[receiver]})
    assert response.status_code == 200
    assert "Please choose an active member of the neighbourhood." in response.text
    assert "Stranger" not in response.text and "Paul" not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0


def test_a_search_that_finds_many_shows_a_dozen_and_says_so(people, client, make_member):
    for number in range(13):
        make_member(f"Anna {number:02d}")
    login(client, people["Fatima"])
    page = client.post("/decide/new", data={**GRANT, "grant_query": "anna", "find": "1"}).text
    assert page.count('name="grant_member_id"') == 12 and "Anna 11" in page and "Anna 12" not in page
    assert "Only the first 12 names are shown: type more of the name." in page


def test_a_proposal_with_many_voters_and_comments_costs_no_more_queries(app, people, client, make_member):
    """Who chose what and the discussion are read with their names, not one query per name."""
    with app.app_context():
        karim = db.session.get(Member, people["Karim"].id)
        proposal = services.create_proposal(karim, title="A bench by the playground")
        db.session.commit()
        proposal_id, yes = proposal.id, option(proposal, "yes")

    def voices(count):
        with app.app_context():
            proposal = db.session.get(Proposal, proposal_id)
            for number in range(count):
                neighbour = db.session.get(Member, make_member(f"Voice {number} {count}").id)
                services.vote(proposal, neighbour, yes)
                services.add_comment(proposal, neighbour, f"Yes from {number}")
            db.session.commit()

    login(client, people["Fatima"])
    voices(2)
    few, page = queries_for(app, client, f"/decide/{proposal_id}")
    assert "Voice 1 2" in page
    voices(10)
    many, page = queries_for(app, client, f"/decide/{proposal_id}")
    assert "Voice 9 10" in page and page.count("Yes from") == 12
    assert many == few
    # Under each answer, how many chose it and who, in alphabetical order (names escaped); a list of
    # more than 20 names is folded.
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        services.vote(proposal, db.session.get(Member, make_member("Anna <b>").id), option(proposal, "no"))
        db.session.commit()
    page = " ".join(client.get(f"/decide/{proposal_id}", headers={"Accept-Language": "en"}).text.split())
    voices_in_order = ", ".join(sorted(f"Voice {n} {count}" for count in (2, 10) for n in range(count)))
    assert f'<details class="exchange-more" open> <summary>Yes (12)</summary> <p>{voices_in_order}</p>' in page
    assert "<summary>No (1)</summary> <p>Anna &lt;b&gt;</p>" in page
    voices(9)
    page = " ".join(client.get(f"/decide/{proposal_id}", headers={"Accept-Language": "en"}).text.split())
    assert '<details class="exchange-more"> <summary>Yes (21)</summary>' in page


def open_proposal(app, author, **given):
    with app.app_context():
        proposal = services.create_proposal(db.session.get(Member, author.id), title="A bench", **given)
        db.session.commit()
        return proposal.id, option(proposal, "yes"), option(proposal, "no")


def test_a_secret_vote_is_changed_on_the_same_phone_without_typing_the_code(app, people, client):
    proposal_id, yes, no = open_proposal(app, people["Karim"], secret=True)
    login(client, people["Fatima"])
    first = client.post(f"/decide/{proposal_id}/vote", data={"option": str(yes)}, follow_redirects=True).text
    assert "Your secret vote is counted. Your vote code is" in first
    again = client.post(f"/decide/{proposal_id}/vote", data={"option": str(no)}, follow_redirects=True).text
    assert "Your vote is changed." in again and "Your vote code is" not in again
    assert f'checked id="option-1" name="option" required type="radio" value="{no}"' in again  # the new choice shown
    with app.app_context():
        assert db.session.execute(sa.select(Ballot.option_id)).scalars().all() == [no]


def test_an_open_vote_shows_the_answer_chosen_and_says_it_changed(app, people, client):
    proposal_id, yes, no = open_proposal(app, people["Karim"])
    login(client, people["Fatima"])
    client.post(f"/decide/{proposal_id}/vote", data={"option": str(yes)})
    page = client.get(f"/decide/{proposal_id}").text
    assert f'checked id="option-0" name="option" required type="radio" value="{yes}"' in page
    changed = client.post(f"/decide/{proposal_id}/vote", data={"option": str(no)}, follow_redirects=True).text
    assert "Your vote is changed." in changed


def test_only_the_author_is_offered_to_change_or_withdraw_and_only_coordinators_to_hide(app, people):
    proposal_id, yes, _no = open_proposal(app, people["Fatima"])  # waits for three supporters
    with app.app_context():
        services.add_comment(db.session.get(Proposal, proposal_id), db.session.get(Member, people["Jan"].id), "Hm")
        db.session.commit()
    wilma, fatima, karim = (web(app, people[name]) for name in ("Wilma", "Fatima", "Karim"))
    page = wilma.get(f"/decide/{proposal_id}").text
    assert "Change the proposal" not in page and "Withdraw the proposal" not in page and "Hide this comment" not in page
    edit = wilma.get(f"/decide/{proposal_id}/edit", follow_redirects=True)
    assert "This proposal cannot be changed any more" in edit.text and 'name="title"' not in edit.text
    page = fatima.get(f"/decide/{proposal_id}").text
    assert "Change the proposal" in page and "Withdraw the proposal" in page and "Hide this comment" not in page
    page = karim.get(f"/decide/{proposal_id}").text
    assert "Change the proposal" not in page and "Withdraw the proposal" in page and "Hide this comment" in page
    with app.app_context():
        for name in ("Jan", "Wilma", "Ahmed"):
            services.support(db.session.get(Proposal, proposal_id), db.session.get(Member, people[name].id))
        db.session.commit()
    karim.post(f"/decide/{proposal_id}/vote", data={"option": str(yes)})
    assert "Change the proposal" not in fatima.get(f"/decide/{proposal_id}").text  # someone voted
    edit = fatima.get(f"/decide/{proposal_id}/edit", follow_redirects=True)
    assert "This proposal cannot be changed any more" in edit.text and 'name="title"' not in edit.text


def test_the_number_of_supporters_is_set_by_coordinators_only(app, people):
    fatima = web(app, people["Fatima"])
    assert fatima.get("/decide/settings").status_code == 403
    assert fatima.post("/decide/settings", data={"proposal_supporters": "0"}).status_code == 403
    assert web(app, people["Karim"]).get("/decide/settings").status_code == 200
    with app.app_context():
        assert db.session.get(Member, people["Fatima"].id).community.proposal_supporters == 3


def test_proposals_waiting_for_support_are_listed_and_withdrawn_ones_are_among_the_decisions(app, people, client):
    login(client, people["Fatima"])
    fields = {"title": "Seeds swap", "voting_days": "7", "quorum_percent": "0", "kind": "advisory"}
    made = client.post("/decide/new", data=fields, follow_redirects=True).text
    assert "Your proposal is made. It goes to the vote when 3 neighbours support it." in made
    assert "Seeds swap" in client.get("/decide").text
    opened = (
        web(app, people["Karim"]).post("/decide/new", data={**fields, "title": "Tool shed"}, follow_redirects=True).text
    )
    assert "Your proposal is open for voting." in opened
    with app.app_context():
        proposal = db.session.scalar(sa.select(Proposal))
        services.withdraw(proposal, db.session.get(Member, people["Fatima"].id), "Not now")
        db.session.commit()
    assert "Seeds swap" not in client.get("/decide").text
    assert "Seeds swap" in client.get("/decide/decisions").text


def test_a_search_that_finds_exactly_a_dozen_does_not_ask_for_more_of_the_name(people, client, make_member):
    for number in range(12):
        make_member(f"Anna {number:02d}")
    login(client, people["Fatima"])
    page = client.post("/decide/new", data={**GRANT, "grant_query": "anna", "find": "1"}).text
    assert page.count('name="grant_member_id"') == 12 and "Only the first 12 names" not in page
