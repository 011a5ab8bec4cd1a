"""Months of exchange history for the demo neighbourhood: neighbours responding to posts, the
exchanges settled in the ledger (a third of its history), group lessons, messages, thank-you
notes, and exchanges still under way in every state, with the notifications they caused.

Two steps, around the ledger's: `plan_exchange_history` adds the settlements to the ledger's
entries (so one bulk write keeps every balance chain in time order), and `write_exchange_history`
stores the exchanges whose settlement the ledger accepted, linked to their transactions."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from timebank.exchanges.models import Exchange, Message, Participant, ThankYou
from timebank.exchanges.services import ANSWER_WITHIN
from timebank.extensions import db
from timebank.i18n import format_minutes
from timebank.ledger.bulk import ensure_accounts
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.notifications.models import Notification

EXCHANGES_PER_MEMBER_MONTH = 1.0
OPEN_PER_MEMBER = 0.05
GROUPS_PER_500_MEMBERS_MONTH = 1
MINUTES = [30, 45, 60, 60, 60, 90, 90, 120, 120, 180, 240]
DEMO_LOGINS = ("fatima@example.org", "jan@example.org")
NOTIFIED_AS = {"group_created": "group_invited"}
OPEN_STATES = ["proposed", "proposed", "accepted", "accepted", "recorded", "disputed", "declined", "cancelled"]
# What members write, each in their own language (as their posts are).
CHAT = {
    "nl": [
        "Past zaterdagochtend?",
        "Ik neem mijn eigen gereedschap mee.",
        "Bel even aan, de bel doet het niet goed.",
        "Kan het ook een uurtje later?",
        "Top, tot dan!",
    ],
    "en": [
        "Does Saturday morning suit you?",
        "I will bring my own tools.",
        "Please knock, the bell does not work well.",
        "Could we make it a bit later?",
        "Thanks, see you then!",
    ],
}
THANKS = {
    "nl": [
        "Heel fijn geholpen, dank je wel!",
        "Super aardig en op tijd.",
        "De fiets rijdt weer als nieuw.",
        "Lekker gegeten, bedankt!",
        "Dank je voor de gezelligheid.",
    ],
    "en": [
        "Thank you, it was lovely.",
        "So patient and kind. Thank you!",
        "The bike rides like new again.",
        "Really helpful, I learned a lot.",
        "Thanks for the good company.",
    ],
}
REASONS = {
    "nl": ["Het lukt me die week niet.", "Ik heb al hulp gevonden, sorry.", "Ziek geworden.", "Plannen veranderd."],
    "en": ["I cannot make it that week.", "I found help already, sorry.", "I fell ill.", "Plans changed."],
}
# What a receiver who disputes the recorded time writes, in their language, with the real figures.
DISPUTES = {"nl": "We spraken {agreed} af, niet {recorded}.", "en": "We agreed on {agreed}, not {recorded}."}
GROUP_TITLES = {
    "nl": ["Naailes voor beginners", "Samen koken voor het buurtfeest", "Fietsen repareren: workshop"],
    "en": ["Sewing lesson", "Computer lesson for seniors", "Moving a sofa together"],
}


@dataclass
class Planned:
    """One exchange of the demo: its row, its participants, and what happened to it."""

    row: dict
    parties: list[tuple[int, str, str | None]]  # (member id, role, answer)
    events: list[tuple[str, int | None, datetime, str, dict]] = field(default_factory=list)
    key: str | None = None  # its settlement among the ledger's entries


def plan_exchange_history(ctx) -> None:
    """Choose the exchanges and put their settlements into the ledger's entries."""
    rng, community, now = ctx.rng, ctx.community, ctx.now
    members = db.session.execute(
        sa.select(Member.id, Member.created_at, Member.email, Member.locale)
        .where(Member.community_id == community.id, Member.status == "active")
        .order_by(Member.id)
    ).all()
    posts = db.session.execute(
        sa.select(Post.id, Post.owner_id, Post.kind, Post.title, Post.minutes, Post.created_at)
        .where(Post.community_id == community.id, Post.is_gift.is_(False))
        .order_by(Post.id)
    ).all()
    if len(members) < 3 or not posts:
        return
    joined = {m.id: m.created_at for m in members}
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    writes_in = {m.id: m.locale if m.locale in CHAT else default for m in members}
    ctx.steps["writes_in"] = writes_in
    ids = [m.id for m in members]
    accounts = ensure_accounts(community.id, ids)
    start = now - timedelta(days=ctx.months * 30)
    plans = []

    def plan_single(post, responder, proposed_at, state):
        minutes = post.minutes or rng.choice(MINUTES)
        provider, receiver = (post.owner_id, responder) if post.kind == "offer" else (responder, post.owner_id)
        row = dict(
            community_id=community.id,
            kind="single",
            post_id=post.id,
            title=post.title,
            state=state,
            minutes=min(minutes, 480),
            planned_on=None,
            proposer_id=responder,
            answer_by=None,
            recorded_minutes=None,
            recorded_at=None,
            auto_confirm_at=None,
            reason="",
            help_requested_at=None,
            transaction_id=None,
            created_at=proposed_at,
            updated_at=proposed_at,
            completed_at=None,
        )
        plan = Planned(
            row=row,
            parties=[
                (post.owner_id, "provider" if post.kind == "offer" else "receiver", None),
                (responder, "receiver" if post.kind == "offer" else "provider", None),
            ],
        )
        plan.events.append(
            (
                "proposed",
                responder,
                proposed_at,
                rng.choice(CHAT[writes_in[responder]]) if rng.random() < 0.6 else "",
                {"minutes": row["minutes"]},
            )
        )
        return plan, provider, receiver

    # Completed exchanges, spread over the months: each settles receiver → provider.
    for _ in range(int(len(ids) * ctx.months * EXCHANGES_PER_MEMBER_MONTH)):
        post = rng.choice(posts)
        responder = rng.choice(ids)
        earliest = max(post.created_at, joined[responder], start)
        if responder == post.owner_id or earliest >= now - timedelta(days=3):
            continue
        proposed_at = earliest + (now - timedelta(days=3) - earliest) * rng.random()
        plan, provider, receiver = plan_single(post, responder, proposed_at, "completed")
        accepted_at = proposed_at + timedelta(hours=rng.randint(1, 48))
        done_at = min(accepted_at + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 8)), now)
        minutes = plan.row["minutes"]
        plan.events.append(("accepted", post.owner_id, accepted_at, "", {}))
        if rng.random() < 0.3:
            writer = rng.choice([provider, receiver])
            said = rng.choice(CHAT[writes_in[writer]])
            plan.events.append((None, writer, accepted_at + timedelta(hours=2), said, {}))
        plan.events.append(("completed", receiver, done_at, "", {"minutes": minutes}))
        plan.row.update(completed_at=done_at, updated_at=done_at)
        plan.key = f"x{len(plans)}"
        ctx.ledger_entries.append(
            (
                plan.key,
                (
                    community.id,
                    "exchange",
                    [(accounts[receiver], -minutes), (accounts[provider], minutes)],
                    done_at,
                    plan.row["title"],
                ),
            )
        )
        plans.append(plan)

    # Group lessons and helping hands: one transaction with every leg.
    for _ in range(ctx.months * max(1, len(ids) // 500) * GROUPS_PER_500_MEMBERS_MONTH):
        organiser, *others = rng.sample(ids, rng.randint(3, 6))
        done_at = max(start, *(joined[m] for m in [organiser, *others])) + timedelta(days=rng.randint(1, 30))
        if done_at >= now:
            continue
        minutes = rng.choice([60, 90, 120])
        role = "provider" if rng.random() < 0.7 else "receiver"
        other_role = "receiver" if role == "provider" else "provider"
        row = dict(
            community_id=community.id,
            kind="group",
            post_id=None,
            title=rng.choice(GROUP_TITLES[writes_in[organiser]]),
            state="completed",
            minutes=minutes,
            planned_on=None,
            proposer_id=organiser,
            recorded_minutes=minutes,
            recorded_at=done_at - timedelta(days=2),
            auto_confirm_at=None,
            reason="",
            help_requested_at=None,
            transaction_id=None,
            created_at=done_at - timedelta(days=2),
            updated_at=done_at,
            completed_at=done_at,
        )
        parties = [(organiser, role, "confirmed")] + [(m, other_role, "confirmed") for m in others]
        plan = Planned(row=row, parties=parties)
        plan.events += [
            ("group_created", organiser, row["created_at"], "", {"minutes": minutes}),
            ("completed", None, done_at, "", {"minutes": minutes}),
        ]
        sign = 1 if role == "provider" else -1
        legs = [(accounts[organiser], sign * minutes * len(others))] + [(accounts[m], -sign * minutes) for m in others]
        plan.key = f"x{len(plans)}"
        ctx.ledger_entries.append((plan.key, (community.id, "exchange", legs, done_at, row["title"])))
        plans.append(plan)

    # Exchanges still under way (and some that ended without hours), in the last weeks; the
    # demo logins get a few of each so that their pages show every state.
    logins = [m.id for m in members if m.email in DEMO_LOGINS]
    recent = [p for p in posts if p.created_at > now - timedelta(days=40)] or posts
    open_proposals = set()
    for i in range(int(len(ids) * OPEN_PER_MEMBER) + 4 * len(logins)):
        post = rng.choice(recent)
        responder = logins[i % len(logins)] if i < 4 * len(logins) and logins else rng.choice(ids)
        if i < 4 * len(logins) and logins and i % 2:
            post = rng.choice([p for p in recent if p.owner_id != responder] or recent)
        if responder == post.owner_id:
            continue
        state = OPEN_STATES[i % len(OPEN_STATES)] if i < len(OPEN_STATES) * 2 else rng.choice(OPEN_STATES)
        # A proposal still waiting is less than a week old: older ones have ended by themselves.
        proposed_at = max(
            now - timedelta(days=rng.randint(1, 6 if state == "proposed" else 12), hours=rng.randint(0, 20)),
            post.created_at,
            joined[responder],
        )
        plan, provider, receiver = plan_single(post, responder, proposed_at, "proposed")
        if state == "proposed":
            plan.row["answer_by"] = proposed_at + ANSWER_WITHIN
        moment = proposed_at + timedelta(hours=rng.randint(1, 20))
        if state == "declined":
            plan.row.update(state="declined", reason=rng.choice(REASONS[writes_in[post.owner_id]]))
            plan.events.append(("declined", post.owner_id, moment, plan.row["reason"], {}))
        elif state == "cancelled":
            plan.row.update(state="cancelled", reason=rng.choice(REASONS[writes_in[responder]]))
            plan.events.append(("cancelled", responder, moment, plan.row["reason"], {}))
        elif state != "proposed":
            plan.row["state"] = "accepted"
            plan.events.append(("accepted", post.owner_id, moment, "", {}))
            if state in ("recorded", "disputed"):
                recorded_at = moment + timedelta(hours=rng.randint(2, 30))
                more = rng.choice([30, 60, 120]) if state == "disputed" else rng.choice([0, 0, 30, 60])
                plan.row.update(
                    recorded_minutes=plan.row["minutes"] + more,
                    recorded_at=recorded_at,
                    auto_confirm_at=recorded_at + timedelta(days=community.exchange_auto_confirm_days),
                )
                plan.events.append(("recorded", provider, recorded_at, "", {"minutes": plan.row["recorded_minutes"]}))
            if state == "disputed":
                plan.row.update(
                    state="disputed",
                    auto_confirm_at=None,
                    reason=dispute_text(plan.row["minutes"], plan.row["recorded_minutes"], writes_in[receiver]),
                )
                plan.events.append(
                    ("disputed", receiver, plan.row["recorded_at"] + timedelta(hours=5), plan.row["reason"], {})
                )
        if plan.row["state"] in ("proposed", "accepted", "disputed"):
            if (post.id, responder) in open_proposals:
                continue  # one open proposal per post and member
            open_proposals.add((post.id, responder))
        plan.row["updated_at"] = max(e[2] for e in plan.events)
        plans.append(plan)
    ctx.steps["exchanges"] = plans


def dispute_text(agreed: int, recorded: int, language: str) -> str:
    """The receiver's words, saying the agreed and the recorded time as the exchange has them."""
    with force_locale(language):
        return DISPUTES.get(language, DISPUTES["nl"]).format(
            agreed=format_minutes(agreed), recorded=format_minutes(recorded)
        )


def write_exchange_history(ctx) -> None:
    """Store the planned exchanges whose settlement the ledger wrote, with their participants,
    history, thank-you notes and the notifications of the last weeks (theirs and those earlier steps
    left)."""
    rng, now = ctx.rng, ctx.now
    kept = []
    for plan in ctx.steps.get("exchanges", []):
        if plan.key is not None:
            transaction_id = ctx.settled.get(plan.key)
            if transaction_id is None:
                continue  # a balance limit refused it: it never happened
            plan.row["transaction_id"] = transaction_id
        kept.append(plan)
    kept.sort(key=lambda p: p.row["created_at"])
    ids = (
        db.session.scalars(
            sa.insert(Exchange).returning(Exchange.id, sort_by_parameter_order=True), [p.row for p in kept]
        ).all()
        if kept
        else []
    )
    participants, messages, thanks, notifications = [], [], [], []
    recent = now - timedelta(days=30)
    for exchange_id, plan in zip(ids, kept, strict=True):
        for member_id, role, answer in plan.parties:
            participants.append(
                dict(
                    exchange_id=exchange_id,
                    member_id=member_id,
                    role=role,
                    answer=answer,
                    answered_at=plan.row["created_at"] if answer else None,
                )
            )
        members = [m for m, _r, _a in plan.parties]
        for event, author, moment, body, details in plan.events:
            messages.append(
                dict(
                    exchange_id=exchange_id,
                    author_id=author,
                    actor_id=author,
                    event=event,
                    body=body,
                    details=details,
                    created_at=moment,
                )
            )
            if moment > recent and event is not None:
                for member_id in members:
                    if member_id != author:
                        notifications.append(
                            dict(
                                member_id=member_id,
                                kind=NOTIFIED_AS.get(event, event),
                                actor_id=author,
                                exchange_id=exchange_id,
                                details=_notification_details(event, plan, member_id),
                                created_at=moment,
                                read_at=moment + timedelta(hours=3) if rng.random() < 0.7 else None,
                                emailed_at=moment,
                            )
                        )
        if plan.row["state"] == "completed" and rng.random() < 0.25:
            provider = next(m for m, role, _a in plan.parties if role == "provider")
            receiver = next(m for m, role, _a in plan.parties if role == "receiver")
            thanks.append(
                dict(
                    exchange_id=exchange_id,
                    author_id=receiver,
                    member_id=provider,
                    text=rng.choice(THANKS[ctx.steps["writes_in"][receiver]]),
                    created_at=plan.row["completed_at"] + timedelta(hours=5),
                )
            )
    # With the notifications earlier steps left (decisions), the newest has the highest id, as in real life.
    notifications += ctx.steps.get("notifications", [])
    notifications.sort(key=lambda row: row["created_at"])
    for table, rows in (
        (Participant, participants),
        (Message, messages),
        (ThankYou, thanks),
        (Notification, notifications),
    ):
        for start in range(0, len(rows), 10_000):
            db.session.execute(sa.insert(table.__table__), rows[start : start + 10_000])


def _notification_details(event: str, plan: Planned, member_id: int) -> dict:
    minutes = plan.row["minutes"] if event != "recorded" else plan.row["recorded_minutes"]
    if event == "completed":
        role = next(role for m, role, _a in plan.parties if m == member_id)
        return {"minutes": minutes, "direction": "in" if role == "provider" else "out"}
    return {"minutes": minutes}
