"""Configuration and start-up: a misconfigured app stops with one plain sentence."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from timebank import create_app
from timebank.config import _development_secret_key, normalise_database_url
from timebank.errors import StartupError
from timebank.extensions import db
from timebank.startup import SCHEMA_REVISION, check_database

from .conftest import make_app

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(StartupError) as exc:
        create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "SECRET_KEY is not set" in exc.value.message
    assert "\n" not in exc.value.message


def test_production_has_secure_cookies_and_hsts():
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/healthz")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_development_secret_key_is_made_once_and_kept(tmp_path):
    first = _development_secret_key(tmp_path)
    assert len(first) >= 64
    assert _development_secret_key(tmp_path) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("TIMEBANK_DEFAULT_COMMUNITY_NAME", "Lucas Gemeenschap")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/tb")
    app = create_app()
    assert app.config["DEFAULT_COMMUNITY_NAME"] == "Lucas Gemeenschap"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/tb"


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db", "://"])
def test_malformed_database_url_is_one_sentence(url):
    with pytest.raises(StartupError) as exc:
        normalise_database_url(url)
    assert "DATABASE_URL" in exc.value.message


def run_wsgi(env_overrides: dict, *command: str) -> subprocess.CompletedProcess:
    """Start the server's module (or, with `command`, `python -m flask …`) in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TIMEBANK_ENV")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *(("-m", "flask", *command) if command else ("-c", "import wsgi"))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        ("nonsense", "DATABASE_URL is not a database address"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/nothing", "cannot reach the database"),
    ],
)
def test_server_start_fails_with_one_plain_line(url, expected):
    result = run_wsgi({"DATABASE_URL": url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_server_refuses_a_database_without_migrations(tmp_path):
    result = run_wsgi({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert result.returncode == 1
    assert "flask --app timebank db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


# What a gunicorn worker does at start, then: does it answer, and which of our modules did it load?
WORKER_START = (
    "import sys, wsgi\n"
    "print(wsgi.app.test_client().get('/healthz').status_code)\n"
    "print([m for m in sys.modules if m.split('.')[0] in ('alembic', 'flask_migrate')"
    " or m.startswith('timebank.') and m.endswith('.cli')])\n"
)


def test_a_web_process_serves_without_alembic_or_the_commands(db_url):
    """gunicorn's workers load wsgi.py: the schema check reads the database's revision itself, so
    no worker carries Alembic (11 MB each) or the command-line modules."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER_START],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "TIMEBANK_ENV"}, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["200", "[]"], result.stderr


def test_the_revision_the_server_expects_is_the_newest_migration(app):
    """A new migration must move `timebank.startup.SCHEMA_REVISION` too, or no server would start."""
    with app.app_context():
        heads = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_heads()
    assert heads == [SCHEMA_REVISION], "set timebank.startup.SCHEMA_REVISION to the newest migration's revision"


def test_first_start_creates_the_default_community(app):
    check_database(app)
    check_database(app)  # a second start (or worker) changes nothing
    from timebank.communities.models import Community

    with app.app_context():
        communities = db.session.scalars(db.select(Community)).all()
        assert [c.slug for c in communities] == [app.config["DEFAULT_COMMUNITY_SLUG"]]
        assert len(communities[0].categories) == 15


def test_unmigrated_database_is_refused(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(StartupError, match="db upgrade"):
        check_database(app)


UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.mark.parametrize(
    "command, url, expected",
    [
        ("ledger verify", UNREACHABLE, "cannot reach the database"),
        ("db upgrade", UNREACHABLE, "cannot reach the database"),
        ("mail send", "unmigrated", "flask --app timebank db upgrade"),
    ],
)
def test_commands_fail_with_one_plain_line(tmp_path, command, url, expected):
    """Operators run these from cron and deploy scripts: a wrong setting must read as one sentence."""
    if url == "unmigrated":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run_wsgi({"DATABASE_URL": url}, "--app", "timebank", *command.split())
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
