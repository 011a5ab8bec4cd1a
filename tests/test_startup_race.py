"""The first start never kills the server: gunicorn boots several workers at once on a fresh
database, and every one of them must come up (none may lose a race for the default community)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from timebank.communities.models import Community
from timebank.config import _development_secret_key
from timebank.extensions import db

from .conftest import ON_POSTGRES, POSTGRES_URL, empty_postgres, make_app, migrate_fresh

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
BOOTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, workers: int, *options: str, env: dict | None = None):
    """Start gunicorn on `url` and wait until every worker has booted and it answers; returns the
    process and its address. A worker that fails to boot makes gunicorn stop: an AssertionError."""
    port = free_port()
    ready = Path(tempfile.mkdtemp(prefix="gunicorn-ready-"))
    (ready / "hooks.py").write_text(
        "import pathlib\n\n"
        f"def post_worker_init(worker):\n    pathlib.Path({str(ready)!r}, str(worker.pid)).touch()\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    environment.update(DATABASE_URL=url, SECRET_KEY="boot-test", **(env or {}))
    process = subprocess.Popen(
        [str(GUNICORN), "--config", str(ready / "hooks.py"), "--workers", str(workers), *options,
         "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn stopped:\n{process.stdout.read()[-4000:]}")
            if len(list(ready.iterdir())) > workers:  # the hooks file and one file per booted worker
                with urllib.request.urlopen(f"{address}/healthz", timeout=10) as response:  # nosec B310
                    assert response.status == 200
                return process, address
            time.sleep(0.2)
        stop(process)
        raise AssertionError("gunicorn's workers did not all boot within 90 seconds")
    finally:
        shutil.rmtree(ready)


def stop(process) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output


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
            with urllib.request.urlopen(f"{address}/", timeout=10) as response:  # nosec B310 (our own server)
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

        def read_key():
            start.wait()
            return _development_secret_key(folder)

        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(lambda _: read_key(), range(8)))
        assert len(keys) == 1 and len(keys.pop()) == 64
        assert [p.name for p in folder.iterdir()] == ["secret_key"]
