"""A wapiti scan of the running app, logged in as a demo member and as a coordinator.

Run by hand (it takes a few minutes and is not part of CI); record what it found in the README's
security section:

    python3 -m venv /tmp/wapiti && /tmp/wapiti/bin/pip install wapiti3
    WAPITI=/tmp/wapiti/bin/wapiti .venv/bin/python benchmarks/security_scan.py

SCAN_SECONDS bounds each login's scan (default 600); each attack module stops after a minute;
SCAN_LOGINS=coordinator scans one login only.
It makes a fresh SQLite database with the demo neighbourhood, serves it with gunicorn on a free
port, runs wapiti's attack modules (injections, XSS, CRLF, open redirects, file disclosure, CSRF,
security headers, cookie flags …) once per login, and prints each finding. It exits 1 when wapiti
reports a vulnerability of a kind we must fix (anything but the informational modules)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "timebank-demo"
# Demo logins (see `flask demo seed`): a member and a coordinator.
LOGINS = {"member": "jan@example.org", "coordinator": "coordinator@example.org"}
# Never follow these while logged in: they end the session or change the account itself.
EXCLUDED = [
    "/logout",
    "/settings/logout-everywhere",
    "/settings/erasure",
    "/settings/password",
    "/settings/email",
    "/language",
]
# Findings of these modules are advice, not holes (e.g. "no Content-Security-Policy report-uri").
INFORMATIONAL = {"Fingerprint web technology", "Fingerprint web application framework", "Fingerprint web server"}
# The scan serves the development configuration over plain HTTP on localhost; in production the app
# runs behind TLS with Secure cookies (ProductionConfig), so these two say nothing about it.
PLAIN_HTTP_ONLY = {"Unencrypted Channels", "Secure Flag cookie"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            # the app this script started on 127.0.0.1, over http
            urllib.request.urlopen(url, timeout=2)  # nosec B310
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not answer at {url}")


def scan(wapiti: str, base: str, email: str, report: Path) -> dict:
    # Not run: nikto/wapp/takeover/network_device (fingerprinting and third-party checks), and ldap:
    # the app talks to no LDAP server, and the module took forms that echo input back with a
    # validation error for injections (the first scan, 2026-12-05, reported 50 such false positives).
    command = [
        wapiti,
        "-u",
        f"{base}/",
        "--scope",
        "folder",
        "--flush-session",
        "-f",
        "json",
        "-o",
        str(report),
        "--form-url",
        f"{base}/login",
        "--form-user",
        email,
        "--form-password",
        PASSWORD,
        "--max-scan-time",
        os.environ.get("SCAN_SECONDS", "600"),
        "--max-attack-time",
        "60",
        "--max-links-per-page",
        "40",
        "-d",
        "3",
        "--tasks",
        "4",
        "-m",
        "all,-nikto,-wapp,-takeover,-network_device,-ldap",
        "--no-bugreport",
    ]
    for path in EXCLUDED:
        command += ["-x", f"{base}{path}*"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads(report.read_text())


def main() -> int:
    wapiti = os.environ.get("WAPITI") or shutil.which("wapiti")
    if not wapiti:
        print("wapiti is not installed; see the module docstring", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="timebank-scan-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'scan.db'}",
        "TIMEBANK_ENV": "development",
        "TIMEBANK_UPLOAD_FOLDER": str(work / "uploads"),
    }
    flask = [str(BIN / "flask"), "--app", "timebank"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failures = 0
    try:
        wait_for(f"{base}/healthz")
        wanted = os.environ.get("SCAN_LOGINS", ",".join(LOGINS)).split(",")
        for role, email in ((role, LOGINS[role]) for role in wanted):
            found = scan(wapiti, base, email, work / f"{role}.json")
            vulnerabilities = {kind: items for kind, items in found.get("vulnerabilities", {}).items() if items}
            anomalies = {kind: items for kind, items in found.get("anomalies", {}).items() if items}
            print(
                f"== logged in as a {role} ({email}): {len(vulnerabilities)} kinds of vulnerability, "
                f"{len(anomalies)} kinds of anomaly"
            )
            for kind, items in {**vulnerabilities, **anomalies}.items():
                for item in items:
                    print(f"  {kind}: {item.get('method')} {item.get('path')} {item.get('info', '')[:160]}")
                if kind in vulnerabilities and kind not in INFORMATIONAL | PLAIN_HTTP_ONLY:
                    failures += 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
