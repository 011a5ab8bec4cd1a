"""Members report content, coordinators decide: reports of one item are read together, the
reporter hears what was decided (never who else reported), the author reads the reason and may
reply once, and hidden content leaves every list, page and API answer for everyone else."""

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.services import create_community
from timebank.exchanges import services as exchanges
from timebank.exchanges.models import Message, ThankYou
from timebank.extensions import db
from timebank.members.models import Member
from timebank.moderation.models import ModerationCase, Report
from timebank.uploads.models import Image
from timebank.uploads.services import upload_folder

from .api import token_headers
from .conftest import mails, web


@pytest.fixture
def people(app, make_member, make_post):
    """Fatima offers soup; Jan and Wilma are her neighbours, Karim coordinates; in Noord Olga
    coordinates. Jan asked Fatima for soup and wrote to her; Fatima thanked Jan on an earlier one."""
    people = {name: make_member(name) for name in ("Fatima", "Jan", "Wilma")}
    people["Karim"] = make_member("Karim", role="coordinator")
    people["Kees"] = make_member("Kees", role="coordinator")
    people["post"] = make_post(
        people["Fatima"], title="Warm soup", kind="offer", minutes=60, description="Lentil soup, call me"
    )
    with app.app_context():
        noord = create_community("noord", "Noord")
        db.session.flush()
        olga = Member(
            community_id=noord.id,
            name="Olga",
            role="coordinator",
            status="active",
            email="olga@example.org",
            password_hash=people["Karim"].password_hash,
        )
        db.session.add(olga)
        fatima, jan = db.session.get(Member, people["Fatima"].id), db.session.get(Member, people["Jan"].id)
        exchange = exchanges.propose(
            db.session.get(type(people["post"]), people["post"].id), jan, 60, actor=jan, message="Can I have some?"
        )
        message = exchanges.post_message(exchange, fatima, "Shut up, you fool", actor=fatima)
        note = ThankYou(exchange_id=exchange.id, author_id=fatima.id, member_id=jan.id, text="Rude note, idiot")
        db.session.add(note)
        fatima.bio = "Call 06-secret for cheap watches"
        db.session.commit()
        people.update(olga=olga.id, exchange=exchange.id, message=message.id, thanks=note.id, noord=noord.id)
    return people


def test_reports_of_one_item_are_grouped_and_the_reporter_is_told_it_was_received(app, people):
    jan, wilma = web(app, people["Jan"]), web(app, people["Wilma"])
    path = f"/report/post/{people['post'].id}"
    assert "Warm soup" in jan.get(path).text
    answer = jan.post(path, data={"reason": "spam", "text": "Advertising"}, follow_redirects=True)
    assert "We received your report" in answer.text and "Received. A coordinator will look at it." in answer.text
    again = jan.post(path, data={"reason": "rude"}, follow_redirects=True)
    assert "You reported this already" in again.text
    wilma.post(path, data={"reason": "other", "text": "Sells watches"})
    with app.app_context():
        case = db.session.scalars(sa.select(ModerationCase)).one()
        assert (case.item_type, case.author_id, case.state) == ("post", people["Fatima"].id, "open")
        assert [r.reporter_id for r in case.reports] == [people["Jan"].id, people["Wilma"].id]
    karim = web(app, people["Karim"])
    listing = karim.get("/coordinate/reports")
    assert "2 reports" in listing.text and "by Fatima" in listing.text
    detail = karim.get(f"/coordinate/reports/{case.id}")
    assert "Advertising" in detail.text and "Sells watches" in detail.text and "Jan" in detail.text
    # Title and description on lines of their own (`.reported-text` keeps line breaks; they ran together).
    assert '<blockquote class="card reported-text">Warm soup\nLentil soup, call me</blockquote>' in detail.text


def test_bad_reports_are_refused_in_words_and_change_nothing(app, people):
    jan, fatima = web(app, people["Jan"]), web(app, people["Fatima"])
    path = f"/report/post/{people['post'].id}"
    assert jan.post(path, data={"reason": "boredom"}).status_code == 422
    other = jan.post(path, data={"reason": "other", "text": ""})
    assert other.status_code == 422 and "Please say in a few words what is wrong." in other.text
    assert jan.post(path, data={"reason": "spam", "text": "x" * 501}).status_code == 422
    assert fatima.get(path).status_code == 404  # one's own post
    assert jan.get(f"/report/post/{2**31 - 1}").status_code == 404
    wilma = web(app, people["Wilma"])
    assert wilma.get(f"/report/message/{people['message']}").status_code == 404  # not in that exchange
    olga_client = app.test_client()
    olga_client.post("/login", data={"email": "olga@example.org", "password": "correct horse battery"})
    assert olga_client.get(path).status_code == 404  # another community
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def _reported(app, people, item_type, item_key=None):
    item_id = (
        people[item_key or item_type]
        if isinstance(people[item_key or item_type], int)
        else people[item_key or item_type].id
    )
    client = web(app, people["Jan"])
    assert client.post(f"/report/{item_type}/{item_id}", data={"reason": "rude"}).status_code == 302
    with app.app_context():
        return db.session.scalar(sa.select(ModerationCase.id).where(ModerationCase.item_type == item_type))


def test_a_hidden_post_leaves_the_market_search_and_api_and_everyone_hears_in_plain_words(app, people):
    case_id = _reported(app, people, "post")
    wilma = web(app, people["Wilma"])
    wilma.post(f"/report/post/{people['post'].id}", data={"reason": "spam"})
    karim = web(app, people["Karim"])
    decided = karim.post(
        f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "Selling watches is not a service"}
    )
    assert decided.status_code == 302
    post_id = people["post"].id
    assert "Warm soup" not in wilma.get("/market").text
    assert "Warm soup" not in wilma.get("/market?q=soup").text
    assert wilma.get(f"/market/posts/{post_id}").status_code in (403, 404)
    api = token_headers(app, people["Wilma"])
    assert all(p["id"] != post_id for p in wilma.get("/api/v1/posts", headers=api).json["items"])
    assert wilma.get(f"/api/v1/posts/{post_id}", headers=api).status_code == 404
    owner = web(app, people["Fatima"])
    assert "Selling watches is not a service" in owner.get(f"/market/posts/{post_id}").text
    mine = owner.get("/reports")
    assert "A coordinator hid it" in mine.text and "Selling watches is not a service" in mine.text
    assert "Jan" not in mine.text and "Wilma" not in mine.text  # never who reported
    told = wilma.get("/reports").text
    assert "A coordinator looked at it and hid it." in told
    with app.app_context():
        to_wilma = mails(to=db.session.get(Member, people["Wilma"].id).email, kind="notify_report_decided")
        assert len(to_wilma) == 1 and "Jan" not in to_wilma[0].body_text
        assert "http://localhost/reports" in to_wilma[0].body_text
        to_fatima = mails(to=db.session.get(Member, people["Fatima"].id).email, kind="notify_content_decided")
        assert len(to_fatima) == 0  # a post's owner gets the market's own email about it
        assert "Selling watches" in mails(kind="market_post_closed")[0].body_text
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions.count("moderation.reported") == 2 and "moderation.hidden" in actions


def test_a_hidden_message_thank_you_note_and_profile_are_shown_to_nobody_else(app, people):
    karim = web(app, people["Karim"])
    for item_type in ("message", "thanks", "profile"):
        key = "Fatima" if item_type == "profile" else item_type
        case_id = _reported(app, people, item_type, key)
        answer = karim.post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "Be kind"})
        assert answer.status_code == 302, answer.text
    jan = web(app, people["Jan"])
    api = token_headers(app, people["Jan"])
    exchange = jan.get(f"/exchanges/{people['exchange']}").text
    assert "Shut up" not in exchange and "Can I have some?" in exchange
    thread = jan.get(f"/api/v1/exchanges/{people['exchange']}/messages", headers=api).json["items"]
    assert all("Shut up" not in (m.get("text") or m.get("body") or "") for m in thread)
    assert "Rude note" not in jan.get(f"/members/{people['Jan'].id}").text
    profile = jan.get(f"/members/{people['Fatima'].id}").text
    assert "cheap watches" not in profile and "A coordinator hid the words" in profile
    assert jan.get(f"/api/v1/members/{people['Fatima'].id}", headers=api).json["bio"] == ""
    assert "cheap watches" not in jan.get(f"/market/posts/{people['post'].id}").text
    # The author still sees their own profile; the coordinators see every hidden thing on the case.
    assert "cheap watches" in web(app, people["Fatima"]).get(f"/members/{people['Fatima'].id}").text
    with app.app_context():
        cases = db.session.scalars(sa.select(ModerationCase).order_by(ModerationCase.id)).all()
        assert db.session.get(Message, people["message"]) is not None  # kept, for the audit
    assert "Shut up, you fool" in karim.get(f"/coordinate/reports/{cases[0].id}").text
    # Put back: everyone sees it again.
    karim.post(f"/coordinate/reports/{cases[0].id}", data={"decision": "restore", "reason": "On second thought"})
    assert "Shut up" in jan.get(f"/exchanges/{people['exchange']}").text


def test_the_author_replies_once_and_the_case_waits_again(app, people):
    case_id = _reported(app, people, "message")
    karim = web(app, people["Karim"])
    karim.post(f"/coordinate/reports/{case_id}", data={"decision": "warn", "reason": "Please stay polite"})
    fatima = web(app, people["Fatima"])
    notices = fatima.get("/notifications").text
    assert "About a message of yours: A coordinator left it, but asks you to mind the house rules." in notices
    assert "Please stay polite" in notices
    page = fatima.get("/reports").text
    assert "Please stay polite" in page and "asks you to mind the house rules" in page
    assert "Shut up, you fool" in page  # she sees what it is about
    fatima.post(f"/reports/{case_id}/reply", data={"text": "He started it"})
    second = fatima.post(f"/reports/{case_id}/reply", data={"text": "And again"}, follow_redirects=True)
    assert "You replied already" in second.text
    assert web(app, people["Jan"]).post(f"/reports/{case_id}/reply", data={"text": "Me too"}).status_code == 404
    with app.app_context():
        case = db.session.get(ModerationCase, case_id)
        assert (case.reply, case.state) == ("He started it", "open")
    assert "He started it" in karim.get(f"/coordinate/reports/{case_id}").text
    assert "the author replied" in karim.get("/coordinate/reports").text


def test_suspending_the_author_hides_the_content_and_pauses_them(app, people):
    case_id = _reported(app, people, "thanks")
    karim = web(app, people["Karim"])
    karim.post(f"/coordinate/reports/{case_id}", data={"decision": "suspend", "reason": "Insults, again"})
    with app.app_context():
        assert db.session.get(Member, people["Fatima"].id).status == "suspended"
        assert db.session.get(ModerationCase, case_id).is_hidden
        assert [
            e.reason
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action.in_(("moderation.suspended", "member.suspended")))
            )
        ] == ["Insults, again"] * 2


def test_a_decision_needs_a_reason_in_words(app, people):
    case_id = _reported(app, people, "post")
    karim = web(app, people["Karim"])
    refused = karim.post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": ""})
    assert refused.status_code == 422 and "The author will read it" in refused.text
    assert karim.post(f"/coordinate/reports/{case_id}", data={"decision": "explode"}).status_code == 422
    assert karim.post(f"/coordinate/reports/{case_id}", data={"decision": "restore", "reason": "x"}).status_code == 422
    with app.app_context():
        assert db.session.get(ModerationCase, case_id).state == "open"


def test_members_and_other_communities_coordinators_cannot_moderate(app, people):
    case_id = _reported(app, people, "post")
    fatima, wilma = web(app, people["Fatima"]), web(app, people["Wilma"])
    for client in (fatima, wilma):
        assert client.get("/coordinate/reports").status_code == 403
        assert client.get(f"/coordinate/reports/{case_id}").status_code == 403
        decided = client.post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "x"})
        assert decided.status_code == 403
    olga = app.test_client()
    olga.post("/login", data={"email": "olga@example.org", "password": "correct horse battery"})
    assert "Fatima" not in olga.get("/coordinate/reports").text
    assert olga.get(f"/coordinate/reports/{case_id}").status_code == 404
    assert olga.post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "x"}).status_code == 404
    with app.app_context():
        assert db.session.get(ModerationCase, case_id).state == "open"


def test_a_coordinator_cannot_moderate_a_coordinator(app, people):
    """Kees (coordinator) wrote a rude profile; Karim, of the same rank, cannot decide about it."""
    with app.app_context():
        db.session.get(Member, people["Kees"].id).bio = "Rude words"
        db.session.commit()
    jan = web(app, people["Jan"])
    jan.post(f"/report/profile/{people['Kees'].id}", data={"reason": "rude"})
    with app.app_context():
        case_id = db.session.scalar(sa.select(ModerationCase.id))
    karim = web(app, people["Karim"])
    page = karim.get(f"/coordinate/reports/{case_id}")
    assert "someone of a higher rank decides" in page.text
    refused = karim.post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "Rude"})
    assert refused.status_code == 422 and "higher rank" in refused.text
    with app.app_context():
        assert not db.session.get(ModerationCase, case_id).is_hidden


def test_reports_are_in_dutch_too(app, people):
    jan = web(app, people["Jan"], language="nl")
    page = jan.get(f"/report/post/{people['post'].id}").text
    assert "Advertising or spam" not in page and "Send the report" not in page


def test_a_post_its_owner_closed_is_hidden_from_its_address_too(app, people):
    with app.app_context():
        post = db.session.get(type(people["post"]), people["post"].id)
        post.status, post.closed_by_id = "closed", post.owner_id
        db.session.commit()
    jan = web(app, people["Jan"])
    assert jan.get(f"/market/posts/{people['post'].id}").status_code == 200  # closed, but open by its address
    case_id = _reported(app, people, "post")
    web(app, people["Karim"]).post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "Scam"})
    assert jan.get(f"/market/posts/{people['post'].id}").status_code == 404
    assert "Scam" in web(app, people["Fatima"]).get(f"/market/posts/{people['post'].id}").text


def test_the_photo_of_a_hidden_profile_is_not_served_to_neighbours(app, people):
    """Neither by its address nor in the members list; its owner and the coordinators still see it."""
    with app.app_context():
        image = Image(
            community_id=people["Fatima"].community_id,
            owner_id=people["Fatima"].id,
            filename="f.png",
            content_type="image/png",
            width=1,
            height=1,
        )
        db.session.add(image)
        db.session.flush()
        db.session.get(Member, people["Fatima"].id).photo_id = image.id
        db.session.commit()
        (upload_folder() / "f.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        image_id = image.id
    jan = web(app, people["Jan"])
    photo = f'src="/images/{image_id}"'
    profile = f"/members/{people['Fatima'].id}"
    assert jan.get(f"/images/{image_id}").status_code == 200 and photo in jan.get("/members").text
    assert photo in jan.get(profile).text
    case_id = _reported(app, people, "profile", "Fatima")
    web(app, people["Karim"]).post(f"/coordinate/reports/{case_id}", data={"decision": "hide", "reason": "Ads"})
    assert jan.get(f"/images/{image_id}").status_code == 404 and photo not in jan.get("/members").text
    assert photo not in jan.get(profile).text and photo in web(app, people["Fatima"]).get(profile).text
    assert web(app, people["Fatima"]).get(f"/images/{image_id}").status_code == 200
    assert photo in web(app, people["Fatima"]).get("/members").text  # her own, in the list as on her profile
    assert web(app, people["Karim"]).get(f"/images/{image_id}").status_code == 200
