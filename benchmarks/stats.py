"""Statistics benchmark: how long the statistics page's data (every indicator for the last 12 months,
and again for the 12 months before, as the page compares them) takes at about 10,000 and at about
1,000,000 ledger postings, and the ratio between the two.

    .venv/bin/python benchmarks/stats.py            # on DATABASE_URL (default: SQLite in a temporary folder)
    .venv/bin/python benchmarks/stats.py --tiny     # 1,000 and 10,000 postings: seconds, to see that it runs
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python benchmarks/stats.py    # that database is EMPTIED

Each size is a fresh database of exchanges (with a 10 % levy), gifts, donations and grants written
with the ledger's bulk writer, which keeps the roll-ups as the live ledger does. Two shapes:

    --shape grown   one member per 200 postings (at least 50), a year and a half: the large case has
                    100 times the members, and nearly every exchange is between strangers;
    --shape lived   a neighbourhood of 1,000 members that has lived longer: a year and a half at
                    10,000 postings, ten years at 1,000,000; each member mostly helps and is helped
                    by a handful of regular neighbours.

The figures are computed in SQL from the roll-ups; nothing loads members or postings into Python.
Each size also reports the median CPU time of this process per run and the load average: on a
machine shared with other work the wall-clock includes waiting for a core.

Goal: the large case within 3× the small one (exit status 0; 2 when missed, 1 on a crash).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
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
from timebank.ledger.bulk import bulk_post, ensure_accounts  # noqa: E402
from timebank.ledger.models import Posting  # noqa: E402
from timebank.members.models import Member  # noqa: E402
from timebank.stats import rollup  # noqa: E402
from timebank.stats.indicators import compute, period, previous  # noqa: E402

RATIO_GOAL = 3.0
DAYS = 540
LIVED_MEMBERS, LIVED_YEARS, REGULARS = 1_000, 10, 6
BATCH = 20_000


def make_app(url: str):
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "localhost", "RATELIMIT_ENABLED": False}
    )


def fresh_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    app = make_app(url)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        db.engine.dispose()


def shape_of(shape: str, postings: int) -> tuple[int, int]:
    """(members, days of history) of a neighbourhood with about `postings` postings."""
    if shape == "lived":
        return LIVED_MEMBERS, max(DAYS, min(LIVED_YEARS * 365, postings * LIVED_YEARS * 365 // 1_000_000))
    return max(50, postings // 200), DAYS


def load(url: str, postings: int, shape: str) -> str:
    """A neighbourhood with about `postings` ledger postings; returns what was made."""
    fresh_database(url)
    app = make_app(url)
    rng = random.Random(1)
    with app.app_context():
        started = time.perf_counter()
        community = create_community("bench", "Benchmark")
        # Generous limits: the bulk writer leaves out what a limit refuses, and every posting should count.
        community.ledger_levy_percent, community.ledger_floor, community.ledger_ceiling = 10, -(10**6), 10**6
        now = utcnow()
        members, days = shape_of(shape, postings)
        db.session.execute(
            sa.insert(Member),
            [
                {
                    "community_id": community.id,
                    "name": f"Member {i}",
                    "email": f"m{i}@example.org",
                    "role": "member",
                    "status": "active",
                    "created_at": now - timedelta(days=rng.randrange(days + 200)),
                }
                for i in range(members)
            ],
        )
        ids = list(db.session.scalars(sa.select(Member.id).where(Member.community_id == community.id)))
        accounts = ensure_accounts(community.id, ids)
        db.session.commit()
        # An exchange writes 3 postings (levy), the others 2: about 2.9 per transaction.
        transactions = int(postings / 2.9)
        moments = sorted(now - timedelta(seconds=rng.randrange(days * 86400)) for _ in range(transactions))
        helpers = [rng.paretovariate(2) for _ in ids]
        regulars = {i: rng.sample(ids, REGULARS) for i in ids}
        for start in range(0, transactions, BATCH):
            entries = []
            for moment in moments[start : start + BATCH]:
                if shape == "lived" and rng.random() < 0.9:
                    payer = rng.choice(ids)
                    payee = rng.choice(regulars[payer])
                else:
                    payer, payee = (
                        rng.sample(ids, 2)
                        if rng.random() < 0.5
                        else (rng.choice(ids), rng.choices(ids, weights=helpers)[0])
                    )
                if payer == payee:
                    payee = ids[(ids.index(payer) + 1) % len(ids)]
                kind = rng.choices(("exchange", "gift", "donation", "grant"), weights=(90, 5, 3, 2))[0]
                minutes = rng.choice((30, 45, 60, 90, 120))
                if kind == "exchange":
                    levy = minutes // 10
                    legs = [(accounts[payer], -minutes), (accounts[payee], minutes - levy), (accounts[None], levy)]
                elif kind == "gift":
                    legs = [(accounts[payer], -minutes), (accounts[payee], minutes)]
                elif kind == "donation":
                    legs = [(accounts[payer], -minutes), (accounts[None], minutes)]
                else:
                    legs = [(accounts[None], -minutes), (accounts[payee], minutes)]
                entries.append((community.id, kind, legs, moment, ""))
            bulk_post(entries)
            db.session.commit()
        written = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        rows = sum(db.session.scalar(sa.select(sa.func.count()).select_from(table)) for table in rollup.VALUES)
        # What autovacuum does soon after a load on PostgreSQL: the month rows were updated by the
        # triggers with every posting; without it the planner sees no page all-visible and no
        # statistics, and reads the month tables' figures from their rows rather than the indexes.
        if url.startswith("postgresql"):
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return f"{members:,} members, {days:,} days, {written:,} postings, {rows:,} roll-up rows, loaded in {seconds:.0f} s"


def measure(url: str, runs: int) -> tuple[list[float], int, float]:
    """Milliseconds for the page's data (the last 12 months and the 12 months before), the peak
    Python memory in bytes of one more run, traced apart so tracing does not slow the timed runs,
    and the median CPU milliseconds this process spent per run: on a machine shared with others'
    work the wall-clock waits for a core, the CPU time does not (on SQLite it includes the queries,
    on PostgreSQL only the Python side)."""
    app = make_app(url)
    samples, cpu = [], []
    with app.app_context():
        community = db.session.scalar(sa.select(Community).where(Community.slug == "bench"))
        start, end = period("last_12_months", rollup.local_day(utcnow()))
        for i in range(runs + 2):
            began, began_cpu = time.perf_counter(), time.process_time()
            compute(community, start, end)
            compute(community, *previous(start, end))
            if i >= 2:
                samples.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
            db.session.rollback()
        tracemalloc.start()
        compute(community, start, end)
        compute(community, *previous(start, end))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        db.session.rollback()
        db.engine.dispose()
    return samples, peak, statistics.median(cpu)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="1,000 and 10,000 postings (seconds)")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per size")
    parser.add_argument(
        "--shape",
        choices=("grown", "lived"),
        default="grown",
        help="grown: members grow with postings; lived: 1,000 members, a longer history",
    )
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.tiny else (10_000, 1_000_000)
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'stats.db'}"
        engine = sa.make_url(url).get_backend_name()
        print(f"### Statistics page data on {engine}, shape {args.shape}\n")
        results = {}
        for size in sizes:
            made = load(url, size, args.shape)
            results[size], peak, cpu = measure(url, args.runs)
            print(
                f"- {size:,} postings wanted: {made}; median {statistics.median(results[size]):.1f} ms, "
                f"p95 {p95(results[size]):.1f} ms, CPU of this process {cpu:.1f} ms (median), "
                f"peak Python memory {peak / 1024:,.0f} KiB, load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    small, large = (statistics.median(results[size]) for size in sizes)
    ratio = large / small
    print(f"\nRatio {sizes[1]:,} / {sizes[0]:,} postings (median): {ratio:.2f} (goal ≤ {RATIO_GOAL:g}).")
    sys.exit(0 if ratio <= RATIO_GOAL else 2)


if __name__ == "__main__":
    main()
