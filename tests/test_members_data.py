"""Data rights: download everything (GDPR art. 15, 20) and erasure (art. 17)."""

import csv
import io
import json
import zipfile

import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.extensions import db
from timebank.ledger.services import account_for, fund_account, transfer
from timebank.ledger.verify import verify
from timebank.mail.models import OutboxMessage
from timebank.members.export import EXPORTERS, as_csv_zip, register_exporter
from timebank.members.models import JoinRequest, Member, MemberToken
from timebank.members.tokens import issue_token
from timebank.uploads.models import Image
from timebank.uploads.services import upload_folder

from .conftest import count, login, mails
from .test_members_profiles import png

EN = {"Accept-Language": "en"}


def test_member_downloads_everything_as_json(app, client, make_member):
    fatima = make_member("Fatima", bio='=HYPERLINK("http://evil.example")', phone="0612345678")
    login(client, fatima)
    client.post("/password/forgot", data={"email": fatima.email})  # an email to her, in the outbox
    client.post(
        "/settings/privacy",
        data={"show_email_to": "community", "show_phone_to": "coordinators", "show_balance_to": "coordinators"},
    )
    response = client.post("/settings/data/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.data)
    assert document["profile"]["email"] == fatima.email and document["profile"]["phone"] == "0612345678"
    assert document["profile"]["email_shown_to"] == "community"
    assert [m["to"] for m in document["mail"]] == [fatima.email] and "/password/reset/" in document["mail"][0]["body"]
    assert "member.privacy_updated" in [e["action"] for e in document["audit_events"]]
    assert document["join_history"] == []
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "member.data_exported"))


def test_csv_export_is_a_zip_of_sections_safe_for_spreadsheets(client, make_member):
    fatima = make_member("Fatima", bio='=HYPERLINK("http://evil.example")')
    login(client, fatima)
    response = client.post("/settings/data/export.zip")
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"profile.csv", "join_history.csv", "audit_events.csv", "mail.csv"} <= set(archive.namelist())
    rows = {
        row["field"]: row["value"]
        for row in csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig")))
    }
    assert rows["bio"] == '\'=HYPERLINK("http://evil.example")'  # not run as a formula
    assert rows["name"] == "Fatima"


def test_other_domains_add_their_sections(ctx, member):
    register_exporter("example", lambda m: [{"amount": -90, "note": "-cleaning"}])
    try:
        archive = zipfile.ZipFile(io.BytesIO(as_csv_zip(member)))
        rows = list(csv.DictReader(io.StringIO(archive.read("example.csv").decode("utf-8-sig"))))
        assert rows == [{"amount": "-90", "note": "'-cleaning"}]  # numbers stay numbers
    finally:
        del EXPORTERS["example"]


def test_export_holds_the_members_hours_and_posts(app, client, make_member, make_post):
    fatima = make_member("Fatima")
    jan = make_member("Jan")
    make_post(fatima, title="Couscous for ten")
    with app.app_context():
        transfer(
            account_for(db.session.get(Member, jan.id)),
            account_for(db.session.get(Member, fatima.id)),
            45,
            kind="gift",
            actor=None,
            memo="Thank you",
        )
        db.session.commit()
    login(client, fatima)
    document = json.loads(client.post("/settings/data/export.json").data)
    assert [(e["amount_minutes"], e["what"], e["memo"], e["with"]) for e in document["ledger"]] == [
        (45, "bedankje van Jan", "Thank you", ["Jan"])
    ]  # in the member's language
    assert [p["title"] for p in document["posts"]] == ["Couscous for ten"]


def test_coordinator_downloads_the_data_of_an_assisted_member(client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    wilma = make_member("Wilma", assisted=True, email=None, phone="0201234567")
    login(client, coordinator)
    client.post(f"/coordinate/members/{wilma.id}/act")
    document = json.loads(client.post("/settings/data/export.json").data)
    assert document["profile"]["name"] == "Wilma" and document["profile"]["phone"] == "0201234567"
    assert "member.acting_started" in [e["action"] for e in document["audit_events"]]


def test_erasure_is_asked_by_the_member_and_done_by_a_coordinator(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    fatima = make_member("Fatima", bio="Cook.", phone="0612345678", languages=["ar"])
    with app.app_context():
        image = Image(
            community_id=fatima.community_id,
            owner_id=fatima.id,
            filename="f.png",
            content_type="image/png",
            width=1,
            height=1,
        )
        (upload_folder() / "f.png").write_bytes(png().getvalue())
        db.session.add(image)
        db.session.flush()
        db.session.get(Member, fatima.id).photo_id = image.id
        # Her words when she joined, and a password link she never used.
        db.session.add(
            JoinRequest(
                member_id=fatima.id,
                community_id=fatima.community_id,
                state="approved",
                motivation="I live at Dorpsstraat 5 with my two sons.",
                question="Which street do you live in?",
                answer="Dorpsstraat",
                reason="Welcome, neighbour at number 5!",
            )
        )
        issue_token(db.session.get(Member, fatima.id), "reset")
        db.session.commit()
    login(client, fatima)
    client.post("/settings/erasure")
    with app.app_context():
        assert mails(to=fatima.email, kind="erasure_received")
        assert mails(to=coordinator.email, kind="erasure_requested")
    client.post("/logout")

    login(client, coordinator)
    assert "Fatima" in client.get("/coordinate", headers=EN).text  # on the coordinator's list
    unconfirmed = client.post(f"/coordinate/members/{fatima.id}/erase", data={}, headers=EN, follow_redirects=True)
    assert "Please tick the box" in unconfirmed.text
    done = client.post(
        f"/coordinate/members/{fatima.id}/erase",
        data={"confirm": "yes", "reason": "She asked."},
        headers=EN,
        follow_redirects=True,
    )
    assert f"Voormalig lid #{fatima.id}" in done.text
    with app.app_context():
        erased = db.session.get(Member, fatima.id)
        assert erased.name == f"Voormalig lid #{fatima.id}"  # in the installation's language
        assert (erased.email, erased.phone, erased.password_hash, erased.bio, erased.photo_id) == (
            None,
            None,
            None,
            "",
            None,
        )
        assert (erased.status, erased.languages, erased.skills) == ("erased", [], [])
        assert count(Image) == 0 and not (upload_folder() / "f.png").exists()
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.member_id == fatima.id)
            )
            == 0
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberToken)) == 0
        joined = db.session.scalar(sa.select(JoinRequest))
        assert (joined.motivation, joined.answer, joined.reason, joined.state) == ("", "", "", "approved")
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.erased"))
        assert (event.actor_id, event.subject_id, event.reason) == (coordinator.id, fatima.id, "She asked.")
        # Her earlier events stay, pointing at the same (now nameless) member.
        assert (
            db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "member.erasure_requested")).actor_id
            == fatima.id
        )
    again = client.post(
        f"/coordinate/members/{fatima.id}/erase", data={"confirm": "yes"}, headers=EN, follow_redirects=True
    )
    assert "This member has been erased already." in again.text
    assert client.get(f"/members/{fatima.id}").status_code == 404


def test_asking_twice_sends_one_request(app, client, make_member, member):
    make_member("Karim", role="coordinator")
    login(client, member)
    client.post("/settings/erasure")
    client.post("/settings/erasure")
    with app.app_context():
        assert len(mails(kind="erasure_requested")) == 1
    assert "You asked to erase your account on" in client.get("/settings/data", headers=EN).text


def test_erasing_a_member_with_hours_settles_them_to_the_fund_first(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    fatima = make_member("Fatima")
    jan = make_member("Jan")
    with app.app_context():
        transfer(
            account_for(db.session.get(Member, jan.id)),
            account_for(db.session.get(Member, fatima.id)),
            90,
            kind="gift",
            actor=None,
            memo="Thanks for the soup",
        )
        db.session.commit()
    login(client, coordinator)
    page = client.get(f"/coordinate/members/{fatima.id}", headers=EN).text
    assert "1 hour 30 minutes is first moved to the community fund" in page
    client.post(f"/coordinate/members/{fatima.id}/erase", data={"confirm": "yes", "reason": "Moved away."})
    with app.app_context():
        erased = db.session.get(Member, fatima.id)
        assert erased.status == "erased"
        assert account_for(erased, create=False).balance == 0
        assert fund_account(erased.community_id, create=False).balance == 90
        assert verify().ok


def test_erasure_calls_off_open_exchanges_and_takes_her_posts_out(app, client, make_member, make_post):
    """Neighbours are not left waiting on someone who is gone, and her words leave the market."""
    from timebank.exchanges import services as ex
    from timebank.exchanges.models import Exchange
    from timebank.market.models import Post
    from timebank.notifications.models import Notification

    coordinator, fatima, jan, wilma = (
        make_member(name, role="coordinator" if name == "Karim" else "member")
        for name in ("Karim", "Fatima", "Jan", "Wilma")
    )
    soup = make_post(fatima, title="Soup", description="Ring me on 0612345678")
    bikes = make_post(jan, title="Bike repair")
    with app.app_context():
        f, j, w = (db.session.get(Member, m.id) for m in (fatima, jan, wilma))
        settled = ex.propose(db.session.get(Post, soup.id), j, 60, actor=j)
        ex.accept(settled, actor=f)
        ex.confirm(settled, actor=j)
        asked = ex.propose(db.session.get(Post, soup.id), w, 30, actor=w)
        agreed = ex.propose(db.session.get(Post, bikes.id), f, 45, actor=f)
        ex.accept(agreed, actor=j)
        lesson = ex.create_group(w, "provider", "Sewing lesson", 60, [f, j], actor=w)
        db.session.commit()
        ids = settled.id, asked.id, agreed.id, lesson.id
        assert (
            db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.member_id == fatima.id)) > 0
        )
    login(client, coordinator)
    client.post(f"/coordinate/members/{fatima.id}/erase", data={"confirm": "yes", "reason": "She moved."})
    with app.app_context():
        settled, asked, agreed, lesson = (db.session.get(Exchange, i) for i in ids)
        assert settled.state == "completed"
        assert (asked.state, agreed.state) == ("cancelled", "cancelled")
        assert asked.reason == "Dit lid is gestopt met de tijdbank."  # in the installation's language
        assert lesson.state == "proposed" and lesson.participant(fatima.id).answer == "declined"
        told = db.session.scalars(sa.select(Notification.member_id).where(Notification.kind == "cancelled")).all()
        assert sorted(told) == sorted([wilma.id, jan.id])
        assert (
            db.session.scalar(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "exchange.cancelled", AuditEvent.subject_id == agreed.id
                )
            ).actor_id
            == coordinator.id
        )
        post = db.session.get(Post, soup.id)
        assert (post.status, post.title, post.description) == ("closed", "Soup", "")
        assert db.session.get(Post, bikes.id).status == "active"
        assert (
            db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.member_id == fatima.id)) == 0
        )
        assert verify().ok
