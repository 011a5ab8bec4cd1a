"""Scale benchmark, PostgreSQL only: a city of many neighbourhoods against one neighbourhood of
300,000 postings (the size of the demo's full run), measured in the same run.

    .venv/bin/python benchmarks/scale.py --postgres postgresql+psycopg://…/DB   # full size; that database is EMPTIED
    .venv/bin/python benchmarks/scale.py --postgres … --communities 20 --members 20000 --postings 2000000
    .venv/bin/python benchmarks/scale.py --postgres … --tiny     # seconds, to see that it runs
    .venv/bin/python benchmarks/scale.py --postgres …/DB --reuse-large …/OTHER   # measure DB's large case again

Full size is 100 communities, 100,000 members and 10,000,000 postings; run it by hand, not in CI.
Both cases are bulk-loaded straight in SQL (gifts between members of one community, one every few
minutes over 90 days, each member's balance-after chain running forward in time), then the cached
balances and the statistics' roll-ups are rebuilt from the postings and the tables analysed.
`ledger verify` must pass on both.

Measured on the first community of each case, as its coordinator would see it (pages through the
Flask test client, logged in): the home page, the statement page, the members' directory, the
market and the statistics page; then the statement service (newest 50 lines of the busiest
account), `ledger verify` of one community (time per posting, and the largest Python memory it
held, by tracemalloc) and the statistics' figures of the last 12 months.

Goals (exit 0; 2 when one is missed, 1 on a crash): every page and the statistics within 2× of the
small case; verify's time per posting within 2× of the small case (linear in postings) and its
memory within 2× (flat).
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from timebank import create_app  # noqa: E402
from timebank.communities.models import Community  # noqa: E402
from timebank.communities.services import create_community  # noqa: E402
from timebank.db import utcnow  # noqa: E402
from timebank.extensions import db  # noqa: E402
from timebank.ledger import services as ledger  # noqa: E402
from timebank.ledger.bulk import ensure_accounts  # noqa: E402
from timebank.ledger.models import Account, Posting  # noqa: E402
from timebank.ledger.verify import verify  # noqa: E402
from timebank.members.models import Member  # noqa: E402
from timebank.members.passwords import hash_password  # noqa: E402
from timebank.progress import Progress  # noqa: E402
from timebank.stats import rollup  # noqa: E402
from timebank.stats.indicators import compute, period  # noqa: E402

GOAL = 2.0
SPAN_DAYS = 90
PASSWORD = "a long benchmark password"  # nosec B105 (a throwaway database)
PAGES = ["/", "/account", "/members", "/market", "/coordinate/statistics"]

# Postings straight in SQL: transaction i belongs to community i mod C; its payer and payee are two
# different members of that community, picked by a multiplicative hash of the id; each posting's
# balance-after is the running sum of its account's postings in id order.
ACCOUNT_NUMBERS = """
CREATE TEMP TABLE bench_accounts AS
SELECT community_id, id AS account_id, row_number() OVER (PARTITION BY community_id ORDER BY id) - 1 AS n
FROM ledger_accounts WHERE kind = 'member';
CREATE INDEX ON bench_accounts (community_id, n);
CREATE TEMP TABLE bench_communities AS
SELECT row_number() OVER (ORDER BY community_id) - 1 AS k, community_id, COUNT(*) AS members
FROM bench_accounts GROUP BY community_id;
"""
TRANSACTIONS = """
INSERT INTO ledger_transactions (community_id, kind, memo, created_at)
SELECT c.community_id, 'gift', '', CAST(:start AS timestamp) + g.i * CAST(:step AS interval)
FROM generate_series(1, :count) AS g(i) JOIN bench_communities c ON c.k = g.i % :communities
ORDER BY g.i
"""
POSTINGS = """
INSERT INTO ledger_postings (transaction_id, account_id, amount, balance_after)
SELECT transaction_id, account_id, amount,
       SUM(amount) OVER (PARTITION BY account_id ORDER BY transaction_id, leg)
FROM (
    SELECT t.id AS transaction_id, leg.leg, a.account_id, leg.sign * (30 + 15 * (t.id % 7)) AS amount
    FROM (SELECT t.id, t.community_id, c.members,
                 (t.id * 2654435761) % c.members AS payer,
                 1 + (CAST(t.id AS bigint) * 40503) % (c.members - 1) AS step
          FROM ledger_transactions t JOIN bench_communities c ON c.community_id = t.community_id) t
    CROSS JOIN (VALUES (0, -1), (1, 1)) AS leg(leg, sign)
    JOIN bench_accounts a ON a.community_id = t.community_id
                         AND a.n = CASE WHEN leg.leg = 0 THEN t.payer ELSE (t.payer + t.step) % t.members END
) legs
ORDER BY transaction_id, leg
"""
BALANCES = """
UPDATE ledger_accounts a SET balance = s.total
FROM (SELECT account_id, SUM(amount) AS total FROM ledger_postings GROUP BY account_id) s
WHERE a.id = s.account_id
"""


def make_app(url: str):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "localhost",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def load(url: str, communities: int, members: int, postings: int, say: Progress) -> str:
    """A fresh database with that many communities, members and postings; returns what was made."""
    app = make_app(url)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        started = time.perf_counter()
        now = utcnow()
        ids = []
        for k in range(communities):
            community = create_community(f"wijk-{k}", f"Wijk {k}")
            community.ledger_floor, community.ledger_ceiling = -(10**6), 10**6
            db.session.flush()
            ids.append(community.id)
        say(f"{communities} communities")
        for start in range(0, members, 20_000):
            db.session.execute(
                sa.insert(Member),
                [
                    {
                        "community_id": ids[i % communities],
                        "name": f"Member {i}",
                        "email": f"m{i}@example.org",
                        "role": "coordinator" if i < communities else "member",
                        "status": "active",
                        "created_at": now - timedelta(days=SPAN_DAYS + 10),
                    }
                    for i in range(start, min(members, start + 20_000))
                ],
            )
        first = db.session.scalar(sa.select(Member).where(Member.email == "m0@example.org"))
        first.password_hash = hash_password(PASSWORD)
        for community_id in ids:
            ensure_accounts(
                community_id, db.session.scalars(sa.select(Member.id).where(Member.community_id == community_id))
            )
        db.session.commit()
        say(f"{members:,} members and their accounts")
        conn = db.session.connection()
        for statement in ACCOUNT_NUMBERS.split(";")[:-1]:
            conn.exec_driver_sql(statement)
        transactions = postings // 2
        conn.execute(
            sa.text(TRANSACTIONS),
            {
                "start": now - timedelta(days=SPAN_DAYS),
                "count": transactions,
                "communities": communities,
                "step": f"{SPAN_DAYS * 86400 / transactions} seconds",
            },
        )
        say(f"{transactions:,} transactions")
        conn.execute(sa.text(POSTINGS))
        say(f"{postings:,} postings")
        conn.execute(sa.text(BALANCES))
        db.session.commit()
        rows = 0
        for community_id in ids:
            rows += rollup.rebuild(db.session.connection(), community_id)
            db.session.commit()
        say(f"{rows:,} roll-up rows")
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        written = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return (
        f"{communities} communities, {members:,} members, {written:,} postings, {rows:,} roll-up rows; "
        f"loaded in {seconds:.0f} s"
    )


def timed(work, runs: int) -> float:
    """Median milliseconds of `work` over `runs` runs after two warm-up runs."""
    samples = []
    for i in range(runs + 2):
        began = time.perf_counter()
        work()
        if i >= 2:
            samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def measure(url: str, runs: int) -> dict[str, float]:
    """Milliseconds for each page and service, verify's µs per posting and its peak memory (kB)."""
    app = make_app(url)
    found = {}
    with app.app_context():
        community = db.session.scalar(sa.select(Community).order_by(Community.id).limit(1))
        client = app.test_client()
        response = client.post("/login", data={"email": "m0@example.org", "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        for path in PAGES:

            def page(path=path):
                assert client.get(path).status_code == 200, path

            found[f"page {path}"] = timed(page, runs)
        busiest = db.session.scalar(
            sa.select(Account)
            .join(Posting, Posting.account_id == Account.id)
            .where(Account.community_id == community.id)
            .group_by(Account.id)
            .order_by(sa.func.count(Posting.id).desc())
            .limit(1)
        )
        found["statement (50 newest lines)"] = timed(lambda: ledger.statement(busiest, limit=50), runs)
        start, end = period("last_12_months", rollup.local_day(utcnow()))
        found["statistics (12 months)"] = timed(lambda: compute(community, start, end), runs)
        db.session.rollback()
        postings = db.session.scalar(
            sa.select(sa.func.count(Posting.id)).join(Account).where(Account.community_id == community.id)
        )
        tracemalloc.start()
        report = verify(community.id)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.ok, report.lines()
        found["verify, µs per posting"] = timed(lambda: verify(community.id), 3) * 1000 / postings
        found["verify, peak memory kB"] = peak / 1024
        db.session.rollback()
        db.engine.dispose()
    return found


def whole_verify(url: str) -> str:
    """Every community in turn, as `ledger verify --per-community` does."""
    app = make_app(url)
    with app.app_context():
        began = time.perf_counter()
        ids = db.session.scalars(sa.select(Community.id)).all()
        assert all(verify(community_id).ok for community_id in ids)
        seconds = time.perf_counter() - began
        postings = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        db.engine.dispose()
    return f"{len(ids)} communities, {postings:,} postings verified one community at a time in {seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", required=True, help="URL of a database this benchmark may EMPTY")
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--postings", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=300_000, help="postings of the one-neighbourhood case")
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each page")
    parser.add_argument(
        "--tiny", action="store_true", help="3 communities, 300 members, 20,000 postings against 3,000 (seconds)"
    )
    parser.add_argument(
        "--reuse-large",
        metavar="SMALL_URL",
        help="--postgres holds the large case from an earlier run (loading it takes about an hour): measure it "
        "as it is, and load the small case into this other database, which it EMPTIES",
    )
    args = parser.parse_args()
    if args.tiny:
        args.communities, args.members, args.postings, args.small, args.runs = 3, 300, 20_000, 3_000, 3
    if args.communities < 1 or args.members < 2 * args.communities or args.postings < 2:
        parser.error("every community needs at least two members, and there must be postings")
    say = Progress()
    cases = {
        "small": (1, max(2, min(args.members, args.small // 100)), args.small),
        "large": (args.communities, args.members, args.postings),
    }
    results = {}
    print("### Scale on PostgreSQL\n")
    urls = {"small": args.reuse_large or args.postgres, "large": args.postgres}
    for name, (communities, members, postings) in cases.items():
        if name == "large" and args.reuse_large:
            made = "as loaded by an earlier run"
        else:
            made = load(urls[name], communities, members, postings, say)
        results[name] = measure(urls[name], args.runs)
        print(f"- {name}: {made}", flush=True)
    print(f"- large: {whole_verify(args.postgres)}\n")
    print("| measured on the first community | small | large | ratio | goal |\n|---|---:|---:|---:|---|")
    missed = []
    for what, small in results["small"].items():
        large = results["large"][what]
        ratio = large / small if small else float("inf")
        if ratio > GOAL:
            missed.append(what)
        print(f"| {what} | {small:.1f} | {large:.1f} | {ratio:.2f} | ≤ {GOAL:g} |")
    print(
        f"\n{'All goals met.' if not missed else 'Missed: ' + ', '.join(missed) + '.'} "
        "Times are medians in ms unless named otherwise."
    )
    sys.exit(2 if missed else 0)


if __name__ == "__main__":
    main()
