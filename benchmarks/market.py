"""Market benchmark: how fast the listing and a search render on the large demo data, and how
search time grows with the number of posts.

    .venv/bin/python benchmarks/market.py                         # SQLite in a temporary folder
    .venv/bin/python benchmarks/market.py --postgres URL          # PostgreSQL too: URL's database is EMPTIED

1. The large demo neighbourhood (`demo seed`: 5,000 members, about 20,000 posts over 12 months):
   p95 of the listing page (plain, filtered, a later page) and of searches, rendered through the
   Flask test client as a logged-in member.
2. Search at 2,000 and at 100,000 posts (posts only, 4 per member): p95 of the same searches,
   and the ratio. Sub-linear means the ratio stays well under 50 (= 100,000 / 2,000).

`--tiny` does the same on small data (200 members and 3 months; search at 500 and 5,000 posts),
with the same goals, in about a minute: .ci/run uses it to notice a page that became slow.

Exit status: 0 when every goal is met (p95 under 100 ms, sub-linear growth), 2 when one is missed.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from timebank import create_app  # noqa: E402
from timebank.communities.models import Category  # noqa: E402
from timebank.communities.services import ensure_default_community  # noqa: E402
from timebank.db import utcnow  # noqa: E402
from timebank.demo import names  # noqa: E402
from timebank.demo.posts import POSTS_PER_MEMBER, seed_posts  # noqa: E402
from timebank.demo.seed import DemoContext, seed, seed_members  # noqa: E402
from timebank.extensions import db  # noqa: E402
from timebank.market.models import Post  # noqa: E402

SEARCHES = [
    "fiets",
    "soep",
    "bikes",
    "computer",
    "oppas",
    "hulp",
    "naaimachine",
    "tuin",
    "homework maths",
    "cafe",
    "lekke band",
    "kinderen",
]
RUNS = 200
WARMUP = 20
P95_GOAL_MS = 100
FULL = {"members": 5000, "months": 12, "growth": (2_000, 100_000), "runs": RUNS}
TINY = {"members": 200, "months": 3, "growth": (500, 5_000), "runs": 60}


def make_app(url: str):
    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "localhost",
            "RATELIMIT_ENABLED": False,
        }
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


def seed_demo(url: str, size: dict) -> str:
    """The demo neighbourhood, as `flask demo seed --members 5000 --months 12` makes it (full size)."""
    fresh_database(url)
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        seed(members=size["members"], months=size["months"], seed=1)
        db.session.commit()
        seconds = time.perf_counter() - started
        posts = db.session.scalar(sa.select(sa.func.count(Post.id)))
        analyse()
        db.engine.dispose()
    return f"{posts:,} posts, seeded in {seconds:.1f} s"


def seed_posts_only(url: str, posts: int) -> None:
    """Members and posts only (posts / 4 members), for the growth measurement."""
    fresh_database(url)
    app = make_app(url)
    with app.app_context():
        ctx = DemoContext(rng=random.Random(1), community=ensure_default_community(), months=12, now=utcnow())
        seed_members(ctx, posts // POSTS_PER_MEMBER)
        seed_posts(ctx)
        db.session.commit()
        analyse()
        db.engine.dispose()


def analyse() -> None:
    """Fresh planner statistics, as autovacuum / `ANALYZE` would have them in production."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def measure(url: str, paths: list[str], runs: int = RUNS) -> list[float]:
    """Milliseconds per page, cycling through `paths`, after a warm-up."""
    app = make_app(url)
    client = app.test_client()
    response = client.post("/login", data={"email": "fatima@example.org", "password": names.DEMO_PASSWORD})
    assert response.status_code == 302, "demo login failed"
    samples = []
    for i in range(WARMUP + runs):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if i >= WARMUP:
            samples.append(elapsed)
    with app.app_context():
        db.engine.dispose()
    return samples


def listing_paths(url: str) -> list[str]:
    app = make_app(url)
    with app.app_context():
        bikes = db.session.scalar(sa.select(Category.id).where(Category.key == "bikes"))
        db.engine.dispose()
    return ["/market", "/market?kind=offer", f"/market?category={bikes}", "/market?page=10", "/market?gifts=1"]


def search_paths() -> list[str]:
    return [f"/market?q={q.replace(' ', '+')}" for q in SEARCHES]


def row(label: str, samples: list[float]) -> str:
    return f"| {label} | {statistics.median(samples):.1f} | {p95(samples):.1f} | {max(samples):.1f} |"


def run(name: str, url: str, size: dict = FULL) -> list[str]:
    """Print the tables for one database; return the goals it missed."""
    print(f"\n### {name}\n")
    print(f"{'Large' if size is FULL else 'Tiny'} demo data: {seed_demo(url, size)}.\n")
    print("| page | median ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    pages = {"listing": measure(url, listing_paths(url), size["runs"])}
    print(row("listing (plain, filtered, page 10, gifts)", pages["listing"]), flush=True)
    pages["search"] = measure(url, search_paths(), size["runs"])
    print(row(f"search ({len(SEARCHES)} different queries)", pages["search"]), flush=True)
    missed = [
        f"{name}: {page} p95 {p95(samples):.0f} ms" for page, samples in pages.items() if p95(samples) >= P95_GOAL_MS
    ]

    growth = {}
    fewest, most = size["growth"]
    for posts in (fewest, most):
        seed_posts_only(url, posts)
        growth[posts] = measure(url, search_paths(), size["runs"])
    print("\n| search at | median ms | p95 ms |\n|---|---:|---:|")
    for posts, samples in growth.items():
        print(f"| {posts:,} posts | {statistics.median(samples):.1f} | {p95(samples):.1f} |")
    small, large = growth[fewest], growth[most]
    print(
        f"\nSearch time ratio {most:,} / {fewest:,} posts ({most // fewest}× the posts): "
        f"{statistics.median(large) / statistics.median(small):.2f} at the median, "
        f"{p95(large) / p95(small):.2f} at p95.",
        flush=True,
    )
    if statistics.median(large) / statistics.median(small) >= most / fewest:
        missed.append(f"{name}: search time grows linearly or worse")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database (it is emptied)")
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--tiny", action="store_true", help="small data, same goals (for CI)")
    args = parser.parse_args()
    size = TINY if args.tiny else FULL
    missed = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            missed += run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", size)
    if args.postgres:
        missed += run("PostgreSQL", args.postgres, size)
    print("\nGoals NOT met: " + "; ".join(missed) if missed else "\nAll goals met.")
    sys.exit(2 if missed else 0)


if __name__ == "__main__":
    main()
