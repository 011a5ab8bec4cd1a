"""Fixtures: a migrated database made once per session, a fresh copy (SQLite) or an emptied one
(PostgreSQL) for every test, the app, its clients and factories.

Set DATABASE_URL=postgresql+psycopg://… to run the whole suite on PostgreSQL.

Contexts: web tests use `client` and open `with app.app_context():` only to look at the database,
so each request gets its own app context, session and `g` as in production. Service tests ask for
`ctx` first (or `pytestmark = pytest.mark.usefixtures("ctx")`). Factories work in both: inside a
pushed context they return objects attached to its session; outside one they return detached
objects with their columns loaded."""

import itertools
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_app_context
from flask_babel import force_locale
from flask_migrate import upgrade

from timebank import create_app
from timebank.communities.models import Category
from timebank.communities.services import create_community
from timebank.db import utcnow
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.members.passwords import hash_password

from .api import Caller, token_headers

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgres")
# `make test` runs the suite in several processes (pytest-xdist): each has a PostgreSQL database of
# its own beside the one named, so their tests never empty each other's tables.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if ON_POSTGRES and WORKER:
    _url = sa.make_url(POSTGRES_URL)
    POSTGRES_URL = _url.set(database=f"{_url.database}_{WORKER}").render_as_string(hide_password=False)
PASSWORD = "correct horse battery"

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "SERVER_NAME": "localhost",
    "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


def pytest_configure(config):
    """Compile the catalogues, so a plain `pytest` tests the translations as they are now (once, in
    the process that starts the others). A worker on PostgreSQL makes its database first thing: a
    test that makes scratch databases connects to it before any test has migrated it."""
    if hasattr(config, "workerinput"):
        if ON_POSTGRES:
            _create_worker_database()
        return
    for po in Path(__file__).resolve().parent.parent.glob("timebank/translations/*/LC_MESSAGES/messages.po"):
        with po.open("rb") as source:
            catalogue = read_po(source)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalogue)


@dataclass
class Database:
    url: str
    template: Path | None = None  # SQLite: the migrated file every test copies


def make_app(url: str, **overrides):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **overrides})


def _create_worker_database() -> None:
    url = sa.make_url(POSTGRES_URL)
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    server.dispose()


def migrate_fresh(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        if ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> Database:
    if ON_POSTGRES:
        migrate_fresh(POSTGRES_URL)
        return Database(url=POSTGRES_URL)
    template = tmp_path_factory.mktemp("template") / "timebank.db"
    migrate_fresh(f"sqlite:///{template}")
    return Database(url="", template=template)


def empty_postgres() -> None:
    """Empty every table and restart the ids. DELETE with triggers off (replica role: neither the
    ledger's immutability triggers nor foreign keys fire) is four times faster than TRUNCATE on
    these small tables, and the suite runs it after every test."""
    with db.engine.begin() as conn:
        sequences = (
            conn.exec_driver_sql("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'").scalars().all()
        )
        conn.exec_driver_sql(
            "; ".join(
                ["SET LOCAL session_replication_role = replica"]
                + [f"DELETE FROM {table.name}" for table in db.metadata.sorted_tables]
                + [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
            )
        )


@pytest.fixture
def db_url(database, tmp_path) -> str:
    if ON_POSTGRES:
        return database.url
    path = tmp_path / "timebank.db"
    shutil.copyfile(database.template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(db_url, tmp_path):
    app = make_app(db_url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    yield app
    with app.app_context():
        db.session.remove()
        if ON_POSTGRES:
            empty_postgres()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield


@pytest.fixture
def english(ctx):
    """Refusals read in English (outside a request they are in the installation's language)."""
    with force_locale("en"):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_emails = itertools.count(1)


@contextmanager
def factory_session(app):
    """Use the test's own context if it pushed one; otherwise a short one whose objects are
    handed back detached, with their columns loaded."""
    if has_app_context():
        yield lambda obj: obj
        return
    with app.app_context():

        def detach(obj):
            db.session.refresh(obj)
            db.session.expunge(obj)
            return obj

        yield detach


@pytest.fixture
def make_community(app):
    """Factory: a community with the default categories."""

    def make(slug="buurt", name="Onze buurt", **fields):
        with factory_session(app) as done:
            community = create_community(slug, name, **fields)
            db.session.commit()
            return done(community)

    return make


@pytest.fixture
def community(make_community):
    return make_community()


@pytest.fixture
def make_member(app, community):
    """Factory: an active member (or coordinator) who can log in with PASSWORD."""

    def make(name="Fatima", role="member", status="active", community_id=None, email="auto", **fields):
        with factory_session(app) as done:
            member = Member(
                community_id=community_id or community.id,
                name=name,
                role=role,
                status=status,
                email=f"member{next(_emails)}@example.org" if email == "auto" else email,
                password_hash=hash_password(PASSWORD),
                **fields,
            )
            db.session.add(member)
            db.session.commit()
            return done(member)

    return make


@pytest.fixture
def member(make_member):
    return make_member("Fatima")


@pytest.fixture
def make_post(app):
    """Factory: an active market post, online for eight weeks, in the owner's community."""

    def make(owner, title="Soup for two evenings", kind="offer", category_key="cooking", **fields):
        with factory_session(app) as done:
            category = db.session.scalar(
                sa.select(Category).where(Category.community_id == owner.community_id, Category.key == category_key)
            )
            fields.setdefault("expires_at", utcnow() + timedelta(weeks=8))
            post = Post(
                community_id=owner.community_id,
                owner_id=owner.id,
                kind=kind,
                title=title,
                category_id=category.id,
                **fields,
            )
            db.session.add(post)
            db.session.commit()
            return done(post)

    return make


def login(client, member, password=PASSWORD):
    response = client.post("/login", data={"email": member.email, "password": password})
    assert response.status_code == 302, response.text
    return response


def web(app, member, language="en"):
    """A browser of its own, logged in as `member`, reading pages in `language`."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(client, member)
    return client


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def link_between(proposer_id: int, accepter_id: int, cap_minutes: int = 600, state: str = "proposed"):
    """A link between two communities, straight into the session (inside an app context), for tests
    that need one without going through proposing and accepting."""
    from timebank.communities.models import CommunityLink

    link = CommunityLink(
        proposer_id=proposer_id,
        accepter_id=accepter_id,
        pair=CommunityLink.pair_of(proposer_id, accepter_id),
        cap_minutes=cap_minutes,
        state=state,
    )
    db.session.add(link)
    db.session.flush()
    return link


def mails(to: str | None = None, kind: str | None = None) -> list:
    """The outbox (inside an app context), oldest first, optionally for one address or kind."""
    from timebank.mail.models import OutboxMessage

    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_address == to)
    if kind is not None:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt))


def link_in(body: str) -> str:
    """The path of the first link to this site in an email body."""
    match = re.search(r"http://localhost(/\S+)", body)
    assert match, body
    return match.group(1)


@pytest.fixture
def callers(app, community, make_member, make_community) -> dict[str, Caller]:
    """Fatima (the member whose things are at stake), her neighbour Jan, their coordinator Karim,
    Olga who coordinates another community, and someone without a token."""
    elsewhere = make_community("noord", "Noord")
    people = {
        "member": make_member("Fatima"),
        "other_member": make_member("Jan"),
        "coordinator": make_member("Karim", role="coordinator"),
        "other_coordinator": make_member("Olga", role="coordinator", community_id=elsewhere.id),
    }
    found = {role: Caller(person, token_headers(app, person)) for role, person in people.items()}
    found["anonymous"] = Caller(None, {"Accept-Language": "en"})
    return found


@pytest.fixture
def neighbours(make_member, make_post):
    """Fatima offers bike repairs (1 hour 30); Jan and Wilma are her neighbours, Karim coordinates."""
    people = {name: make_member(name) for name in ("Fatima", "Jan", "Wilma")}
    people["Karim"] = make_member("Karim", role="coordinator")
    people["offer"] = make_post(people["Fatima"], title="Bike repair", kind="offer", minutes=90)
    return people


def pytest_terminal_summary(terminalreporter):
    """Say it loudly when the browser tests did not run, and how to get them (`make test`)."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "Chromium is not installed" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep("=", f"{len(skipped)} BROWSER TEST(S) DID NOT RUN", yellow=True, bold=True)
        terminalreporter.write_line(
            "Chromium is not installed, so the tests that use a real browser (phone "
            "screens, accessibility, the README's screenshots) were skipped."
        )
        terminalreporter.write_line(
            "To run them: apt-get install chromium (Debian/Ubuntu), or set CHROMIUM=/path/"
            "to/chromium. See README.md, 'For developers'."
        )
