"""Real app servers for tests that need separate processes: gunicorn with its workers."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


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
        f"import pathlib\n\ndef post_worker_init(worker):\n    pathlib.Path({str(ready)!r}, str(worker.pid)).touch()\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    environment.update(DATABASE_URL=url, SECRET_KEY="boot-test", **(env or {}))
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--config",
            str(ready / "hooks.py"),
            "--workers",
            str(workers),
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn stopped:\n{process.stdout.read()[-4000:]}")
            if len(list(ready.iterdir())) > workers:  # the hooks file and one file per booted worker
                # our own server, over http
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
