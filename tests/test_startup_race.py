"""The first start never kills the server: gunicorn boots several workers at once on a fresh
database, and every one of them must come up (none may lose a race for the default community)."""

import shutil
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from timebank.communities.models import Community
from timebank.config import _development_secret_key
from timebank.extensions import db
from timebank.startup import warn_about_per_process_state

from .conftest import ON_POSTGRES, POSTGRES_URL, empty_postgres, make_app, migrate_fresh
from .servers import serve, stop

BOOTS = 3


@pytest.fixture
def fresh_databases(database, tmp_path):
    """A function that gives a freshly migrated database without a community, each call."""
    if ON_POSTGRES:
        url = make_url(POSTGRES_URL)
        url = url.set(database=f"{url.database}_boot").render_as_string(hide_password=False)
        server = sa.create_engine(make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {make_url(url).database}")
        migrate_fresh(url)
        app = make_app(url)

        def fresh():
            with app.app_context():
                empty_postgres()
                db.engine.dispose()
            return url

        yield fresh
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
        server.dispose()
        return

    def fresh():
        path = tmp_path / f"boot-{time.monotonic_ns()}.db"
        shutil.copyfile(database.template, path)
        return f"sqlite:///{path}"

    yield fresh


def test_four_workers_boot_at_once_on_a_fresh_database(fresh_databases):
    for _ in range(BOOTS):
        url = fresh_databases()
        process, address = serve(url, 4)
        try:
            with urllib.request.urlopen(f"{address}/", timeout=10) as response:  # nosec B310 # our own server
                assert response.status == 200
        finally:
            output = stop(process)
        assert "database is locked" not in output and "Worker failed to boot" not in output, output
        app = make_app(url)
        with app.app_context():
            assert db.session.scalars(sa.select(Community.slug)).all() == [app.config["DEFAULT_COMMUNITY_SLUG"]]
            db.engine.dispose()


def test_workers_starting_at_once_agree_on_one_development_key(tmp_path):
    """Without SECRET_KEY (development) each worker reads instance/secret_key, made by whichever
    starts first: all must read the same whole key, never an empty or half-written file."""
    for round_ in range(10):
        folder = tmp_path / f"instance{round_}"
        start = threading.Barrier(8)

        def read_key(start=start, folder=folder):
            start.wait()
            return _development_secret_key(folder)

        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(lambda _: read_key(), range(8)))
        assert len(keys) == 1 and len(keys.pop()) == 64
        assert [p.name for p in folder.iterdir()] == ["secret_key"]


@pytest.mark.parametrize(
    "argv, environ, storage, warned",
    [
        (["/srv/.venv/bin/gunicorn", "--workers", "4", "wsgi:app"], {}, "memory://", True),
        (["/srv/.venv/bin/gunicorn", "-w", "4", "wsgi:app"], {}, "redis://127.0.0.1:6379/0", False),
        (["/srv/.venv/bin/gunicorn", "wsgi:app"], {"WEB_CONCURRENCY": "3"}, "memory://", True),
        (["/srv/.venv/bin/gunicorn", "wsgi:app"], {"GUNICORN_CMD_ARGS": "--workers=2"}, "memory://", True),
        (["/srv/.venv/bin/gunicorn", "--threads", "8", "wsgi:app"], {}, "memory://", False),
        (["/srv/.venv/bin/flask", "run"], {}, "memory://", False),
    ],
)
def test_start_up_warns_when_limits_are_counted_per_process(app, caplog, monkeypatch, argv, environ, storage, warned):
    for name in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app.config["RATELIMIT_STORAGE_URI"] = storage
    warn_about_per_process_state(app, argv)
    assert ("counted per process" in caplog.text) == warned
