"""Email per kind of event: the member's overall choice is the default, and each kind of event may
have its own (right away, in the daily summary, or none). The app's list always shows everything."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.db import utcnow
from timebank.exchanges import transfers
from timebank.extensions import db
from timebank.members.export import collect
from timebank.members.models import Member
from timebank.notifications import services as notes
from timebank.notifications.models import EmailChoice, Notification

from .conftest import login, mails

EN = {"Accept-Language": "en"}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.text)


def checked(page: str) -> dict[str, str]:
    """The choices a settings page shows as chosen, by field name."""
    return dict(re.findall(r'<input checked id="[\w-]+" name="(\w+)" type="radio" value="(\w+)"', page))


def own_choices(member_id: int) -> tuple[str, dict[str, str]]:
    member = db.session.get(Member, member_id)
    return member.notify_email, {
        c.event: c.choice for c in db.session.scalars(sa.select(EmailChoice).where(EmailChoice.member_id == member_id))
    }


@pytest.mark.parametrize("choice", notes.EMAIL_CHOICES)
def test_each_event_follows_its_own_choice_and_the_others_the_default(ctx, make_member, choice):
    """For every event: with its own choice, every kind of that event is mailed that way, while the
    other events follow the overall choice (a different one)."""
    default = notes.EMAIL_CHOICES[(notes.EMAIL_CHOICES.index(choice) + 1) % 3]
    jan = make_member("Jan")
    members = {}
    for event in notes.EMAIL_EVENTS:
        member = members[event] = make_member(f"Fatima {event}")
        notes.set_email_choice(member, default, {event: choice})
        for kind in notes.EVENT_OF_KIND:
            notes.notify(member, kind, actor=jan, minutes=30)
    db.session.commit()

    def routed(event, kind):
        return choice if notes.EVENT_OF_KIND[kind] == event else default

    for event, member in members.items():
        right_away = {f"notify_{kind}" for kind in notes.EVENT_OF_KIND if routed(event, kind) == "immediately"}
        assert {m.kind for m in mails(to=member.email)} == right_away, event
    summaries = "daily" in (choice, default)  # for their own event, or for the others
    assert notes.queue_digests() == (len(members) if summaries else 0)
    for event, member in members.items():
        digests = mails(to=member.email, kind="notifications_digest")
        assert len(digests) == summaries, event
        items = db.session.scalars(sa.select(Notification).where(Notification.member_id == member.id)).all()
        assert len(items) == len(notes.EVENT_OF_KIND)  # in the app, whatever the email choice
        for item in items:
            way = routed(event, item.kind)
            assert any(notes.describe(item) in d.body_text for d in digests) == (way == "daily"), (event, item.kind)
            assert (item.emailed_at is not None) == (way != "off"), (event, item.kind)
    assert notes.queue_digests() == 0


def test_a_paused_member_is_told_in_the_app_but_not_emailed(ctx, make_member):
    paused, jan = make_member("Fatima", status="suspended"), make_member("Jan")
    notes.notify(db.session.get(Member, paused.id), "gift", actor=db.session.get(Member, jan.id), minutes=30)
    db.session.commit()
    assert mails(to=paused.email) == []
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


def test_every_kind_of_notification_belongs_to_one_event(ctx, member):
    kinds = [kind for kinds in notes.EMAIL_EVENTS.values() for kind in kinds]
    assert len(kinds) == len(set(kinds))
    with pytest.raises(KeyError):
        notes.notify(member, "surprise")


def test_choices_on_the_settings_page_route_the_emails(app, client, neighbours):
    """Fatima wants email right away, but not about proposals; Jan proposes and gives her hours."""
    fatima, jan, offer = neighbours["Fatima"], neighbours["Jan"], neighbours["offer"]
    login(client, fatima)
    page = text(client.get("/notifications/settings", headers=EN))
    assert "Someone proposes an exchange to you, or adds you to a group exchange" in page
    assert checked(page) == {"email": "immediately", **{event: "default" for event in notes.EMAIL_EVENTS}}
    data = {"email": "immediately", "proposals": "off", "messages": "daily"}
    response = client.post("/notifications/settings", data=data, headers=EN)
    assert response.status_code == 302
    assert "You get emails as you chose for each kind of event." in text(
        client.get(response.headers["Location"], headers=EN)
    )
    assert checked(text(client.get("/notifications/settings"))) == {
        "email": "immediately",
        **{event: "default" for event in notes.EMAIL_EVENTS},
        **data,
    }

    client.post("/logout")
    login(client, jan)
    client.post(f"/exchanges/respond/{offer.id}", data={"hours": "1"})
    with app.app_context():
        transfers.give_hours(db.session.get(Member, jan.id), db.session.get(Member, fatima.id), 15, actor=jan)
        db.session.commit()
        assert [m.kind for m in mails(to=fatima.email)] == ["notify_gift"]
        assert {
            n.kind for n in db.session.scalars(sa.select(Notification).where(Notification.member_id == fatima.id))
        } == {"proposed", "gift"}
        assert own_choices(fatima.id) == ("immediately", {"proposals": "off", "messages": "daily"})

    # Back to the default: the event's own choice is gone.
    client.post("/logout")
    login(client, fatima)
    client.post("/notifications/settings", data={**data, "proposals": "default"})
    with app.app_context():
        assert own_choices(fatima.id) == ("immediately", {"messages": "daily"})


def test_bad_choices_are_refused_and_nothing_changes(app, client, member):
    login(client, member)
    client.post("/notifications/settings", data={"email": "daily", "thanks": "off"})
    refused = client.post(
        "/notifications/settings", data={"email": "off", "thanks": "immediately", "limits": "hourly"}, headers=EN
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "Please fix 1 thing below." in page and "Please choose from the list." in page
    with app.app_context():
        assert own_choices(member.id) == ("daily", {"thanks": "off"})

    with app.app_context(), app.test_request_context(headers=EN):
        fatima = db.session.get(Member, member.id)
        with pytest.raises(notes.NotificationError, match="There is no such kind of event"):
            notes.set_email_choice(fatima, "off", {"thanks": "immediately", "parties": "off"})
        with pytest.raises(notes.NotificationError, match="Please choose one of the options.") as refusal:
            notes.set_email_choice(fatima, "off", {"thanks": "immediately", "limits": "hourly"})
        assert refusal.value.field == "limits"
        with pytest.raises(notes.NotificationError):
            notes.set_email_choice(fatima, "weekly", {"thanks": "immediately"})
        db.session.rollback()
        assert own_choices(member.id) == ("daily", {"thanks": "off"})


def test_dutch_page(client, make_member):
    fatima = make_member("Fatima", locale="nl")
    login(client, fatima)
    page = text(client.get("/notifications/settings"))
    assert "Iemand stelt je een ruil voor, of voegt je toe aan een groepsruil" in page
    assert "Zoals hierboven" in page and "Mijn keuzes opslaan" in page
    refused = text(client.post("/notifications/settings", data={"email": "daily", "gifts": "hourly"}))
    assert "Kies iets uit de lijst." in refused


def test_members_without_email_see_that_they_get_none(client, make_member):
    karim = make_member("Karim", role="coordinator")
    wilma = make_member("Wilma", email=None, assisted=True)
    login(client, karim)
    client.post(f"/coordinate/members/{wilma.id}/act")
    page = text(client.get("/notifications/settings", headers=EN))
    assert "Wilma has no email address, so they get no emails." in page
    assert 'name="proposals"' not in page


def test_the_export_holds_the_choices(ctx, member):
    notes.set_email_choice(member, "daily", {"gifts": "immediately", "disputes": "off"})
    section = collect(member)["notification_choices"]
    assert section == {
        "email": "daily",
        **{f"email_{event}": "default" for event in notes.EMAIL_EVENTS},
        "email_gifts": "immediately",
        "email_disputes": "off",
    }


def test_the_daily_summary_holds_only_what_is_new_and_goes_at_most_once_a_day(ctx, make_member):
    jan = make_member("Jan")
    fatima, wilma = make_member("Fatima", locale="en"), make_member("Wilma", locale="en")
    paused, without_email = make_member("Paul", status="suspended"), make_member("Mrs Bos", email=None)
    for member in (fatima, wilma, paused, without_email):
        notes.set_email_choice(member, "daily")
        notes.notify(member, "gift", actor=jan, minutes=30)
    seen = notes.notify(wilma, "gift", actor=jan, minutes=45)
    notes.mark_read(wilma, notification_id=seen.id)
    db.session.commit()
    morning = utcnow()
    assert notes.queue_digests(morning) == 2  # not the suspended member, not the one without an address
    [summary] = mails(to=wilma.email, kind="notifications_digest")
    assert "30 minutes" in summary.body_text and "45 minutes" not in summary.body_text  # she read that one

    notes.notify(fatima, "gift", actor=jan, minutes=60)
    db.session.commit()
    assert notes.queue_digests(morning + notes.DIGEST_INTERVAL - timedelta(minutes=1)) == 0  # one a day
    assert notes.queue_digests(morning + notes.DIGEST_INTERVAL) == 1  # a daily job that runs a bit early
    newest = mails(to=fatima.email, kind="notifications_digest")[-1].body_text
    assert "1 hour" in newest and "30 minutes" not in newest  # each thing is mailed once


def test_a_long_summary_lists_the_newest_thirty_and_links_to_the_rest(ctx, make_member):
    jan, fatima = make_member("Jan"), make_member("Fatima", locale="en")
    notes.set_email_choice(fatima, "daily")
    for minutes in range(1, 36):
        notes.notify(fatima, "gift", actor=jan, minutes=minutes)
    db.session.commit()
    assert notes.queue_digests() == 1
    [summary] = mails(to=fatima.email, kind="notifications_digest")
    body = summary.body_text
    assert summary.subject == "35 new things in the time bank" and body.count("Jan gave you") == notes.DIGEST_MAX
    assert "gave you 35 minutes" in body and "gave you 5 minutes" not in body  # the newest, not the oldest
    assert "See everything here:" in body


def test_a_decision_mailed_at_once_is_not_mailed_again_in_a_later_summary(ctx, make_member):
    fatima = make_member("Fatima")
    notes.set_email_choice(fatima, "immediately")
    notes.notify_many([fatima], "decision", proposal_id=1, title="A bench", result="adopted")
    db.session.commit()
    assert len(mails(to=fatima.email, kind="notify_decision")) == 1
    notes.set_email_choice(fatima, "daily")
    db.session.commit()
    assert notes.queue_digests() == 0 and mails(to=fatima.email, kind="notifications_digest") == []


def test_the_older_notifications_page_starts_after_the_last_one_shown(app, client, make_member):
    jan, fatima = make_member("Jan"), make_member("Fatima", locale="en")
    with app.app_context():
        for minutes in range(1, 5):
            notes.notify(
                db.session.get(Member, fatima.id), "gift", actor=db.session.get(Member, jan.id), minutes=minutes
            )
        db.session.commit()
        third = db.session.scalars(sa.select(Notification.id).order_by(Notification.id)).all()[2]
    login(client, fatima)
    page = text(client.get(f"/notifications?before={third}"))
    assert "gave you 2 minutes" in page and "gave you 1 minute" in page and "gave you 3 minutes" not in page


def test_notifications_come_thirty_to_a_page_with_a_link_to_the_older_ones(app, client, make_member):
    jan, fatima = make_member("Jan"), make_member("Fatima", locale="en")
    with app.app_context():
        reader, giver = db.session.get(Member, fatima.id), db.session.get(Member, jan.id)
        for minutes in range(1, 31):
            notes.notify(reader, "gift", actor=giver, minutes=minutes)
        db.session.commit()
    login(client, fatima)
    full = text(client.get("/notifications"))
    assert full.count("Jan gave you") == 30 and "Older notifications" not in full  # exactly one page
    with app.app_context():
        notes.notify(db.session.get(Member, fatima.id), "gift", actor=db.session.get(Member, jan.id), minutes=31)
        db.session.commit()
    first = text(client.get("/notifications"))
    assert first.count("Jan gave you") == 30 and "gave you 1 minute." not in first
    older = re.search(r'href="\?before=(\d+)">Older notifications', first).group(1)
    rest = text(client.get(f"/notifications?before={older}"))
    assert rest.count("Jan gave you") == 1 and "gave you 1 minute." in rest and "Older notifications" not in rest
