"""Joining a neighbourhood: registration, email confirmation, approval by coordinators."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.models import JoinRequest, Member, MemberToken
from timebank.members.services import NotAllowed, decide_join_request

from .conftest import count, link_in, login, mails

EN = {"Accept-Language": "en"}
NL = {"Accept-Language": "nl"}


def join_form(**fields):
    return {
        "name": "Ayşe Yılmaz",
        "email": "ayse@example.org",
        "password": "zomer aan de gracht",
        "locale": "nl",
        "accept_rules": "y",
        **fields,
    }


@pytest.fixture
def open_community(make_community):
    community = make_community("oost", "Oost", join_policy="open")
    return community


def register(client, slug="buurt", **fields):
    return client.post(f"/join/{slug}", data=join_form(**fields), headers=EN)


def confirm_link(app, address="ayse@example.org") -> str:
    with app.app_context():
        return link_in(mails(to=address, kind="confirm_email")[-1].body_text)


def set_texts(app, community, **texts):
    with app.app_context():
        db.session.get(Community, community.id).texts = texts
        db.session.commit()


def test_visitor_picks_a_neighbourhood_and_sees_its_house_rules(app, client, community, make_community):
    make_community("noord", "Noord")
    set_texts(app, community, house_rules={"en": "We help each other. No money.", "nl": "Wij helpen elkaar."})
    choose = client.get("/join", headers=EN)
    assert "Onze buurt" in choose.text and "Noord" in choose.text
    form = client.get("/join/buurt", headers=EN)
    assert "We help each other. No money." in form.text and "I have read the house rules" in form.text
    assert "Wij helpen elkaar." not in form.text and "not written this in your language" not in form.text
    assert "Wij helpen elkaar." in client.get("/join/buurt", headers=NL).text


def test_house_rules_only_in_dutch_say_so_on_the_english_page(app, client, community):
    set_texts(app, community, house_rules={"nl": "Wij helpen elkaar."})
    form = client.get("/join/buurt", headers=EN)
    assert "Wij helpen elkaar." in form.text
    assert "The coordinators have not written this in your language yet. Here it is in Dutch." in form.text
    assert 'lang="nl"' in form.text


def test_every_mistake_in_the_join_form_shows_at_once(app, client, community):
    set_texts(app, community, join_question={"en": "Which street do you live in?"})
    page = register(client, name="", password="short", accept_rules="", email="not-an-address")
    assert page.status_code == 200
    for problem in (
        "Please fill this in.",
        "valid email address",
        "at least 8 characters",
        "Please answer the question of the neighbourhood.",
        "tick the box to accept them",
    ):
        assert problem in page.text, problem
    assert "Please fix 5 things below." in page.text
    only_service_checks = register(client, password="short", accept_rules="", answer="Dorpsstraat")
    assert "at least 8 characters" in only_service_checks.text and "tick the box" in only_service_checks.text
    with app.app_context():
        assert count(Member) == 0 and count(JoinRequest) == 0 and mails() == []


def test_all_errors_at_once_still_tell_no_stranger_who_is_a_member(app, client, community, member):
    taken = register(client, email=member.email, password="short")
    free = register(client, email="nobody@example.org", password="short")
    assert "account" not in taken.text.lower().split("<main", 1)[1]
    # The form token carries the second it was made in: two requests a second apart differ there only.
    same = [re.sub(r'name="csrf_token" value="[^"]*"', "", page.text) for page in (taken, free)]
    assert same[0].replace(member.email, "X") == same[1].replace("nobody@example.org", "X")


def test_only_neighbourhood_is_chosen_for_you(client, community):
    assert client.get("/join").headers["Location"].endswith("/join/buurt")


def test_registration_to_approval_community_waits_for_coordinators(app, client, community, make_member):
    coordinator = make_member("Karim", role="coordinator")
    response = register(client)
    assert response.status_code == 302
    status = client.get(response.headers["Location"], headers=EN)
    assert "We sent an email to ayse@example.org" in status.text
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.email == "ayse@example.org"))
        assert (member.status, member.locale, member.email_confirmed_at) == ("pending", "nl", None)
        assert member.password_hash.startswith("$argon2id$")
        message = mails(to="ayse@example.org")[0]
        assert message.subject == "Bevestig je e-mailadres"  # in the language she chose
        assert mails(to=coordinator.email) == []  # coordinators only hear of confirmed requests

    path = confirm_link(app)
    assert "Confirm my email address" in client.get(path, headers=EN).text
    confirmed = client.post(path, headers=EN, follow_redirects=True)
    assert "Your request is with the coordinators of Onze buurt. You will get an email." in confirmed.text
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.email == "ayse@example.org"))
        assert member.status == "pending" and member.email_confirmed_at is not None
        request = db.session.scalar(sa.select(JoinRequest).where(JoinRequest.member_id == member.id))
        assert request.state == "waiting"
        assert [m.kind for m in mails(to=coordinator.email)] == ["join_request"]
    login_attempt = client.post(
        "/login",
        data={"email": "ayse@example.org", "password": "zomer aan de gracht"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Your request is with the coordinators" in login_attempt.text


def test_open_community_lets_people_in_after_confirmation(app, client, open_community):
    register(client, slug="oost", email="ayse@example.org ")  # the space a phone keyboard adds
    client.post(confirm_link(app), headers=EN)
    with app.app_context():
        assert db.session.scalar(sa.select(Member.status).where(Member.email == "ayse@example.org")) == "active"
        assert mails(to="ayse@example.org", kind="join_welcome")
    client.post("/logout")
    page = client.post(
        "/login",
        data={"email": " ayse@example.org ", "password": "zomer aan de gracht"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Hallo Ayşe Yılmaz!" in page.text  # in the language she chose


def test_confirmation_link_works_once(app, client, open_community):
    register(client, slug="oost")
    path = confirm_link(app)
    assert client.post(path).status_code == 302
    again = client.post(path, headers=EN)
    assert again.status_code == 410 and "This link was used already" in again.text
    assert "This link was used already" in client.get(path, headers=EN).text


def test_expired_or_unknown_confirmation_link_changes_nothing(app, client, open_community):
    register(client, slug="oost")
    path = confirm_link(app)
    with app.app_context():
        token = db.session.scalar(sa.select(MemberToken))
        token.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    expired = client.post(path, headers=NL)
    assert expired.status_code == 410 and "Deze link is verlopen" in expired.text
    unknown = client.post("/confirm/not-a-real-token", headers=EN)
    assert unknown.status_code == 410 and "This link does not work" in unknown.text
    with app.app_context():
        assert db.session.scalar(sa.select(Member.status).where(Member.email == "ayse@example.org")) == "pending"


def test_a_new_confirmation_link_replaces_the_old_one(app, client, open_community):
    register(client, slug="oost")
    old = confirm_link(app)
    client.post("/confirm/again", data={"email": "AYSE@example.org"})
    new = confirm_link(app)
    assert new != old
    assert "used already" in client.post(old, headers=EN).text
    assert client.post(new).status_code == 302


def test_unknown_community_is_a_clear_error(client, community):
    page = client.post("/join/nowhere", data=join_form(), headers=EN)
    assert page.status_code == 404 and "We do not know this neighbourhood" in page.text
    assert "Onze buurt" in page.text  # the list to choose from


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "Please fill this in."),
        ({"name": "   "}, "Please fill"),
        ({"name": "x" * 81}, "at most 80 characters"),
        ({"name": "<script>alert(1)</script>"}, "cannot contain the signs &lt; and &gt;"),
        ({"name": "Jan\u202eevil"}, "cannot contain"),
        ({"email": "not-an-address"}, "valid email address"),
        ({"email": "a" * 250 + "@example.org"}, "at most 254 characters"),
        ({"password": "short"}, "at least 8 characters"),
        ({"password": "password123"}, "Many people use this password"),
        ({"password": "Ayşe Yılmaz"}, "do not use your name"),
        ({"password": ""}, "Please fill this in."),
        ({"accept_rules": ""}, "accept them"),
        ({"locale": "xx"}, "Please choose from the list"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(app, client, community, fields, message):
    page = register(client, **fields)
    assert page.status_code == 200 and message in page.text, page.text
    assert "Traceback" not in page.text
    with app.app_context():
        assert count(Member) == 0 and count(JoinRequest) == 0 and mails() == []


def test_bad_registration_keeps_what_was_typed_but_not_the_password(client, community):
    page = register(client, password="short", name="Ayşe")
    assert 'value="Ayşe"' in page.text and 'value="ayse@example.org"' in page.text
    assert "short" not in page.text.split("<main", 1)[1].split("at least 8")[0]


def test_an_address_with_an_account_gets_an_email_instead_of_a_second_account(app, client, community, member):
    page = register(client, email=member.email.upper())
    assert page.status_code == 302
    assert "We sent an email to " in client.get(page.headers["Location"], headers=EN).text
    with app.app_context():
        assert count(Member) == 1
        [notice] = mails(to=member.email)
        assert notice.kind == "join_address_taken" and "/password/forgot" in notice.body_text


def test_long_passphrases_and_pasted_passwords_are_welcome(app, client, community):
    long = "a really long passphrase that someone pasted from a password manager " * 2
    assert register(client, password=long).status_code == 302
    with app.app_context():
        assert count(Member) == 1


def test_errors_are_translated(client, community):
    page = client.post("/join/buurt", data=join_form(password="kort"), headers=NL)
    assert "Gebruik minstens 8 tekens." in page.text


def confirmed_applicant(app, client):
    register(client)
    client.post(confirm_link(app))
    with app.app_context():
        return db.session.scalar(sa.select(JoinRequest)).id


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_coordinator_decides_and_both_sides_are_told(app, client, community, make_member, decision):
    deciding = make_member("Karim", role="coordinator")
    colleague = make_member("Latifa", role="coordinator")
    request_id = confirmed_applicant(app, client)
    applicant = app.test_client()
    applicant.post("/login", data={"email": "ayse@example.org", "password": "zomer aan de gracht"})

    login(client, deciding)
    listing = client.get("/coordinate/requests", headers=EN)
    assert "Ayşe Yılmaz" in listing.text
    client.post(f"/coordinate/requests/{request_id}", data={"decision": decision, "reason": "We know Ayşe."})
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.email == "ayse@example.org"))
        assert member.status == ("active" if decision == "approve" else "rejected")
        to_applicant = mails(to="ayse@example.org")[-1]
        assert to_applicant.kind == ("join_approved" if decision == "approve" else "join_rejected")
        assert "We know Ayşe." in to_applicant.body_text
        assert [m.kind for m in mails(to=colleague.email)] == ["join_request", "join_decided"]
        assert [m.kind for m in mails(to=deciding.email)] == ["join_request"]
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action.in_(["member.approved", "member.rejected"]))
        )
        assert event.actor_id == deciding.id and event.reason == "We know Ayşe."
    status = applicant.get("/join/status", headers=EN).text
    if decision == "approve":
        assert "You are a member now" in status
    else:
        assert "did not accept your request" in status and "We know Ayşe." in status
    assert "No requests wait for you" in client.get("/coordinate/requests", headers=EN).text


def test_a_request_is_decided_only_once(app, client, community, make_member):
    request_id = confirmed_applicant(app, client)
    login(client, make_member("Karim", role="coordinator"))
    client.post(f"/coordinate/requests/{request_id}", data={"decision": "approve"})
    second = client.post(
        f"/coordinate/requests/{request_id}", data={"decision": "reject"}, headers=EN, follow_redirects=True
    )
    assert "This request was decided already." in second.text
    with app.app_context():
        assert db.session.scalar(sa.select(Member.status).where(Member.email == "ayse@example.org")) == "active"
        assert len(mails(to="ayse@example.org", kind="join_approved")) == 1
        assert mails(to="ayse@example.org", kind="join_rejected") == []


def test_coordinator_of_another_community_cannot_decide(app, client, community, make_member, make_community):
    request_id = confirmed_applicant(app, client)
    outsider = make_member("Olena", role="coordinator", community_id=make_community("noord", "Noord").id)
    login(client, outsider)
    assert "Ayşe" not in client.get("/coordinate/requests").text
    assert client.post(f"/coordinate/requests/{request_id}", data={"decision": "approve"}).status_code == 404
    with app.app_context():
        with pytest.raises(NotAllowed):  # the service refuses too, whatever page or command calls it
            decide_join_request(
                db.session.get(JoinRequest, request_id), actor=db.session.get(Member, outsider.id), approve=True
            )
        db.session.rollback()
        assert db.session.scalar(sa.select(JoinRequest.state)) == "waiting"


def test_ordinary_member_has_no_coordination_pages(client, member):
    login(client, member)
    assert client.get("/coordinate/requests").status_code == 403
    assert "Coordination" not in client.get("/", headers=EN).text


def test_coordinator_reads_the_applicants_words_and_lets_them_in_in_plain_dutch(app, client, community, make_member):
    set_texts(app, community, join_question={"nl": "In welke straat woon je?", "en": "Which street do you live in?"})
    coordinator = make_member("Karim", role="coordinator", locale="nl")
    missing = register(client, answer="")
    assert "Please answer the question of the neighbourhood." in missing.text
    register(client, motivation="I just moved here and I like to cook.", answer="Dorpsstraat")
    client.post(confirm_link(app))
    login(client, coordinator)
    page = client.get("/coordinate/requests", headers=NL).text
    assert "I just moved here and I like to cook." in page
    assert "Which street do you live in?" in page and "Dorpsstraat" in page  # the question as she read it
    assert "Ayşe Yılmaz toelaten" in page and "aannemen" not in page
    assert "gevraagd op" in page and "e-mailadres bevestigd op" in page


def test_after_confirming_the_applicant_learns_who_decides_how_long_and_whom_to_ask(
    app, client, community, make_member
):
    set_texts(app, community, contact={"en": "Call Karim on 020 123 4567."})
    make_member("Karim", role="coordinator")
    register(client)
    page = client.post(confirm_link(app), headers=EN, follow_redirects=True).text
    assert "One of them reads your request and decides whether you can join." in page
    assert "This usually takes about 7 days." in page  # no decisions yet: a week
    assert "Call Karim on 020 123 4567." in page


def test_the_usual_wait_follows_the_last_decisions(app, community, make_member):
    from timebank.members.services import usual_wait_days

    coordinator = make_member("Karim", role="coordinator")
    with app.app_context():
        now = utcnow()
        for days in (1, 2, 3):
            applicant = Member(
                community_id=community.id, name=f"A{days}", email=f"a{days}@example.org", status="active"
            )
            db.session.add(applicant)
            db.session.flush()
            db.session.add(
                JoinRequest(
                    member_id=applicant.id,
                    community_id=community.id,
                    state="approved",
                    submitted_at=now - timedelta(days=days),
                    decided_at=now,
                    decided_by_id=coordinator.id,
                )
            )
        db.session.commit()
        assert usual_wait_days(community.id) == 2


def test_status_page_needs_the_applicant(client, community):
    assert client.get("/join/status").headers["Location"].endswith("/login")


def test_the_coordinators_mail_carries_the_applicants_own_words(app, client, community, make_member):
    """What a coordinator needs to decide from the mail alone: why they join, what they offer and the
    answer to the join question, each line marked as the applicant's, plain text as they typed it."""
    coordinator = make_member("Karim", role="coordinator", locale="en")
    set_texts(app, community, join_question={"en": "Which street do you live in?", "nl": "In welke straat woon je?"})
    words = "I just moved here.\nI can cook <b>and</b> fix bikes.\nAccept: http://evil.example/accept"
    register(client, motivation=words, answer="Dorpsstraat")
    client.post(confirm_link(app), headers=EN)
    with app.app_context():
        (mail,) = mails(to=coordinator.email)
        body = mail.body_text
    assert "Why they join and what they offer, in their own words:" in body
    assert "> I just moved here.\n> I can cook <b>and</b> fix bikes.\n> Accept: http://evil.example/accept\n" in body
    assert "\nAccept: http" not in body  # nothing the applicant wrote reads as the time bank's own line
    assert "Your join question: Which street do you live in?" in body  # as it was asked
    assert "Their answer:\n> Dorpsstraat\n\nAyşe Yılmaz gets an email" in body, body
    assert "Asked on " in body and "&lt;" not in body, body


def test_many_waiting_requests_come_twenty_a_page_longest_waiting_first(app, client, community, make_member):
    login(client, make_member("Karim", role="coordinator"))
    with app.app_context():
        now = utcnow()
        for number in range(23):  # Applicant 0 has waited longest
            pending = Member(
                community_id=community.id, name=f"Applicant {number}", status="pending", email=f"a{number}@example.org"
            )
            db.session.add(pending)
            db.session.flush()
            waited = now - timedelta(days=30 - number)
            db.session.add(
                JoinRequest(member_id=pending.id, community_id=community.id, state="waiting", submitted_at=waited)
            )
        db.session.commit()
    first = client.get("/coordinate/requests", headers=EN).text
    assert "23 people confirmed their email address" in first and "Page 1 of 2" in first
    assert all(f"Applicant {n}<" in first for n in range(20))
    assert not any(f"Applicant {n}<" in first for n in range(20, 23))
    second = client.get("/coordinate/requests?page=2", headers=EN).text
    assert [n for n in range(23) if f"Applicant {n}<" in second] == [20, 21, 22]
    assert "Accept Applicant 22" in second
    # Deciding on page 2 comes back to page 2; when page 2 empties, to the last page there is.
    actions = re.findall(r'action="(/coordinate/requests/\d+\?page=2)"', second)
    assert len(actions) == 3
    after = client.post(actions[0], data={"decision": "approve", "reason": ""}, headers=EN, follow_redirects=True)
    assert "Page 2 of 2" in after.text and "is now a member" in after.text
    for action in actions[1:]:
        after = client.post(
            action, data={"decision": "reject", "reason": "Not here"}, headers=EN, follow_redirects=True
        )
    assert "20 people confirmed their email address" in after.text and "Applicant 19<" in after.text
