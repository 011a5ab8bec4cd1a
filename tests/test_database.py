"""Database plumbing: SQLite tuning, the write lock, UTC times and the migrations."""

import threading
import time
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from timebank.communities.models import Community
from timebank.communities.services import create_community
from timebank.db import include_in_comparison, take_write_lock
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.members.models import JoinRequest, Member

from .conftest import ON_POSTGRES, POSTGRES_URL, link_between, make_app

sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite behaviour")


@sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(ctx):
    conn = db.session.connection()
    assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced(ctx):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("INSERT INTO areas (community_id, name) VALUES (999, 'Nowhere')"))
    db.session.rollback()


@sqlite_only
def test_write_lock_makes_a_second_writer_wait_until_the_first_commits(app, community):
    order = []

    def second_writer():
        with app.app_context():
            take_write_lock(db.session)
            order.append("second has the lock")
            db.session.rollback()

    with app.app_context():
        take_write_lock(db.session)
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)
        order.append("first commits")
        db.session.commit()
    thread.join(timeout=10)
    assert order == ["first commits", "second has the lock"]


@sqlite_only
def test_write_lock_upgrades_a_transaction_that_only_read(app, community):
    with app.app_context():
        db.session.scalar(sa.select(Community.id))  # starts a plain read transaction
        take_write_lock(db.session)
        other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with other.connect() as conn, pytest.raises(sa.exc.OperationalError, match="locked"):
            conn.exec_driver_sql("PRAGMA busy_timeout=100")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        other.dispose()
        db.session.rollback()


def test_timestamps_come_back_as_utc(ctx, community):
    amsterdam = timezone(timedelta(hours=1))
    community.created_at = datetime(2026, 1, 1, 13, 0, tzinfo=amsterdam)
    db.session.commit()
    db.session.expire_all()
    assert community.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert community.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(ctx, community):
    community.created_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(sa.exc.StatementError):
        db.session.flush()
    db.session.rollback()


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of the kind under test, dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"{sa.make_url(POSTGRES_URL).database}_scratch"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    admin.dispose()


def test_migrations_build_exactly_the_models_schema_and_go_both_ways(scratch_url):
    app = make_app(scratch_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn, warnings.catch_warnings():
            # SQLite's index on lower(name) (ix_members_directory) cannot be read back; PostgreSQL compares it.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
            context = MigrationContext.configure(conn, opts={"include_name": include_in_comparison})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}

        upgrade()
        with db.engine.connect() as conn:
            assert {t.name for t in db.metadata.sorted_tables} <= set(sa.inspect(conn).get_table_names())
        db.engine.dispose()


def test_upgrading_keeps_existing_data(scratch_url):
    """A database made by an older version keeps its members and their skills: SQLite's batch
    migrations rebuild tables, which must not cascade-delete the rows that point at them."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade(revision="0003")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO communities (slug, name, description, join_policy, house_rules, created_at) "
                "VALUES ('buurt', 'Buurt', '', 'approval', '', CURRENT_TIMESTAMP)"
            )
            conn.exec_driver_sql(
                "INSERT INTO categories (community_id, key, names, position) VALUES (1, 'hair', '{}', 0)"
            )
            conn.exec_driver_sql(
                "INSERT INTO members (community_id, email, name, role, status, is_admin, assisted, bio, "
                "session_version, created_at) VALUES (1, 'a@example.org', 'Ayşe', 'member', 'active', "
                "false, false, '', 1, CURRENT_TIMESTAMP)"
            )
            conn.exec_driver_sql("INSERT INTO member_skills (member_id, category_id) VALUES (1, 1)")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM members").scalars().all() == ["Ayşe"]
            assert conn.exec_driver_sql("SELECT count(*) FROM member_skills").scalar() == 1
        db.engine.dispose()


def test_upgrading_to_monthly_statistics_sums_the_day_rows_and_keeps_them_summed(scratch_url):
    """Migration 0210_stats fills the month tables from the day rows already there, in SQL, and from
    then on the database keeps them: a new or changed day row moves its month row by the difference."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade(revision="0195")
        with db.engine.begin() as conn:
            run = conn.exec_driver_sql
            run(
                "INSERT INTO communities (slug, name, description, join_policy, house_rules, created_at) "
                "VALUES ('buurt', 'Buurt', '', 'approval', '', CURRENT_TIMESTAMP)"
            )
            for email in ("a@example.org", "b@example.org"):
                run(
                    "INSERT INTO members (community_id, email, name, role, status, is_admin, assisted, bio, "
                    f"session_version, created_at) VALUES (1, '{email}', 'A', 'member', 'active', false, false, "
                    "'', 1, CURRENT_TIMESTAMP)"
                )
                run(
                    "INSERT INTO ledger_accounts (community_id, member_id, kind, status, balance, created_at) "
                    "VALUES (1, (SELECT max(id) FROM members), 'member', 'open', 0, CURRENT_TIMESTAMP)"
                )
            for day, net in (("2026-10-03", 60), ("2026-10-20", -15), ("2026-11-02", 30)):
                run(
                    "INSERT INTO stats_account_days (account_id, day, community_id, member_id, net, earned, paid, "
                    f"gave, received) VALUES (1, '{day}', 1, 1, {net}, {max(net, 0)}, 0, {int(net > 0)}, 0)"
                )
                run(
                    "INSERT INTO stats_pair_days (community_id, day, helper_id, helped_id, exchanges) "
                    f"VALUES (1, '{day}', 1, 2, 1)"
                )
        upgrade()
        months = "SELECT month, net, earned, gave FROM stats_account_months ORDER BY month"
        pairs = "SELECT month, exchanges FROM stats_pair_months ORDER BY month"
        with db.engine.begin() as conn:
            found = [(str(m), n, e, g) for m, n, e, g in conn.exec_driver_sql(months)]
            assert found == [("2026-10-01", 45, 60, 1), ("2026-11-01", 30, 30, 1)]
            assert [(str(m), x) for m, x in conn.exec_driver_sql(pairs)] == [("2026-10-01", 2), ("2026-11-01", 1)]
            conn.exec_driver_sql("UPDATE stats_account_days SET net = net - 100 WHERE day = '2026-11-02'")
            conn.exec_driver_sql(
                "INSERT INTO stats_pair_days (community_id, day, helper_id, helped_id, exchanges) "
                "VALUES (1, '2026-12-24', 1, 2, 1)"
            )
            assert [(str(m), n) for m, n, _e, _g in conn.exec_driver_sql(months)] == [
                ("2026-10-01", 45),
                ("2026-11-01", -70),
            ]
            assert len(conn.exec_driver_sql(pairs).all()) == 3
        downgrade(revision="0195")
        with db.engine.connect() as conn:
            assert "stats_pair_months" not in sa.inspect(conn).get_table_names()
        db.engine.dispose()


def test_upgrading_forgets_what_erased_members_wrote_when_they_joined(scratch_url):
    """Migration 0310: the join words of members erased before (why they joined, their answer, the
    reason they were told) are blanked; those of members still here stay."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade(revision="0305_fund_days")
        community = create_community("buurt", "Buurt")
        for status in ("erased", "active"):
            member = Member(community_id=community.id, name=status, status=status)
            db.session.add(member)
            db.session.flush()
            db.session.add(
                JoinRequest(
                    member_id=member.id,
                    community_id=community.id,
                    state="approved",
                    motivation="I live at number 5",
                    question="Which street?",
                    answer="Dorpsstraat",
                    reason="Welcome!",
                )
            )
        db.session.commit()
        upgrade()
        words = (
            sa.select(
                Member.status, JoinRequest.motivation, JoinRequest.question, JoinRequest.answer, JoinRequest.reason
            )
            .join(Member, Member.id == JoinRequest.member_id)
            .order_by(Member.id)
        )
        assert [tuple(row) for row in db.session.execute(words)] == [
            ("erased", "", "Which street?", "", ""),
            ("active", "I live at number 5", "Which street?", "Dorpsstraat", "Welcome!"),
        ]
        db.session.remove()
        downgrade(revision="0305_fund_days")
        db.engine.dispose()


def test_upgrading_forgets_stored_sign_ins_that_held_raw_tokens(scratch_url):
    """Migration 0090: answers of POST /api/v1/tokens kept under the shared anonymous scope go;
    a member's own stored answers stay."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade(revision="0080")
        with db.engine.begin() as conn:
            for scope, body in (("anonymous", '{"token": "raw"}'), ("member:1", '{"id": 7}')):
                conn.exec_driver_sql(
                    "INSERT INTO idempotency_records (scope, key, request_hash, state, response_status, "
                    f"response_body, created_at) VALUES ('{scope}', 'k', 'h', 'done', 201, '{body}', "
                    "CURRENT_TIMESTAMP)"
                )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT scope FROM idempotency_records").scalars().all() == ["member:1"]
        db.engine.dispose()


def test_the_single_house_rules_text_becomes_the_dutch_one_and_comes_back(scratch_url):
    """Migration 0200_join: the old house rules (written in the default language, Dutch) move into
    the texts per language; going down keeps them. Existing members see no first-steps card."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade(revision="0195")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO communities (slug, name, description, join_policy, house_rules, created_at) "
                "VALUES ('buurt', 'Buurt', '', 'approval', 'Wees aardig.', CURRENT_TIMESTAMP)"
            )
            conn.exec_driver_sql(
                "INSERT INTO members (community_id, email, name, role, status, is_admin, assisted, bio, "
                "session_version, created_at, languages, show_email_to, show_phone_to, show_balance_to, "
                "market_digest) VALUES (1, 'a@example.org', 'Ayşe', 'member', 'active', false, false, '', 1, "
                "CURRENT_TIMESTAMP, '[]', 'coordinators', 'coordinators', 'coordinators', false)"
            )
        upgrade()
        assert db.session.scalar(sa.select(Community.texts)) == {"house_rules": {"nl": "Wees aardig."}}
        # Members from before have their first steps behind them: no welcome card.
        assert db.session.scalar(sa.select(Member.first_steps)) == {"dismissed": True}
        db.session.remove()
        downgrade(revision="0195")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT house_rules FROM communities").scalar() == "Wees aardig."
        db.engine.dispose()


def test_going_back_before_links_is_refused_while_clearing_accounts_hold_the_books(scratch_url):
    """Migration 0220_links: the hours traded between communities sit in clearing accounts, which the
    older schema cannot hold; going down says so and changes nothing."""
    app = make_app(scratch_url)
    with app.app_context():
        upgrade()
        north, south = create_community("noord", "Noord"), create_community("zuid", "Zuid")
        ledger.open_clearing(link_between(north.id, south.id, 60, "active"))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0220_links")
        # Flask-Migrate logs the refusal ("Cannot go back before 0220_links: 2 clearing accounts …")
        # and exits. (Not captured here: capturing alembic's log handler would outlive this test.)
        with pytest.raises(SystemExit):
            downgrade(revision="0210_stats")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'clearing'").scalar() == 2
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0220_links"
        db.engine.dispose()
