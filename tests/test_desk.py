"""The coordinators' desk: everything that waits on one page with its count, its age and a way to
act; taking up a task so nobody does it twice; notes on members; the weekly summary email."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.db import utcnow
from timebank.desk import services as desk
from timebank.desk.models import Assignment, MemberNote
from timebank.exchanges import services as exchanges
from timebank.exchanges import transfers
from timebank.exchanges.models import Exchange
from timebank.exchanges.room import ask_coordinators
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.mail.models import OutboxMessage
from timebank.market.models import Post
from timebank.members.export import collect
from timebank.members.models import JoinRequest, Member
from timebank.moderation import services as moderation
from timebank.notifications.models import Notification

from .conftest import ON_POSTGRES, mails, web
from .queries import sqlite_plan, statements, use_sqlite_statistics


def _busy_neighbourhood(app, make_member, make_post, make_community):
    """One of each thing that waits, in buurt; and a join request in Noord that buurt never sees."""
    people = {name: make_member(name) for name in ("Fatima", "Jan", "Wilma")}
    people["Karim"] = make_member("Karim", role="coordinator")
    people["Kees"] = make_member("Kees", role="coordinator")
    people["Mien"] = make_member("Mien", assisted=True, email=None)
    people["Oud"] = make_member("Oud")
    noord = make_community("noord", "Noord")
    people["Olga"] = make_member("Olga", role="coordinator", community_id=noord.id)
    fatima_post = make_post(people["Fatima"], title="Bike repair", minutes=60)
    soup = make_post(people["Mien"], title="Soup", minutes=60, expires_at=utcnow() + timedelta(days=3))
    wilmas = make_post(people["Wilma"], title="Ironing", minutes=60)
    with app.app_context():
        get = lambda name: db.session.get(Member, people[name].id)  # noqa: E731
        now = utcnow()
        for name, community in (("Nieuw", people["Fatima"].community_id), ("Ander", noord.id)):
            pending = Member(community_id=community, name=name, status="pending", email=f"{name}@example.org")
            db.session.add(pending)
            db.session.flush()
            db.session.add(
                JoinRequest(
                    member_id=pending.id, community_id=community, state="waiting", submitted_at=now - timedelta(days=3)
                )
            )
        disputed = exchanges.propose(db.session.get(Post, wilmas.id), get("Jan"), 60, actor=get("Jan"))
        exchanges.accept(disputed, actor=get("Wilma"))
        exchanges.dispute(disputed, "It never happened", actor=get("Jan"))
        exchanges.propose(db.session.get(Post, soup.id), get("Jan"), 60, actor=get("Jan"))  # Mien must answer
        # Agreed a month ago and not heard of since (stuck); agreed ten days ago (not yet).
        stuck = exchanges.propose(db.session.get(Post, fatima_post.id), get("Jan"), 60, actor=get("Jan"))
        exchanges.accept(stuck, actor=get("Fatima"))
        recent = exchanges.propose(db.session.get(Post, wilmas.id), get("Fatima"), 60, actor=get("Fatima"))
        exchanges.accept(recent, actor=get("Wilma"))
        db.session.flush()
        for exchange, days in ((stuck, 30), (recent, 10)):
            db.session.execute(
                sa.update(Exchange).where(Exchange.id == exchange.id).values(updated_at=now - timedelta(days=days))
            )
        exchanges.record_paper_slip(get("Jan"), get("Fatima"), 30, actor=get("Karim"), title="Shopping")
        moderation.report(get("Jan"), "post", fatima_post.id, "spam")
        ledger.transfer(
            ledger.account_for(get("Wilma")),
            ledger.account_for(get("Jan")),
            570,
            kind="exchange",
            actor=None,
            memo="A lot of help",
        )
        get("Oud").created_at = now - timedelta(days=200)
        db.session.add(
            OutboxMessage(
                member_id=people["Fatima"].id,
                to_address="x@example.org",
                subject="Hi",
                body_text="Hi",
                kind="notification",
                failed_at=now,
                attempts=1,
            )
        )
        get("Fatima").erasure_requested_at = now - timedelta(days=1)
        # Jan wants 25 hours of ironing: more than fits between his balance and Wilma's.
        ask_coordinators(db.session.get(Post, wilmas.id), get("Jan"), 1500, actor=get("Jan"))
        db.session.commit()
    return people


def test_the_desk_counts_everything_that_waits_in_the_coordinators_own_community(
    app, make_member, make_post, make_community
):
    people = _busy_neighbourhood(app, make_member, make_post, make_community)
    with app.test_request_context():
        counts = {task.kind: task.count for task in desk.waiting(people["Karim"].community_id)}
    assert counts == {
        "join": 1,
        "dispute": 1,
        "report": 1,
        "assisted": 1,
        "stuck": 1,
        "slip": 1,
        "limits": 1,
        "dormant": 1,
        "expiring": 1,
        "mail": 1,
        "room": 1,
        "erasure": 1,
    }
    page = web(app, people["Karim"]).get("/coordinate")
    assert page.status_code == 200
    for words in (
        "Requests to join",
        "Nieuw",
        "Disputes and requests for help",
        "Ironing",
        "Reported content",
        "Exchanges waiting on a member you help",
        "Soup",
        "Exchanges without news for 3 weeks",
        "Bike repair",
        "waiting 4 weeks",
        "Paper slips",
        "Shopping",
        "At or near their limit",
        "Wilma",
        "Quiet for 90 days",
        "Oud",
        "Posts about to expire, of members without email",
        "Email that could not be sent",
        "Asked to be erased",
        "Asked for room for an exchange",
        "Jan · Ironing: asks for 25 hours, room for",
        "waiting 3 days",
        "I’ll take this",
    ):
        assert words in page.text, words
    assert "Ander" not in page.text  # Noord's join request
    olga = web(app, people["Olga"]).get("/coordinate").text
    assert "Nieuw" not in olga and "Ander" in olga
    dutch = web(app, people["Kees"], language="nl").get("/coordinate").text
    assert "Requests to join" not in dutch and "What waits for you" not in dutch


def test_the_counts_are_those_of_the_moment_asked_for(app, make_member, make_post, make_community):
    """The counts are one statement built once per process, with the moments as parameters: asked
    twelve days on, the agreed exchange of ten days ago is stuck too, the soup has expired, the ask
    for room is more than a week old, and the failed email is still within its thirty days."""
    people = _busy_neighbourhood(app, make_member, make_post, make_community)
    community = people["Karim"].community_id
    with app.test_request_context():
        now = utcnow()

        def counts(moment):
            found = {task.kind: task.count for task in desk.waiting(community, moment, with_items=False)}
            return found["stuck"], found["expiring"], found["room"], found["mail"]

        assert [counts(now), counts(now + timedelta(days=12)), counts(now)] == [
            (1, 1, 1, 1),
            (2, 0, 0, 1),
            (1, 1, 1, 1),
        ]


def test_a_coordinator_takes_up_a_task_and_the_others_see_it(app, make_member, make_post, make_community):
    people = _busy_neighbourhood(app, make_member, make_post, make_community)
    with app.app_context():
        request_id = db.session.scalar(
            sa.select(JoinRequest.id).join(Member, Member.id == JoinRequest.member_id).where(Member.name == "Nieuw")
        )
        noord_request = db.session.scalar(
            sa.select(JoinRequest.id).join(Member, Member.id == JoinRequest.member_id).where(Member.name == "Ander")
        )
    with app.app_context(), pytest.raises(desk.DeskError):  # only coordinators, whatever page or command calls
        desk.take(db.session.get(Member, people["Jan"].id), f"join:{request_id}")
    karim, kees = web(app, people["Karim"]), web(app, people["Kees"])
    taken = karim.post("/coordinate/desk/take", data={"task": f"join:{request_id}"}, follow_redirects=True)
    assert "It is yours now" in taken.text and "you take care of it" in taken.text
    assert "Karim takes care of it" in kees.get("/coordinate").text
    refused = kees.post("/coordinate/desk/take", data={"task": f"join:{request_id}"}, follow_redirects=True)
    assert "Karim took this up already" in refused.text
    assert (
        "only they can leave it"
        in kees.post("/coordinate/desk/release", data={"task": f"join:{request_id}"}, follow_redirects=True).text
    )
    for junk in (f"join:{noord_request}", "join:99999999999", "member:abc", "nonsense", "", "join:-1"):
        answer = kees.post("/coordinate/desk/take", data={"task": junk}, follow_redirects=True)
        assert answer.status_code == 200 and "not waiting any more" in answer.text, junk
    karim.post("/coordinate/desk/release", data={"task": f"join:{request_id}"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    # Taken up, then done: the weekly run lets go of it.
    karim.post("/coordinate/desk/take", data={"task": f"join:{request_id}"})
    karim.post(f"/coordinate/requests/{request_id}", data={"decision": "approve", "reason": ""})
    with app.app_context():
        assert db.session.get(JoinRequest, request_id).state == "approved"
        assert desk.forget_finished_tasks() == 1
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    member = web(app, people["Jan"])
    assert member.post("/coordinate/desk/take", data={"task": f"join:{request_id}"}).status_code == 403


def test_notes_on_a_member_are_for_coordinators_and_in_the_members_export(app, make_member, make_community):
    fatima, jan = make_member("Fatima"), make_member("Jan")
    karim = make_member("Karim", role="coordinator")
    olga = make_member("Olga", role="coordinator", community_id=make_community("noord", "Noord").id)
    client = web(app, karim)
    saved = client.post(
        f"/coordinate/desk/members/{fatima.id}/notes", data={"text": "Prefers a call after ten"}, follow_redirects=True
    )
    assert "The note is saved" in saved.text and "Prefers a call after ten" in saved.text
    assert (
        "Please write the note"
        in client.post(f"/coordinate/desk/members/{fatima.id}/notes", data={"text": " "}, follow_redirects=True).text
    )
    assert web(app, jan).post(f"/coordinate/desk/members/{fatima.id}/notes", data={"text": "x"}).status_code == 403
    assert web(app, olga).post(f"/coordinate/desk/members/{fatima.id}/notes", data={"text": "x"}).status_code == 404
    assert "Prefers a call" not in web(app, fatima).get(f"/members/{fatima.id}").text
    with app.app_context():
        with pytest.raises(desk.DeskError):  # the service refuses too, whatever calls it
            desk.add_note(db.session.get(Member, fatima.id), author=db.session.get(Member, olga.id), text="x")
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberNote)) == 1
        assert collect(db.session.get(Member, fatima.id))["coordinator_notes"][0]["note"] == "Prefers a call after ten"


def test_the_weekly_summary_goes_once_a_week_to_coordinators_who_want_it(
    app, runner, make_member, make_post, make_community
):
    people = _busy_neighbourhood(app, make_member, make_post, make_community)
    result = runner.invoke(args=["desk", "weekly-summary"])
    assert result.exit_code == 0 and "Weekly summaries queued: 3." in result.output  # Karim, Kees, Olga
    assert "queued: 0." in runner.invoke(args=["desk", "weekly-summary"]).output
    with app.app_context():
        karims = mails(to=db.session.get(Member, people["Karim"].id).email, kind="desk_weekly")
        assert len(karims) == 1 and "Aanvragen om lid te worden: 1" in karims[0].body_text  # his language
        assert "Gemelde inhoud: 1" in karims[0].body_text and "http://localhost/coordinate" in karims[0].body_text
    kees = web(app, people["Kees"])
    kees.post("/coordinate/desk/summary", data={"wanted": "no"})
    assert "Send me the weekly email" in kees.get("/coordinate").text
    with app.app_context():  # a week later
        for message in db.session.scalars(sa.select(OutboxMessage)):
            message.created_at -= timedelta(days=7)
        assert desk.queue_summaries() == 2  # Kees turned it off
        db.session.commit()
        assert desk.queue_summaries() == 0


def test_quiet_members_are_those_whose_every_exchange_is_older_than_90_days(app, make_member, make_post):
    """The count looks at a member's newest exchanges first; an older exchange with recent news
    still makes them active, and 90 days of silence on all of them makes them quiet."""
    people = {name: make_member(name) for name in ("Anna", "Bram", "Cor", "Dirk")}
    first = make_post(people["Anna"], title="Lamp", minutes=60)
    second = make_post(people["Anna"], title="Shelf", minutes=60)
    with app.app_context():
        now = utcnow()
        get = lambda name: db.session.get(Member, people[name].id)  # noqa: E731
        # Bram: an older exchange with news 10 days ago, a newer one silent for 120 days.
        # Cor: two exchanges, both silent for 100 days or more. Dirk: none at all.
        news = {}
        for member, days in (("Bram", (10, 120)), ("Cor", (100, 150))):
            for post, age in zip((first, second), days, strict=True):
                exchange = exchanges.propose(db.session.get(Post, post.id), get(member), 60, actor=get(member))
                db.session.flush()
                news[exchange.id] = now - timedelta(days=age)
        for exchange_id, moment in news.items():
            db.session.execute(sa.update(Exchange).where(Exchange.id == exchange_id).values(updated_at=moment))
        db.session.execute(
            sa.update(Post).where(Post.owner_id == people["Anna"].id).values(created_at=now - timedelta(days=200))
        )
        db.session.execute(sa.update(Member).values(created_at=now - timedelta(days=200)))
        db.session.commit()
        with app.test_request_context():
            dormant = next(task for task in desk.waiting(people["Anna"].community_id) if task.kind == "dormant")
    # Anna's posts are old and her exchanges are Bram's and Cor's: Bram's news makes her active.
    assert sorted(item.text for item in dormant.items) == ["Cor", "Dirk"]
    assert dormant.count == 2


def test_each_members_last_activity_follows_their_exchanges_and_posts(app, make_member, make_post):
    """The database keeps each member's newest exchange news or post (what "quiet" reads) in the
    same transaction as the change: forward as exchanges move on, and worked out again when a
    moment is moved back or a post goes."""
    people = {name: make_member(name) for name in ("Anna", "Bram", "Cor")}
    lamp = make_post(people["Anna"], title="Lamp", minutes=60)

    def stored():
        db.session.expire_all()
        return {name: db.session.get(Member, member.id).last_active_at for name, member in people.items()}

    def worked_out(name):
        member_id = people[name].id
        newest = [
            *db.session.scalars(
                sa.select(Exchange.updated_at)
                .join(Exchange.participants)
                .where(Exchange.participants.any(member_id=member_id))
            ),
            *db.session.scalars(sa.select(Post.created_at).where(Post.owner_id == member_id)),
        ]
        return max(newest, default=None)

    with app.app_context():
        placed = db.session.get(Post, lamp.id).created_at
        assert stored() == {"Anna": placed, "Bram": None, "Cor": None}
        get = lambda name: db.session.get(Member, people[name].id)  # noqa: E731
        exchange = exchanges.propose(db.session.get(Post, lamp.id), get("Bram"), 60, actor=get("Bram"))
        db.session.commit()
        proposed = db.session.get(Exchange, exchange.id).updated_at
        assert stored() == {"Anna": proposed, "Bram": proposed, "Cor": None}

        exchanges.accept(db.session.get(Exchange, exchange.id), actor=get("Anna"))
        db.session.commit()
        accepted = db.session.get(Exchange, exchange.id).updated_at
        assert accepted >= proposed and stored()["Bram"] == accepted

        long_ago = utcnow() - timedelta(days=100)
        db.session.execute(sa.update(Exchange).where(Exchange.id == exchange.id).values(updated_at=long_ago))
        db.session.commit()
        assert stored() == {"Anna": placed, "Bram": long_ago, "Cor": None}

        chair = make_post(people["Anna"], title="Chair")
        assert stored()["Anna"] == db.session.get(Post, chair.id).created_at > placed
        db.session.execute(sa.delete(Post).where(Post.id == chair.id))
        db.session.commit()
        assert stored()["Anna"] == placed
        db.session.execute(sa.update(Post).where(Post.id == lamp.id).values(created_at=utcnow() - timedelta(days=200)))
        db.session.commit()
        assert stored()["Anna"] == long_ago
        assert all(stored()[name] == worked_out(name) for name in people)


def test_the_desks_dates_follow_the_communitys_conventions(app):
    """Something due later reads "due 4 Dec 2026, 15:20" (day first, 24-hour clock, the community's
    time zone) in English too, as every other date of the app; not the American "Dec 4, 2026"."""
    from datetime import UTC, datetime
    from unittest.mock import patch

    from timebank.desk.views import waiting_for

    due = datetime(2026, 12, 4, 14, 20, tzinfo=UTC)  # 15:20 in Amsterdam
    with patch("timebank.desk.views.utcnow", return_value=due - timedelta(days=2)):
        for language, expected in (("en", "due 4 Dec 2026, 15:20"), ("nl", "uiterlijk 4 dec 2026, 15:20")):
            with app.test_request_context(headers={"Accept-Language": language}):
                assert expected in waiting_for(due)
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert waiting_for(due - timedelta(days=5)) == "waiting 3 days"


def test_members_who_asked_for_room_wait_on_the_desk_once_each_for_a_week(app, make_member, make_post, make_community):
    """Ali asked twice (two posts), Bea once eight days ago; Olga's neighbourhood never sees them."""
    ali, bea, owner = make_member("Ali"), make_member("Bea"), make_member("Dirk")
    karim, kees = make_member("Karim", role="coordinator"), make_member("Kees", role="coordinator")
    olga = make_member("Olga", role="coordinator", community_id=make_community("noord", "Noord").id)
    painting, moving = make_post(owner, title="Painting", minutes=60), make_post(owner, title="Moving", minutes=60)
    with app.app_context():
        get = lambda person: db.session.get(Member, person.id)  # noqa: E731
        ask_coordinators(db.session.get(Post, painting.id), get(ali), 700, actor=get(ali))
        ask_coordinators(db.session.get(Post, moving.id), get(ali), 900, actor=get(ali))
        ask_coordinators(db.session.get(Post, painting.id), get(bea), 700, actor=get(bea))
        db.session.flush()
        db.session.execute(
            sa.update(Notification)
            .where(Notification.actor_id == bea.id)
            .values(created_at=utcnow() - timedelta(days=desk.ROOM_DAYS + 1))
        )
        db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        task = next(task for task in desk.waiting(karim.community_id) if task.kind == "room")
        assert task.count == 1  # Ali once, though both coordinators were told twice; Bea's ask is too old
        assert [item.text for item in task.items] == ["Ali · Moving: asks for 15 hours, room for 10 hours"]
    page = web(app, karim).get("/coordinate").text
    assert "Asked for room for an exchange" in page and "Ali · Moving" in page and "Bea" not in page
    assert "Ali" not in web(app, olga).get("/coordinate").text
    assert "Gevraagd om ruimte voor een ruil" in web(app, kees, language="nl").get("/coordinate").text
    taken = web(app, kees).post("/coordinate/desk/take", data={"task": f"member:{ali.id}"}, follow_redirects=True)
    assert "It is yours now" in taken.text
    refused = web(app, kees).post("/coordinate/desk/take", data={"task": f"member:{bea.id}"}, follow_redirects=True)
    assert "not waiting any more" in refused.text


def test_an_ask_for_room_leaves_the_desk_once_a_coordinator_gave_hours_or_changed_limits(app, make_member, make_post):
    """Ali got hours from the fund and Bea new limits after asking; Cas got hours and Dirk new limits
    before they asked. Only the asks nobody answered since wait."""
    owner, karim = make_member("Owner"), make_member("Karim", role="coordinator")
    people = {name: make_member(name) for name in ("Ali", "Bea", "Cas", "Dirk")}
    post = make_post(owner, title="Moving", minutes=60)
    with app.app_context():
        get = lambda person: db.session.get(Member, person.id)  # noqa: E731
        coordinator = get(karim)
        transfers.give_hours(get(owner), None, 600, "For the fund", actor=get(owner))

        def grant(name):
            transfers.grant_from_fund(get(people[name]), 60, "For the move", actor=coordinator)

        def new_limits(name):
            account = ledger.account_for(get(people[name]))
            ledger.set_limits(account, floor=-700, ceiling=None, actor=coordinator, reason="Move")

        grant("Cas"), new_limits("Dirk")
        for person in people.values():
            ask_coordinators(db.session.get(Post, post.id), get(person), 900, actor=get(person))
        grant("Ali"), new_limits("Bea")
        db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        task = next(task for task in desk.waiting(karim.community_id) if task.kind == "room")
        assert task.count == 2
        assert sorted(item.text.split(" · ")[0] for item in task.items) == ["Cas", "Dirk"]
    taken = web(app, karim).post(
        "/coordinate/desk/take", data={"task": f"member:{people['Ali'].id}"}, follow_redirects=True
    )
    assert "not waiting any more" in taken.text


def test_near_their_limit_compares_each_account_with_its_own_limits_or_else_the_communitys(app, make_member):
    """The neighbourhood's limits are -10 and +40 hours, "near" is within an hour. Ann is at -9 hours and
    Cor at +39 (near); Bob at -8:59 (not). Dina may go to -20 hours, so -10 is not near for her; Eva may
    hold only 1:40, so 0:40 is. Fred is at the floor but suspended."""
    karim = make_member("Karim", role="coordinator")
    balances = {"Ann": -540, "Bob": -539, "Cor": 2340, "Dina": -600, "Eva": 40, "Fred": -600}
    people = {name: make_member(name) for name in balances}
    with app.app_context():
        get = lambda name: db.session.get(Member, people[name].id)  # noqa: E731
        coordinator = db.session.get(Member, karim.id)
        ledger.set_limits(ledger.account_for(get("Dina")), floor=-1200, ceiling=None, actor=coordinator, reason="x")
        ledger.set_limits(ledger.account_for(get("Eva")), floor=None, ceiling=100, actor=coordinator, reason="x")
        legs = [(ledger.account_for(get(name)), minutes) for name, minutes in balances.items()]
        legs.append((ledger.account_for(coordinator), -sum(balances.values())))  # Karim: -1:41, not near
        ledger.post(karim.community_id, "adjustment", legs, actor=None, memo="Opening balances")
        get("Fred").status = "suspended"
        db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        task = next(task for task in desk.waiting(karim.community_id) if task.kind == "limits")
        assert task.count == 3
        assert [item.text.split(" · ")[0] for item in task.items] == ["Ann", "Eva", "Cor"]
    for name, answer in (("Eva", "It is yours now"), ("Bob", "not waiting any more"), ("Dina", "not waiting any more")):
        taken = web(app, karim).post(
            "/coordinate/desk/take", data={"task": f"member:{people[name].id}"}, follow_redirects=True
        )
        assert answer in taken.text


# The large demo's statistics (`ANALYZE`, 5,000 members, 45,000 exchanges): most exchanges are long
# settled, but an average over states hides that the open ones are few.
LARGE_DEMO_STATISTICS = [
    ("members", "ix_members_role", "5000 5000 2500 1667"),
    ("members", "ix_members_quiet", "5000 5000 2500 1 1"),
    ("members", "ix_members_directory", "5000 5000 2500 3 1"),
    ("members", "ix_members_community_id", "5000 5000"),
    ("members", "sqlite_autoindex_members_1", "5000 1"),
    ("exchange_participants", "ix_exchange_participants_member_exchange", "90582 19 1"),
    ("exchange_participants", "ix_exchange_participants_member_id", "90582 19"),
    ("exchange_participants", "sqlite_autoindex_exchange_participants_1", "90582 3 1"),
    ("exchanges", "ix_exchanges_due", "45226 7538 1223"),
    ("exchanges", "ix_exchanges_post_id", "45226 3"),
    ("exchanges", "uq_exchanges_open_per_post", "196 1 1"),
    ("exchanges", "ix_exchanges_community_state", "45226 45226 7538"),
    ("exchanges", "sqlite_autoindex_exchanges_2", "45226 45226"),
    ("exchanges", "sqlite_autoindex_exchanges_1", "45226 1"),
]


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from its own statistics")
def test_exchanges_waiting_on_a_helped_member_are_found_from_the_open_exchanges(
    app, make_member, make_post, make_community
):
    """The desk lists them from the few open exchanges; joined from the members' side, SQLite read
    every member's every exchange with the large demo's statistics (13 ms a visit)."""
    people = _busy_neighbourhood(app, make_member, make_post, make_community)
    use_sqlite_statistics(app, LARGE_DEMO_STATISTICS)
    client = web(app, people["Karim"])
    with statements(app, with_parameters=True) as sent:
        assert "Soup · Mien" in client.get("/coordinate").text
    with app.app_context():
        plan = sqlite_plan(sent, "SELECT exchanges.id, exchanges.title, members.id")
    assert not plan.startswith("SCAN members"), plan
