"""HTTP load benchmark: the pages members and coordinators use, under 16 logged-in clients, as a
share of `/healthz` throughput measured in the same run.

    .venv/bin/python benchmarks/http_load.py --database sqlite:////tmp/large.db     # seeded first:
        DATABASE_URL=… flask --app timebank demo seed --members 5000 --months 12
    .venv/bin/python benchmarks/http_load.py --database postgresql+psycopg://…/db
    .venv/bin/python benchmarks/http_load.py --tiny     # a small demo in a temporary SQLite file: seconds

gunicorn runs the app as in production (`-w 2 --threads 4`, TIMEBANK_ENV=production) on a free
local port. The clients are threads of this process, each with its own keep-alive connection and
session cookie: the 16 oldest demo members (the 16 newest for the pages marked so, the
coordinator for coordinator pages, a bearer token each for the API). For every page, blocks of
`/healthz` and of the page alternate, so both see the same machine load; the ratio is the median
of the block ratios. The API's rate limit is raised for the run (it would otherwise answer 429 to
16 busy clients after a few seconds).

Goals (issue 15): every page ≥ 30 % of `/healthz`, API reads ≥ 50 %, no errors, each worker under
150 MB resident. Exit status 0 when met, 2 when a goal is missed, 1 on a crash.
"""

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE_GOAL = 0.30
API_GOAL = 0.50
RSS_GOAL_MB = 150
SEARCHES = ["fiets", "soep", "hulp", "computer", "oppas", "tuin"]


@dataclass
class Client:
    """One logged-in person: a keep-alive connection and what identifies them."""

    port: int
    headers: dict
    connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> int:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    return 0
        return 0


@dataclass
class Target:
    name: str
    paths: list[str]
    kind: str = "page"  # "page" (the oldest members), "newcomer" (the newest), "coordinator" or "api"
    results: list = field(default_factory=list)  # (healthz block, page block)


@dataclass
class Block:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_block(clients: list[Client], paths: list[str], seconds: float) -> Block:
    """Every client requests the paths in turn until the time is up."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def work(number: int, client: Client) -> None:
        mine, failed, i = [], 0, number
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            status = client.get(paths[i % len(paths)])
            mine.append(time.perf_counter() - began)
            failed += status != 200
            i += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Block(len(latencies), errors[0], time.perf_counter() - began, latencies)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database: str, port: int, env_extra: dict) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "TIMEBANK_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "TIMEBANK_API_RATELIMIT": "1000000 per minute",
        **env_extra,
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT,
        env=env,
    )
    probe = Client(port, {})
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped with status {server.returncode}")
        if probe.get("/healthz") == 200:
            return server
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def log_in(port: int, email: str, password: str) -> Client:
    """A member's session cookie, through the login form and its CSRF token, as a browser would."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login", headers={"Accept-Language": "nl"})
    response = connection.getresponse()
    body = response.read().decode()
    cookie = "; ".join(value.split(";")[0] for value in response.msg.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    form = f"csrf_token={token.group(1)}&email={email}&password={password}"
    connection.request(
        "POST",
        "/login",
        body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Accept-Language": "nl"},
    )
    response = connection.getresponse()
    response.read()
    session = "; ".join(value.split(";")[0] for value in response.msg.get_all("Set-Cookie") or [])
    if response.status != 302 or not session:
        raise SystemExit(f"could not log in as {email}: status {response.status}")
    return Client(port, {"Cookie": session, "Accept-Language": "nl"}, connection)


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of gunicorn's workers (the master's children), from /proc."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
        if ppid and rss and int(ppid.group(1)) == master:
            sizes.append(int(rss.group(1)) / 1024)
    return sizes


def prepare(database: str, clients: int):
    """The people and things to ask for, read from the seeded database."""
    from timebank import create_app
    from timebank.api.auth import issue_token
    from timebank.demo import names
    from timebank.extensions import db
    from timebank.governance.models import Proposal
    from timebank.market.finding import listed_conditions
    from timebank.market.models import Post
    from timebank.members.models import JoinRequest, Member

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "benchmark", "RATELIMIT_ENABLED": False})
    with app.app_context():
        community_id = db.session.scalar(sa.select(Member.community_id).where(Member.email == "fatima@example.org"))
        if community_id is None:
            raise SystemExit("the database has no demo data: run `flask --app timebank demo seed` on it first")
        who = sa.select(Member.email).where(
            Member.community_id == community_id,
            Member.status == "active",
            Member.role == "member",
            Member.password_hash.is_not(None),
        )
        emails = db.session.scalars(who.order_by(Member.id).limit(clients)).all()
        # The newest members see other pages than the oldest (first steps, few exchanges of their own).
        newest = db.session.scalars(who.order_by(Member.id.desc()).limit(clients)).all()
        people = db.session.scalars(sa.select(Member).where(Member.email.in_(emails))).all()
        tokens = [issue_token(person)[1] for person in people]
        db.session.commit()
        posts = db.session.scalars(
            sa.select(Post.id).where(*listed_conditions(community_id)).order_by(Post.id.desc()).limit(40)
        ).all()
        waiting = db.session.scalar(sa.select(sa.func.count(JoinRequest.id)).where(JoinRequest.state == "waiting"))
        proposals = db.session.scalars(
            sa.select(Proposal.id).where(Proposal.community_id == community_id).order_by(Proposal.id)
        ).all()
    return emails, newest, names.DEMO_PASSWORD, tokens, posts, waiting, proposals


def seed_tiny(folder: Path) -> str:
    database = f"sqlite:///{folder / 'tiny.db'}"
    env = {**os.environ, "DATABASE_URL": database}
    flask = str(Path(sys.executable).with_name("flask"))
    for command in (["db", "upgrade"], ["demo", "seed", "--members", "40", "--months", "2"]):
        subprocess.run([flask, "--app", "timebank", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return database


def targets(posts: list[int], proposals: list[int]) -> list[Target]:
    return [
        Target("market listing", ["/market", "/market?page=2", "/market?kind=offer", "/market?gifts=1"]),
        Target("search", [f"/market?q={word}" for word in SEARCHES]),
        Target("post page", [f"/market/posts/{post}" for post in posts]),
        Target("account statement", ["/account"]),
        Target("exchanges", ["/exchanges"]),
        Target("members", ["/members"]),
        Target("notifications", ["/notifications"]),
        Target("front page", ["/"]),
        Target("front page (newest members)", ["/"], kind="newcomer"),
        Target("account statement (newest members)", ["/account"], kind="newcomer"),
        Target("proposals and decisions", ["/decide", "/decide/decisions"]),
        Target("proposal page", [f"/decide/{proposal}" for proposal in proposals]),
        Target("pots", ["/pots", "/pots/common"]),
        Target("join requests (coordinator)", ["/coordinate/requests"], kind="coordinator"),
        Target("reports (coordinator)", ["/coordinate/reports"], kind="coordinator"),
        Target("coordinator desk", ["/coordinate"], kind="coordinator"),
        Target("members (coordinator)", ["/coordinate/members"], kind="coordinator"),
        Target("audit log (coordinator)", ["/coordinate/log"], kind="coordinator"),
        Target("statistics (coordinator)", ["/coordinate/statistics"], kind="coordinator"),
        Target("/api/v1/posts", ["/api/v1/posts"], kind="api"),
        Target("/api/v1/accounts/me/entries", ["/api/v1/accounts/me/entries"], kind="api"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL"), help="a seeded demo database")
    parser.add_argument("--tiny", action="store_true", help="a small demo in a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=3, help="alternating block pairs per page")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one block")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="http_load-"))
    try:
        if args.tiny:
            args.database, args.clients, args.blocks, args.seconds = seed_tiny(folder), 4, 1, 0.3
        if not args.database:
            parser.error("give --database (a seeded demo database) or --tiny")
        return measure(args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(args) -> int:
    emails, newest, password, tokens, posts, waiting, proposals = prepare(args.database, args.clients)
    port = free_port()
    server = start_server(args.database, port, {})
    try:
        members = [log_in(port, email, password) for email in emails]
        newcomers = [log_in(port, email, password) for email in newest]
        coordinator = log_in(port, "coordinator@example.org", password)  # one session, a connection per client
        coordinators = [Client(port, coordinator.headers) for _ in range(args.clients)]
        api = [Client(port, {"Authorization": f"Bearer {token}", "Accept-Language": "nl"}) for token in tokens]
        chosen = [t for t in targets(posts, proposals) if args.only in t.name]
        print(
            f"{len(members)} members logged in; {len(posts)} posts to open; {waiting} join requests waiting; "
            f"{args.blocks} × {args.seconds:g} s blocks per page, alternating with /healthz; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        audience = {"page": members, "newcomer": newcomers, "coordinator": coordinators, "api": api}
        for target in chosen:  # warm up each page once per worker thread
            run_block(audience[target.kind], target.paths, min(args.seconds, 0.5))
        for target in chosen:
            who = audience[target.kind]
            for _ in range(args.blocks):
                base = run_block(who, ["/healthz"], args.seconds)
                page = run_block(who, target.paths, args.seconds)
                target.results.append((base, page))
        rss = worker_rss_mb(server.pid)
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (the machine's other work shares the CPUs)")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return report(chosen, rss)


def report(chosen: list[Target], rss: list[float]) -> int:
    missed = []
    print("\n| page | req/s | /healthz req/s | ratio (median) | block ratios | p50 ms | p95 ms | errors | goal |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---|")
    for target in chosen:
        ratios = [page.rps / base.rps for base, page in target.results]
        latencies = sorted(x for _, page in target.results for x in page.latencies)
        errors = sum(page.errors + base.errors for base, page in target.results)
        ratio = statistics.median(ratios)
        goal = API_GOAL if target.kind == "api" else PAGE_GOAL
        met = ratio >= goal and errors == 0
        if not met:
            missed.append(target.name)
        page_rps = statistics.median(page.rps for _, page in target.results)
        base_rps = statistics.median(base.rps for base, _ in target.results)
        p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0
        p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0
        print(
            f"| {target.name} | {page_rps:,.0f} | {base_rps:,.0f} | **{ratio:.1%}** | "
            f"{min(ratios):.1%}–{max(ratios):.1%} | {p50:.0f} | {p95:.0f} | {errors} | "
            f"≥ {goal:.0%}: {'met' if met else 'MISSED'} |"
        )
    worst = max(rss) if rss else 0.0
    print(f"\nworker RSS: {', '.join(f'{size:.0f} MB' for size in rss)} (goal: each under {RSS_GOAL_MB} MB)")
    if worst >= RSS_GOAL_MB:
        missed.append("worker memory")
    if missed:
        print(f"Goals missed: {', '.join(missed)}")
        return 2
    print("All goals met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
