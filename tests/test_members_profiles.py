"""Profiles, privacy choices and the member directory."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from timebank.communities.models import Area, Category
from timebank.extensions import db
from timebank.members.models import Member
from timebank.permissions import can_see_balance
from timebank.uploads.models import Image

from .conftest import ON_POSTGRES, count, login, web
from .queries import sqlite_plan, statements

EN = {"Accept-Language": "en"}


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 40), (10, 120, 60)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def community_choices(app, community_id):
    with app.app_context():
        area = Area(community_id=community_id, name="Het Park")
        db.session.add(area)
        db.session.commit()
        skills = db.session.scalars(
            sa.select(Category.id).where(Category.community_id == community_id).order_by(Category.position).limit(2)
        ).all()
        return area.id, skills


def test_member_fills_in_their_profile(app, client, member):
    area_id, skills = community_choices(app, member.community_id)
    login(client, member)
    response = client.post(
        "/settings/profile",
        data={
            "name": "Fatima E.",
            "bio": "I cook for twenty people.",
            "skills": [str(s) for s in skills],
            "languages": ["ar", "nl"],
            "area": str(area_id),
            "phone": "06 12345678",
            "locale": "en",
            "photo": (png(), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(f"/members/{member.id}", headers=EN)
    for shown in (
        "Fatima E.",
        "I cook for twenty people.",
        "Cooking and catering",
        "Cleaning",
        "Het Park",
        "Arabic",
        "Dutch",
    ):
        assert shown in page.text
    with app.app_context():
        stored = db.session.get(Member, member.id)
        assert stored.photo_id and stored.languages == ["ar", "nl"] and stored.locale == "en"
    assert client.get(f"/images/{stored.photo_id}").status_code == 200


def test_a_paused_members_photo_is_shown_to_their_coordinators_only(app, client, member, make_member):
    login(client, member)
    client.post(
        "/settings/profile",
        data={"name": member.name, "locale": "nl", "photo": (png(), "me.png")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        photo = f"/images/{db.session.get(Member, member.id).photo_id}"
    neighbour, coordinator = web(app, make_member("Jan")), web(app, make_member("Karim", role="coordinator"))
    assert neighbour.get(photo).status_code == 200
    coordinator.post(f"/coordinate/members/{member.id}/suspend", data={"reason": "Asked for a break."})
    assert (neighbour.get(photo).status_code, coordinator.get(photo).status_code) == (404, 200)


def test_replacing_and_removing_the_photo_deletes_the_old_one(app, client, member):
    login(client, member)
    form = {"name": member.name, "locale": "nl"}
    client.post("/settings/profile", data={**form, "photo": (png(), "a.png")}, content_type="multipart/form-data")
    client.post("/settings/profile", data={**form, "photo": (png(), "b.png")}, content_type="multipart/form-data")
    with app.app_context():
        assert count(Image) == 1
    client.post("/settings/profile", data={**form, "remove_photo": "y"}, content_type="multipart/form-data")
    with app.app_context():
        assert count(Image) == 0 and db.session.get(Member, member.id).photo_id is None


def test_bad_profile_input_is_refused_and_nothing_changes(app, client, member, make_community):
    other_area, _skills = community_choices(app, make_community("noord", "Noord").id)
    login(client, member)
    for data, message in [
        ({"name": "<b>Fatima</b>"}, "cannot contain"),
        ({"name": ""}, "Please fill this in."),
        ({"bio": "x" * 1001}, "at most 1000 characters"),
        ({"phone": "call me maybe"}, "digits only"),
        ({"area": str(other_area)}, "Please choose from the list"),
        ({"languages": ["klingon"]}, "Please choose from the list"),
        ({"photo": (io.BytesIO(b"<script>"), "x.jpg")}, "not a photo we can use"),
    ]:
        page = client.post(
            "/settings/profile",
            data={"name": "Fatima", "locale": "en", **data},
            content_type="multipart/form-data",
            headers=EN,
        )
        assert page.status_code == 422 and message in page.text, message
    with app.app_context():
        stored = db.session.get(Member, member.id)
        assert (stored.name, stored.bio, stored.phone, stored.area_id) == ("Fatima", "", None, None)


def test_contact_details_are_for_coordinators_until_the_member_chooses(app, client, make_member):
    fatima = make_member("Fatima", phone="0612345678")
    neighbour = make_member("Jan")
    coordinator = make_member("Karim", role="coordinator")
    login(client, neighbour)
    assert fatima.email not in client.get(f"/members/{fatima.id}").text
    assert fatima.email not in client.get("/members?q=Fatima").text
    assert "Balance" not in client.get(f"/members/{fatima.id}", headers=EN).text
    assert "Balance" not in client.get("/members?q=Fatima", headers=EN).text
    client.post("/logout")
    login(client, coordinator)
    assert fatima.email in client.get(f"/members/{fatima.id}").text
    assert "0612345678" in client.get("/members?q=Fatima").text
    client.post("/logout")

    login(client, fatima)
    client.post(
        "/settings/privacy",
        data={"show_email_to": "community", "show_phone_to": "coordinators", "show_balance_to": "community"},
    )
    client.post("/logout")
    login(client, neighbour)
    profile = client.get(f"/members/{fatima.id}").text
    assert fatima.email in profile and "0612345678" not in profile
    listing = client.get("/members?q=Fatima").text
    assert fatima.email in listing and "0612345678" not in listing
    assert "Balance" in client.get(f"/members/{fatima.id}", headers=EN).text
    assert "Balance: 0 minutes" in client.get("/members?q=Fatima", headers=EN).text


@pytest.mark.parametrize(
    ("shared", "shown", "not_shown"),
    [
        ({"show_email_to": "coordinators", "show_balance_to": "community"}, "Balance", "@example.org"),
        ({"show_email_to": "community", "show_balance_to": "coordinators"}, "@example.org", "Balance"),
    ],
)
def test_sharing_one_detail_with_neighbours_shows_that_one_only(app, client, make_member, shared, shown, not_shown):
    fatima = make_member("Fatima", phone="0612345678")
    neighbour = make_member("Jan", email="jan@example.net")
    login(client, fatima)
    client.post("/settings/privacy", data={"show_phone_to": "coordinators", **shared})
    client.post("/logout")
    login(client, neighbour)
    profile = client.get(f"/members/{fatima.id}", headers=EN).text
    assert shown in profile and not_shown not in profile and "0612345678" not in profile


def test_balance_privacy_predicate(app, make_member, make_community):
    fatima, jan = make_member("Fatima"), make_member("Jan")
    coordinator = make_member("Karim", role="coordinator")
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id, role="coordinator")
    assert can_see_balance(fatima, fatima) and can_see_balance(coordinator, fatima)
    assert not can_see_balance(jan, fatima) and not can_see_balance(stranger, fatima)
    fatima.show_balance_to = "community"
    assert can_see_balance(jan, fatima) and not can_see_balance(stranger, fatima)


def test_invalid_privacy_choice_is_refused(app, client, member):
    login(client, member)
    page = client.post(
        "/settings/privacy",
        data={"show_email_to": "everyone", "show_phone_to": "community", "show_balance_to": "community"},
        headers=EN,
    )
    assert "Please choose from the list" in page.text
    with app.app_context():
        assert db.session.get(Member, member.id).show_phone_to == "coordinators"


def test_directory_searches_active_members_of_my_community_only(app, client, make_member, make_community):
    area_id, skills = community_choices(app, make_member("Anchor").community_id)
    with app.app_context():
        cook = Member(
            community_id=db.session.get(Area, area_id).community_id,
            name="Yasmina Kaya",
            status="active",
            area_id=area_id,
            skills=[db.session.get(Category, skills[0])],
        )
        db.session.add(cook)
        db.session.commit()
    make_member("Yasmin Pending", status="pending")
    make_member("Yasmina Noord", community_id=make_community("noord", "Noord").id)
    viewer = make_member("Jan")
    login(client, viewer)
    found = client.get("/members?q=yasm", headers=EN).text
    assert "Yasmina Kaya" in found and "Pending" not in found and "Noord" not in found
    assert "1 member found" in found
    assert "Yasmina Kaya" in client.get(f"/members?skill={skills[0]}").text
    assert "Yasmina Kaya" not in client.get(f"/members?skill={skills[1]}").text
    assert "Yasmina Kaya" in client.get(f"/members?area={area_id}").text
    assert "Yasmina Kaya" not in client.get("/members?q=100%25").text  # % is a letter, not a wildcard
    assert client.get("/members?area=not-a-number&page=999").status_code == 200


def _twenty_five_neighbours(app, viewer) -> None:
    with app.app_context():
        db.session.add_all(
            [Member(community_id=viewer.community_id, name=f"Neighbour {i:02d}", status="active") for i in range(25)]
        )
        db.session.commit()


def test_directory_pages(app, client, make_member):
    viewer = make_member("Aaron")
    _twenty_five_neighbours(app, viewer)
    login(client, viewer)
    first = client.get("/members", headers=EN).text
    assert "26 members found" in first and "Page 1 of 2" in first and "Neighbour 18" in first
    second = client.get("/members?page=2", headers=EN).text
    assert "Neighbour 24" in second and "Neighbour 18" not in second


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's plan")
def test_a_name_search_is_counted_from_the_directory_index(app, client, make_member):
    """The count of members a name finds reads the names in ix_members_directory: counted as the
    page's statement, SQLite read every member's row through another index to match the name."""
    viewer = make_member("Aaron")
    _twenty_five_neighbours(app, viewer)
    login(client, viewer)
    with statements(app, with_parameters=True) as sent:
        found = client.get("/members?q=neighb", headers=EN).text
    assert "25 members found" in found and "Page 1 of 2" in found
    with app.app_context():
        plan = sqlite_plan(sent, "SELECT count(*)")
    assert "INDEX ix_members_directory (community_id=? AND status=?)" in plan


def test_directory_needs_login(client, community):
    assert client.get("/members").status_code == 302
