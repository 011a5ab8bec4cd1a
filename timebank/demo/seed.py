"""Build the demo neighbourhood. Deterministic for a given seed, and fast enough for benchmark
sizes: rows go in with bulk INSERTs, and the demo password is hashed once for everyone.

Each later domain adds a step to STEPS; a step reads and extends the DemoContext."""

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from timebank.communities.models import Area, Community
from timebank.communities.services import ensure_default_community
from timebank.db import utcnow
from timebank.demo import names
from timebank.demo.posts import seed_posts
from timebank.exchanges.demo import plan_exchange_history, write_exchange_history
from timebank.extensions import db
from timebank.governance.demo import seed_decisions
from timebank.ledger.demo import seed_ledger_history
from timebank.members.models import JoinRequest, Member, member_skills
from timebank.members.passwords import hash_password
from timebank.moderation.demo import seed_reports
from timebank.pots.demo import seed_pots
from timebank.stats.rollup import rebuild


@dataclass
class DemoContext:
    rng: random.Random
    community: Community
    months: int
    now: datetime
    member_ids: list[int] = field(default_factory=list)
    coordinator_ids: list[int] = field(default_factory=list)
    # (key or None, bulk_post entry): history that steps add, written at once in time order by the
    # ledger step, which then fills `settled` with the transaction id of every keyed entry it kept.
    ledger_entries: list = field(default_factory=list)
    settled: dict = field(default_factory=dict)
    # What one step leaves for a later one, by the step's domain.
    steps: dict = field(default_factory=dict)

    def writes_in(self, member_id: int) -> str:
        """The language a member writes in ("nl" or "en"), as the exchanges step chose it."""
        return "en" if self.steps.get("writes_in", {}).get(member_id) == "en" else "nl"

    def moment_in_range(self) -> datetime:
        """A random moment within the demo period, earlier moments as likely as later ones."""
        return self.now - timedelta(seconds=self.rng.randrange(max(1, self.months * 30 * 86400)))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", plain.lower()).strip(".")


def seed_members(ctx: DemoContext, count: int) -> None:
    """Coordinators and the demo logins first, then a generated neighbourhood of residents."""
    rng, community = ctx.rng, ctx.community
    community.description = community.description or names.DESCRIPTION
    community.texts = community.texts or names.TEXTS
    areas = [Area(community=community, name=name) for name in names.AREAS]
    db.session.add_all(areas)
    db.session.flush()
    area_ids = [a.id for a in areas]
    category_ids = [c.id for c in community.categories]
    password_hash = hash_password(names.DEMO_PASSWORD)
    joined_at = ctx.now - timedelta(days=ctx.months * 30 + 30)
    spoken = [code for code in names.LANGUAGES if code in current_app.config["SPOKEN_LANGUAGES"]]

    def privacy_and_languages() -> dict:
        """Most people keep the defaults; some show their email or hours to the neighbours."""
        return dict(
            languages=sorted({"nl", *rng.sample(spoken, rng.randint(0, 2))}),
            show_email_to="community" if rng.random() < 0.3 else "coordinators",
            show_phone_to="community" if rng.random() < 0.15 else "coordinators",
            show_balance_to="community" if rng.random() < 0.4 else "coordinators",
        )

    rows = []
    for email, name, role, is_admin in names.DEMO_PEOPLE:
        rows.append(
            dict(
                community_id=community.id,
                email=email,
                name=name,
                role=role,
                is_admin=is_admin,
                status="active",
                password_hash=password_hash,
                email_confirmed_at=joined_at,
                area_id=rng.choice(area_ids),
                bio=rng.choice(names.BIOS[None]),
                locale=None,
                created_at=joined_at,
                session_version=1,
                assisted=False,
                **privacy_and_languages(),
            )
        )
    for i in range(max(0, count - len(rows))):
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        assisted = rng.random() < 0.08
        created = ctx.moment_in_range()
        locale = rng.choice(["nl", "nl", "nl", "en"])
        rows.append(
            dict(
                community_id=community.id,
                name=f"{first} {last}",
                role="member",
                is_admin=False,
                email=None if assisted else f"{_ascii(first)}.{_ascii(last)}.{i + 1}@example.org",
                password_hash=None if assisted else password_hash,
                email_confirmed_at=None if assisted else created,
                status="pending" if not assisted and rng.random() < 0.02 else "active",
                assisted=assisted,
                area_id=rng.choice(area_ids),
                bio=rng.choice(names.BIOS[locale]),
                locale=locale,
                phone=f"06{rng.randrange(10**8):08d}" if assisted else None,
                created_at=created,
                session_version=1,
                **privacy_and_languages(),
            )
        )
    ids = db.session.scalars(sa.insert(Member).returning(Member.id, sort_by_parameter_order=True), rows).all()
    ctx.member_ids = list(ids)
    ctx.coordinator_ids = [mid for mid, row in zip(ids, rows, strict=True) if row["role"] == "coordinator"]
    skills = {(mid, cid) for mid in ids for cid in rng.sample(category_ids, rng.randint(1, 3))}
    db.session.execute(sa.insert(member_skills), [dict(member_id=m, category_id=c) for m, c in sorted(skills)])
    # Pending residents confirmed their address and wait on the coordinators' list.
    waiting = [
        dict(
            member_id=mid,
            community_id=community.id,
            state="waiting",
            house_rules=names.TEXTS["house_rules"][row["locale"]],
            motivation=rng.choice(names.MOTIVATIONS[row["locale"]]),
            question=names.TEXTS["join_question"][row["locale"]],
            answer=rng.choice(areas).name,
            created_at=row["created_at"],
            submitted_at=row["created_at"],
            reason="",
        )
        for mid, row in zip(ids, rows, strict=True)
        if row["status"] == "pending"
    ]
    if waiting:
        db.session.execute(sa.insert(JoinRequest), waiting)


# Later domains append their steps: (name, function(ctx)).
STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("market posts", seed_posts),
    ("exchanges", plan_exchange_history),
    ("ledger", seed_ledger_history),
    ("decisions", seed_decisions),
    ("exchange history", write_exchange_history),
    ("pots", seed_pots),
    ("reports", seed_reports),
    ("statistics", lambda ctx: rebuild(db.session.connection(), ctx.community.id)),
]


def seed(
    members: int = 60,
    months: int = 6,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _: None,
    now: datetime | None = None,
) -> DemoContext:
    """Fill the default community with a neighbourhood ending `now` (by default the present); the
    caller commits. `progress` hears the name of each step as it starts (a large seed takes
    minutes). The same seed and `now` give the same neighbourhood: some moments fall on a time of
    day, so a different `now` can order the history differently."""
    community = ensure_default_community()
    ctx = DemoContext(rng=random.Random(seed), community=community, months=months, now=now or utcnow())
    progress(f"members ({members})")
    seed_members(ctx, members)
    for name, step in STEPS:
        progress(name)
        step(ctx)
    db.session.flush()
    return ctx


def is_seeded() -> bool:
    return db.session.scalar(sa.select(sa.func.count(Member.id))) > 0
