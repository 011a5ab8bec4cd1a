"""Profiles through the API: what each role sees of a member, as the profile page decides, and
the photos they link to."""

import sqlalchemy as sa

from timebank.communities.models import Area, Category
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.members.models import Member
from timebank.moderation import services as moderation
from timebank.uploads.services import save_image

from .test_uploads_acting_profile import photo_bytes, upload

PRIVATE = {"email": None, "phone": None, "balance_minutes": None}


def fill_profile(app, member_id: int, **choices) -> dict:
    """Fatima's profile with everything filled in, 30 minutes on her account; returns her contact details."""
    with app.app_context():
        fatima = db.session.get(Member, member_id)
        area = Area(community_id=fatima.community_id, name="Het Park")
        skills = db.session.scalars(
            sa.select(Category).where(Category.community_id == fatima.community_id).order_by(Category.position).limit(2)
        ).all()
        photo = save_image(upload(photo_bytes()), community_id=fatima.community_id, owner_id=fatima.id)
        fatima.area, fatima.skills, fatima.photo = area, skills, photo
        fatima.bio, fatima.languages, fatima.phone = "I cook for twenty people.", ["ar", "nl"], "06 12345678"
        for name, value in choices.items():
            setattr(fatima, name, value)
        neighbour = db.session.scalar(sa.select(Member).where(Member.name == "Jan"))
        ledger.transfer(ledger.account_for(neighbour), ledger.account_for(fatima), 30, kind="exchange", actor=None)
        db.session.commit()
        return {
            "email": fatima.email,
            "phone": "06 12345678",
            "balance_minutes": 30,
            "area": {"id": area.id, "name": "Het Park"},
            "photo_id": photo.id,
            "skills": [{"id": c.id, "name": c.name("en")} for c in skills],
        }


def test_each_role_sees_what_the_members_privacy_choices_allow(app, client, callers):
    fatima = callers["member"].member
    details = fill_profile(app, fatima.id)
    url = f"/api/v1/members/{fatima.id}"
    answers = {role: client.get(url, headers=caller.headers) for role, caller in callers.items()}
    assert {role: answer.status_code for role, answer in answers.items()} == {
        "member": 200,
        "other_member": 200,
        "coordinator": 200,
        "other_coordinator": 404,
        "anonymous": 401,
    }
    contact = {name: details[name] for name in PRIVATE}
    assert answers["member"].json == {
        "id": fatima.id,
        "name": "Fatima",
        "role": "member",
        "area": details["area"],
        "bio": "I cook for twenty people.",
        "skills": details["skills"],
        "languages": ["ar", "nl"],
        "photo_url": f"http://localhost/api/v1/images/{details['photo_id']}",
        **contact,
    }
    assert answers["coordinator"].json == answers["member"].json
    assert answers["other_member"].json == {**answers["member"].json, **PRIVATE}  # "coordinators only" by default


def test_members_who_share_with_the_community_are_seen_by_neighbours(app, client, callers):
    fatima = callers["member"].member
    details = fill_profile(app, fatima.id, show_email_to="community", show_balance_to="community")
    shown = client.get(f"/api/v1/members/{fatima.id}", headers=callers["other_member"].headers).json
    assert (shown["email"], shown["phone"], shown["balance_minutes"]) == (details["email"], None, 30)
    karim = callers["coordinator"].member
    assert client.get(f"/api/v1/members/{karim.id}", headers=callers["member"].headers).json["role"] == "coordinator"


def test_members_who_are_not_active_are_not_found(app, client, callers, make_member):
    for status in ("pending", "suspended", "erased"):
        gone = make_member(f"Gone {status}", status=status)
        for role in ("other_member", "coordinator"):
            response = client.get(f"/api/v1/members/{gone.id}", headers=callers[role].headers)
            assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/members/999999", headers=callers["member"].headers).status_code == 404


def test_photos_open_with_a_token_for_the_community_only(app, client, callers):
    photo_id = fill_profile(app, callers["member"].member.id)["photo_id"]
    url = f"/api/v1/images/{photo_id}"
    shown = client.get(url, headers=callers["other_member"].headers)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and shown.data[:2] == b"\xff\xd8"
    assert client.get(url, headers=callers["other_coordinator"].headers).status_code == 404
    assert client.get(url, headers=callers["anonymous"].headers).status_code == 401


def test_a_member_who_shares_only_her_balance_keeps_her_email_from_neighbours(app, client, callers):
    fatima = callers["member"].member
    fill_profile(app, fatima.id, show_balance_to="community")
    shown = client.get(f"/api/v1/members/{fatima.id}", headers=callers["other_member"].headers).json
    assert (shown["email"], shown["phone"], shown["balance_minutes"]) == (None, None, 30)


def test_a_profile_a_coordinator_hid_keeps_its_words_and_photo_for_its_owner_only(app, client, callers):
    fatima, jan, karim = (callers[role].member for role in ("member", "other_member", "coordinator"))
    photo_id = fill_profile(app, fatima.id)["photo_id"]
    with app.app_context():
        filed = moderation.report(db.session.get(Member, jan.id), "profile", fatima.id, "rude")
        moderation.decide(filed.case, actor=db.session.get(Member, karim.id), decision="hide", reason="Be kind")
        db.session.commit()
    url = f"/api/v1/members/{fatima.id}"
    own = client.get(url, headers=callers["member"].headers).json
    assert (own["bio"], own["photo_url"]) == ("I cook for twenty people.", f"http://localhost/api/v1/images/{photo_id}")
    for role in ("other_member", "coordinator"):
        shown = client.get(url, headers=callers[role].headers).json
        assert (shown["name"], shown["bio"], shown["photo_url"]) == ("Fatima", "", None), role
