"""The demo neighbourhood: believable, deterministic, and ready with logins."""

import re
import shutil
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import force_locale

from timebank.demo import names
from timebank.demo.seed import seed
from timebank.exchanges.models import OPEN_STATES, Exchange, Message, ThankYou
from timebank.exchanges.services import exchanges_of
from timebank.extensions import db
from timebank.governance.models import Proposal
from timebank.i18n import format_minutes
from timebank.ledger.models import Account, Posting, Transaction
from timebank.ledger.verify import verify
from timebank.market.models import Post
from timebank.members.models import Member, member_skills
from timebank.members.passwords import verify_password
from timebank.moderation.models import Report
from timebank.pots.models import Pot

from .conftest import ON_POSTGRES, empty_postgres, make_app

# The demo's history ends at `now`, and some of its moments fall on a time of day: both runs end
# at the same moment, so a run that crosses an hour cannot differ from the one before it.
NOW = datetime(2026, 12, 4, 15, 20, tzinfo=UTC)


def neighbourhood_snapshot(app):
    """Who lives there, what they posted, what they exchanged, what they wrote and every ledger posting."""
    with app.app_context():
        seed(members=40, months=3, seed=7, now=NOW)
        db.session.commit()
        queries = {
            "members": sa.select(Member.name, Member.email, Member.role, Member.status).order_by(Member.id),
            "posts": sa.select(Post.kind, Post.title, Post.owner_id, Post.minutes, Post.status).order_by(Post.id),
            "exchanges": sa.select(Exchange.state, Exchange.minutes, Exchange.post_id).order_by(Exchange.id),
            "postings": sa.select(Posting.account_id, Posting.amount, Posting.balance_after).order_by(Posting.id),
            "messages": sa.select(Message.author_id, Message.body, Message.created_at).order_by(Message.id),
            "thanks": sa.select(ThankYou.author_id, ThankYou.text).order_by(ThankYou.id),
        }
        return {name: [tuple(row) for row in db.session.execute(query)] for name, query in queries.items()}


def test_same_seed_gives_the_same_neighbourhood(app, database, tmp_path):
    first = neighbourhood_snapshot(app)
    if ON_POSTGRES:
        with app.app_context():
            empty_postgres()
        second = app
    else:
        shutil.copyfile(database.template, tmp_path / "second.db")
        second = make_app(f"sqlite:///{tmp_path / 'second.db'}")
    assert neighbourhood_snapshot(second) == first
    assert len(first["members"]) == 40 and all(first.values())


def test_seed_builds_a_believable_neighbourhood(app):
    with app.app_context():
        ctx = seed(members=80, months=6, seed=3)
        db.session.commit()
        members = db.session.scalars(sa.select(Member)).all()
        assert len(members) == 80 == len(ctx.member_ids)
        assert {m.role for m in members} == {"member", "coordinator"}
        assert any(m.assisted and m.email is None for m in members)
        assert all(m.area_id for m in members)
        skilled = db.session.scalar(sa.select(sa.func.count(sa.distinct(member_skills.c.member_id))))
        assert skilled == 80
        admin = db.session.scalar(sa.select(Member).where(Member.email == "admin@example.org"))
        assert admin.is_admin and verify_password(admin.password_hash, names.DEMO_PASSWORD)
        # Months of exchanges, settled in the ledger, and some under way in every state.
        states = dict(db.session.execute(sa.select(Exchange.state, sa.func.count()).group_by(Exchange.state)).all())
        assert set(states) == {"proposed", "accepted", "completed", "declined", "cancelled", "disputed"}
        assert states["completed"] > 200
        unsettled = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Exchange)
            .join(Transaction, Transaction.id == Exchange.transaction_id)
            .where(Transaction.kind != "exchange")
        )
        assert unsettled == 0 and db.session.scalar(sa.select(sa.func.count(ThankYou.id))) > 0
        fatima = db.session.scalar(sa.select(Member).where(Member.email == "fatima@example.org"))
        assert len(exchanges_of(fatima, states=OPEN_STATES)) >= 2
        assert verify().ok


def test_cli_seeds_once_and_prints_the_logins(runner, app):
    result = runner.invoke(args=["demo", "seed", "--members", "20", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "coordinator@example.org" in result.output and names.DEMO_PASSWORD in result.output
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0 and "Demo logins" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 20
    refused = runner.invoke(args=["demo", "seed"])
    assert refused.exit_code != 0


def test_cli_creates_communities(runner, app):
    assert runner.invoke(args=["communities", "create", "--slug", "noord", "--name", "Noord"]).exit_code == 0
    duplicate = runner.invoke(args=["communities", "create", "--slug", "noord", "--name", "Noord"])
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    bad = runner.invoke(args=["communities", "create", "--slug", "No Spaces!", "--name", "x"])
    assert bad.exit_code != 0


def test_the_demo_reads_like_a_real_neighbourhood(app, client):
    """Each member writes in one language (posts, chat, thank-you notes, reasons, group titles); the
    market shows no post twice; notifications come newest last by id as by date; a dispute's words
    say the figures of its exchange."""
    from timebank.demo.posts import GIFTS, TEXTS
    from timebank.exchanges.demo import CHAT, GROUP_TITLES, REASONS, THANKS
    from timebank.governance.demo import ASKING, DECIDED, OPEN
    from timebank.ledger.demo import DONATION_MEMOS, GIFT_MEMOS
    from timebank.moderation.demo import REPORTS
    from timebank.notifications.models import Notification
    from timebank.pots.demo import GOALS

    language_of = {
        title: language for table in TEXTS.values() for (_kind, language), texts in table.items() for title, _ in texts
    }
    language_of.update({title: language for language, gifts in GIFTS.items() for _key, title, _ in gifts})
    memos = {
        language: [memo for memo in [*GIFT_MEMOS[language], *DONATION_MEMOS[language]] if memo]
        for language in GIFT_MEMOS
    }
    for table in (CHAT, THANKS, REASONS, GROUP_TITLES, GOALS, memos):
        language_of.update({text: language for language, texts in table.items() for text in texts})
    for table in (DECIDED, OPEN, ASKING):
        language_of.update({title: language for language, (title, *_) in table.items()})
    language_of.update({text: language for language, texts in REPORTS.items() for _reason, text in texts})
    with app.app_context():
        seed(members=60, months=6, seed=1)
        db.session.commit()
        words = [
            sa.select(Post.owner_id, Post.title),
            sa.select(Message.author_id, Message.body).where(
                Message.body != "", Message.event.is_distinct_from("disputed")
            ),
            sa.select(ThankYou.author_id, ThankYou.text),
            sa.select(Exchange.proposer_id, Exchange.title).where(Exchange.kind == "group"),
            sa.select(Proposal.author_id, Proposal.title),
            sa.select(Report.reporter_id, Report.text),
            sa.select(Pot.member_id, Pot.name),
            sa.select(Account.member_id, Transaction.memo)
            .join(Posting, Posting.transaction_id == Transaction.id)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.amount < 0, Transaction.memo.in_([memo for texts in memos.values() for memo in texts])),
        ]
        written, chatted = {}, 0
        for query in words:
            for author, text in db.session.execute(query):
                written.setdefault(author, set()).add(language_of[text])
                chatted += query is words[1]
        assert chatted > 50
        assert all(len(languages) == 1 for languages in written.values())
        assert {language for languages in written.values() for language in languages} == {"nl", "en"}
        # "weekends only" is never next to a weekday, nor "after 3 pm" next to the morning.
        for days, parts, note in db.session.execute(
            sa.select(Post.available_days, Post.available_parts, Post.available_note)
        ):
            if note in ("weekends only", "alleen in het weekend"):
                assert set(days) <= {"sat", "sun"}
            if note in ("after 3 pm", "na 15.00 uur"):
                assert "morning" not in parts
        on_market = db.session.scalars(sa.select(Post.title).where(Post.status == "active")).all()
        assert len(on_market) == len(set(on_market)) > 20
        for member_id in db.session.scalars(sa.select(Notification.member_id).distinct()):
            dates = db.session.scalars(
                sa.select(Notification.created_at).where(Notification.member_id == member_id).order_by(Notification.id)
            ).all()
            assert dates == sorted(dates)
        disputes = db.session.execute(
            sa.select(Exchange.reason, Exchange.minutes, Exchange.recorded_minutes).where(Exchange.state == "disputed")
        ).all()
        assert disputes
        for reason, agreed, recorded in disputes:
            assert recorded > agreed
            with force_locale("en" if reason.startswith("We agreed") else "nl"):
                assert format_minutes(agreed) in reason and format_minutes(recorded) in reason
    # The demo logins follow the browser's language until they choose one.
    client.post("/login", data={"email": "fatima@example.org", "password": names.DEMO_PASSWORD})
    assert "Hello Fatima" in client.get("/", headers={"Accept-Language": "en-GB"}).text
    assert "Hallo Fatima" in client.get("/", headers={"Accept-Language": "nl-NL"}).text


def test_the_demo_has_decisions_pots_and_reports_to_show(app, client):
    """Whoever tries the demo finds a decision taken, a vote they can still cast, a member's proposal
    looking for supporters, Fatima saving in a pot, and reports waiting for the coordinators; seeding
    queued no email (the decision's news went out when it was taken)."""
    from timebank.mail.models import OutboxMessage
    from timebank.notifications.models import Notification

    with app.app_context():
        seed(members=60, months=6, seed=1)
        db.session.commit()
        proposals = {p.state: p for p in db.session.scalars(sa.select(Proposal))}
        decided, open_one, asking = proposals["closed"], proposals["open"], proposals["support"]
        assert decided.result == "adopted" and 0 < decided.turnout < decided.electorate
        told = db.session.scalars(sa.select(Notification.created_at).where(Notification.kind == "decision")).all()
        assert len(told) == decided.electorate and set(told) == {decided.closed_at}
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
        decided_id, turnout, electorate = decided.id, decided.turnout, decided.electorate
        open_id, open_title, asking_title = open_one.id, open_one.title, asking.title
        saving = db.session.scalar(sa.select(Pot.name).join(Member).where(Member.email == "fatima@example.org"))
    client.post("/login", data={"email": "fatima@example.org", "password": names.DEMO_PASSWORD})
    english = {"Accept-Language": "en"}
    assert open_title in client.get("/decide", headers=english).text and asking_title in client.get("/decide").text
    assert "Turnout" in client.get("/decide/decisions", headers=english).text
    ballot = client.get(f"/decide/{open_id}", headers=english).text
    assert 'name="option"' in ballot and "You voted" not in ballot
    assert saving in client.get("/pots", headers=english).text
    assert f"Adopted {turnout} of the {electorate} members who could vote" in " ".join(
        re.sub(r"<[^>]+>", " ", client.get(f"/decide/{decided_id}", headers=english).text).split()
    )
    client.post("/logout")
    client.post("/login", data={"email": "coordinator@example.org", "password": names.DEMO_PASSWORD})
    waiting = client.get("/coordinate/reports", headers=english).text
    assert waiting.count("/coordinate/reports/") == 2
