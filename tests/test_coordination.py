"""Coordinators: assisted members and acting for them, pausing members, community settings;
the administrator: communities and coordinators. Nobody's powers cross a community's border."""

import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Area, Community
from timebank.extensions import db
from timebank.members.models import Member

from .conftest import PASSWORD, login, mails, web

EN = {"Accept-Language": "en"}


def test_coordinator_registers_an_assisted_member_and_acts_for_them(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    response = client.post(
        "/coordinate/members/new",
        data={"name": "Wilma de Boer", "phone": "020 1234567", "locale": "nl", "bio": "Knits."},
    )
    assert response.status_code == 302
    with app.app_context():
        wilma = db.session.scalar(sa.select(Member).where(Member.name == "Wilma de Boer"))
        assert (wilma.assisted, wilma.status, wilma.email, wilma.password_hash) == (True, "active", None, None)

    client.post(f"/coordinate/members/{wilma.id}/act")
    home = client.get("/", headers=EN).text
    assert "You are acting for Wilma de Boer" in home and "Stop acting for Wilma de Boer" in home
    client.post("/settings/profile", data={"name": "Wilma de Boer", "bio": "Knits socks for everyone.", "locale": "nl"})
    assert "You are acting for Wilma" in client.get("/members", headers=EN).text  # on every page
    with app.app_context():
        assert db.session.get(Member, wilma.id).bio == "Knits socks for everyone."
        assert db.session.get(Member, coordinator.id).bio == ""
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.profile_updated"))
        assert (event.actor_id, event.on_behalf_of_id) == (coordinator.id, wilma.id)

    history = client.get("/settings/done-for-you", headers=EN).text
    assert "Karim" in history and "changed the profile" in history and "done for Wilma de Boer" in history
    assert "made the account, to help the member" in history
    page = client.get(f"/coordinate/members/{wilma.id}", headers=EN).text
    assert "changed the profile" in page and "started to act" in page

    client.post("/coordinate/stop-acting")
    assert "You are acting for" not in client.get("/", headers=EN).text


def test_acting_is_only_for_assisted_members_of_my_community(app, client, make_member, make_community):
    coordinator = make_member("Karim", role="coordinator")
    neighbour = make_member("Jan")
    stranger = make_member("Olena", assisted=True, email=None, community_id=make_community("noord", "Noord").id)
    login(client, coordinator)
    refused = client.post(f"/coordinate/members/{neighbour.id}/act", headers=EN, follow_redirects=True)
    assert "You can only act for" in refused.text
    assert client.post(f"/coordinate/members/{stranger.id}/act").status_code == 404
    assert client.get(f"/coordinate/members/{stranger.id}").status_code == 404
    assert "You are acting for" not in client.get("/", headers=EN).text


def test_own_account_pages_are_refused_while_acting(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    wilma = make_member("Wilma", assisted=True, email=None)
    login(client, coordinator)
    client.post(f"/coordinate/members/{wilma.id}/act")
    page = client.post(
        "/settings/password",
        data={"current_password": PASSWORD, "new_password": "x" * 12},
        headers=EN,
        follow_redirects=True,
    )
    assert "This is about your own account. Stop acting for Wilma first." in page.text
    client.post("/settings/erasure")
    with app.app_context():
        assert db.session.get(Member, coordinator.id).erasure_requested_at is None


def test_member_sees_what_was_decided_about_them_with_the_reason(app, client, make_member, member):
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    client.post(f"/coordinate/members/{member.id}/suspend", data={"reason": "Missed three appointments."})
    client.post(f"/coordinate/members/{member.id}/reactivate", data={"reason": "We talked it over."})
    with app.app_context():
        assert [m.kind for m in mails(to=member.email)] == ["suspended", "reactivated"]
        assert "Missed three appointments." in mails(to=member.email)[0].body_text
    client.post("/logout")
    login(client, member)
    history = client.get("/settings/done-for-you", headers=EN).text
    assert "paused the account" in history and "Missed three appointments." in history
    assert "let the account back in" in history and "We talked it over." in history


def test_suspension_needs_a_reason_and_a_coordinator_cannot_pause_themselves(app, client, make_member, member):
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    no_reason = client.post(
        f"/coordinate/members/{member.id}/suspend", data={"reason": " "}, headers=EN, follow_redirects=True
    )
    assert "Please write down why" in no_reason.text
    itself = client.post(
        f"/coordinate/members/{coordinator.id}/suspend", data={"reason": "test"}, headers=EN, follow_redirects=True
    )
    assert "only an administrator can do this" in itself.text
    with app.app_context():
        assert {m.status for m in db.session.scalars(sa.select(Member))} == {"active"}


def test_pausing_twice_pauses_once(app, client, make_member, member):
    login(client, make_member("Karim", role="coordinator"))
    path = f"/coordinate/members/{member.id}/suspend"
    client.post(path, data={"reason": "Rude to a neighbour."})
    again = client.post(path, data={"reason": "Rude to a neighbour."}, headers=EN, follow_redirects=True)
    assert "Only active members can be paused." in again.text
    with app.app_context():
        assert [m.kind for m in mails(to=member.email)] == ["suspended"]
        paused = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "member.suspended")
        assert db.session.scalar(paused) == 1


def test_acting_ends_when_the_resident_is_paused(app, client, make_member):
    karim = make_member("Karim", role="coordinator")
    wilma = make_member("Wilma de Boer", assisted=True, email=None)
    login(client, karim)
    client.post(f"/coordinate/members/{wilma.id}/act")
    assert "You are acting for Wilma de Boer" in client.get("/", headers=EN).text
    other = web(app, make_member("Lotte", role="coordinator"))
    other.post(f"/coordinate/members/{wilma.id}/suspend", data={"reason": "Moved to a care home."})
    home = client.get("/", headers=EN).text
    assert "You are acting for" not in home and "Karim" in home


def test_paused_member_sees_why_when_trying_to_log_in(client, make_member, member):
    login(client, make_member("Karim", role="coordinator"))
    client.post(f"/coordinate/members/{member.id}/suspend", data={"reason": "Rude to a neighbour."})
    client.post("/logout")
    page = client.post("/login", data={"email": member.email, "password": PASSWORD}, headers=EN, follow_redirects=True)
    assert "Your account is paused" in page.text and "Rude to a neighbour." in page.text


def test_coordinator_powers_end_at_the_border(app, client, make_member, make_community):
    noord = make_community("noord", "Noord")
    outsider = make_member("Olena", role="coordinator", community_id=noord.id)
    member = make_member("Jan")
    login(client, outsider)
    for path in (f"/coordinate/members/{member.id}/suspend", f"/coordinate/members/{member.id}/erase"):
        assert client.post(path, data={"reason": "x", "confirm": "yes"}).status_code == 404
    assert "Jan" not in client.get("/coordinate/members").text
    with app.app_context():
        assert db.session.get(Member, member.id).status == "active"


def test_coordinator_lists_members_by_status(client, make_member):
    login(client, make_member("Karim", role="coordinator"))
    make_member("Paused Piet", status="suspended")
    assert "Paused Piet" not in client.get("/coordinate/members").text
    assert "Paused Piet" in client.get("/coordinate/members?status=suspended").text
    assert client.get("/coordinate/members?status=nonsense").status_code == 200


def test_community_settings_and_areas(app, client, make_member, community):
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    client.post(
        "/coordinate/community",
        data={
            "name": "Buurt Oost",
            "description": "Our part of town.",
            "join_policy": "open",
            "house_rules_en": "Be on time.",
            "house_rules_nl": "Kom op tijd.",
            "join_question_en": "",
        },
    )
    client.post("/coordinate/community/areas", data={"name": "Het Park"})
    duplicate = client.post("/coordinate/community/areas", data={"name": "het park"}, headers=EN, follow_redirects=True)
    assert "There is already an area with this name." in duplicate.text
    with app.app_context():
        stored = db.session.get(Community, community.id)
        assert (stored.name, stored.join_policy) == ("Buurt Oost", "open")
        assert stored.texts == {"house_rules": {"en": "Be on time.", "nl": "Kom op tijd."}}
        area_id = db.session.scalar(sa.select(Area.id))
    client.post(f"/coordinate/community/areas/{area_id}", data={"name": "Parkbuurt"})
    bad = client.post("/coordinate/community", data={"name": "<i>x</i>", "join_policy": "everyone"}, headers=EN)
    assert "Please choose from the list" in bad.text
    with app.app_context():
        assert [a.name for a in db.session.scalars(sa.select(Area))] == ["Parkbuurt"]
        assert db.session.get(Community, community.id).join_policy == "open"
    too_long = client.post(
        "/coordinate/community",
        data={"name": "Buurt Oost", "join_policy": "open", "contact_nl": "x" * 5001},
        headers=EN,
    )
    assert "at most 5000 characters" in too_long.text
    with app.app_context():
        assert db.session.get(Community, community.id).texts["house_rules"]["nl"] == "Kom op tijd."
    client.post("/logout")
    login(client, make_member("Jan"))
    assert client.get("/coordinate/community").status_code == 403


def test_admin_creates_a_community_and_appoints_its_first_coordinator(app, client, make_member):
    admin = make_member("Annemarie", role="coordinator", is_admin=True)
    login(client, admin)
    assert "Admin" in client.get("/", headers=EN).text
    made = client.post("/admin", data={"name": "Amsterdam-Noord", "slug": "noord", "join_policy": "approval"})
    assert made.status_code == 302
    again = client.post("/admin", data={"name": "Noord", "slug": "noord", "join_policy": "approval"}, headers=EN)
    assert "exists already" in again.text
    with app.app_context():
        noord = db.session.scalar(sa.select(Community).where(Community.slug == "noord"))
        assert len(noord.categories) > 10

    # Olena asks to join the new community; there is nobody to accept her yet.
    applicant = app.test_client()
    applicant.post(
        "/join/noord",
        data={
            "name": "Olena",
            "email": "olena@example.org",
            "locale": "en",
            "password": "kyiv is my home",
            "accept_rules": "y",
        },
    )
    with app.app_context():
        path = mails(to="olena@example.org")[0].body_text.split("http://localhost", 1)[1].split()[0]
    applicant.post(path)
    unknown = client.post(f"/admin/communities/{noord.id}", data={"email": admin.email}, headers=EN)
    assert "Nobody in Amsterdam-Noord has this email address" in unknown.text
    client.post(f"/admin/communities/{noord.id}", data={"email": "olena@example.org"})
    with app.app_context():
        olena = db.session.scalar(sa.select(Member).where(Member.email == "olena@example.org"))
        assert (olena.role, olena.status) == ("coordinator", "active")
        assert mails(to="olena@example.org", kind="coordinator_appointed")
    assert "Olena" in client.get(f"/admin/communities/{noord.id}").text
    client.post(f"/admin/communities/{noord.id}/coordinators/{olena.id}/remove")
    with app.app_context():
        assert db.session.get(Member, olena.id).role == "member"


def test_only_administrators_reach_the_admin_pages(client, make_member):
    login(client, make_member("Karim", role="coordinator"))
    assert client.get("/admin").status_code == 403
    assert client.post("/admin", data={"name": "X", "slug": "xx"}).status_code == 403
