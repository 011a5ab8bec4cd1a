"""Months of believable ledger history for the demo neighbourhood: neighbours thanking each other
with gifts of time, helpers donating hours to the community fund, and monthly grants from the
fund to the elderly members that coordinators assist. Written through bulk_post together with
what earlier steps added to `ctx.ledger_entries` (the exchanges' settlements), so limits hold
and the balance-after chains run forward in time."""

from datetime import timedelta

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger.bulk import bulk_post, ensure_accounts
from timebank.members.models import Member

# Exchanges settle about one more per member and month (timebank/exchanges/demo.py).
GIFTS_PER_MEMBER_MONTH = 2.0
DONATIONS_PER_MEMBER_MONTH = 0.1
GIFT_MINUTES = [30, 45, 60, 60, 60, 90, 90, 120, 180]

# What the giver writes, in the language they write in (the same number of memos in each, so the
# demo's random choices, and with them its figures, do not depend on who writes in which).
GIFT_MEMOS = {
    "nl": [
        "Bedankt voor de soep!",
        "Bedankt voor het maken van mijn fiets",
        "Voor het oppassen op zaterdag",
        "Hulp met de computer",
        "Bedankt voor het ritje naar het ziekenhuis",
        "Boodschappen gedaan",
        "Voor het knippen",
        "Hulp met mijn brief van de belasting",
        "Tuin gedaan, heel fijn",
        "Samen gekookt voor het buurtfeest",
        "Huiswerkhulp voor Yusuf",
        "Dank je voor de gezelligheid",
        "Lamp opgehangen",
        "Gordijnen gezoomd",
        "",
    ],
    "en": [
        "Thanks for the soup!",
        "Thank you for fixing my bike",
        "For looking after the children on Saturday",
        "Help with the computer",
        "Thanks for the lift to the hospital",
        "Did my shopping",
        "For the haircut",
        "Help with my tax letter",
        "Did the garden, lovely",
        "Cooked together for the street party",
        "Homework help for Yusuf",
        "Thank you for the company",
        "Hung up a lamp",
        "Hemmed the curtains",
        "",
    ],
}
DONATION_MEMOS = {
    "nl": ["Voor wie het nodig heeft", "Voor de buurtpot", "Uren over, graag gedaan", ""],
    "en": ["For whoever needs it", "For the community fund", "Hours to spare, happy to help", ""],
}
GRANT_MEMOS = {
    "nl": ["Maandelijkse uren van het fonds", "Uren van het fonds voor deze maand"],
    "en": ["Monthly hours from the fund", "This month's hours from the fund"],
}


def seed_ledger_history(ctx) -> None:
    """Accounts for everyone, and ctx.months of history in time order."""
    rng, community = ctx.rng, ctx.community
    accounts = ensure_accounts(community.id, ctx.member_ids)
    members = db.session.execute(
        sa.select(Member.id, Member.created_at, Member.assisted)
        .where(Member.community_id == community.id, Member.status == "active")
        .order_by(Member.id)
    ).all()
    if len(members) < 2:
        return
    start = ctx.now - timedelta(days=ctx.months * 30)

    def memo(memos: dict[str, list[str]], member_id: int | None = None) -> str:
        """In the member's language; without a member, in the neighbourhood's (Dutch)."""
        return rng.choice(memos[ctx.writes_in(member_id)])

    joined = {m.id: max(m.created_at, start) for m in members}

    def moment_for(*member_ids):
        """Some daytime moment after everyone involved had joined."""
        earliest = max(joined[m] for m in member_ids)
        day = earliest + (ctx.now - earliest) * rng.random()
        return min(max(day.replace(hour=rng.randrange(7, 20), minute=rng.randrange(60)), earliest), ctx.now)

    # A few neighbours help a lot: they receive most thank-you gifts, and they are the donors.
    ids = [m.id for m in members]
    helpers = rng.choices(
        ids,
        weights=[rng.paretovariate(3) for _ in ids],
        k=int(len(ids) * ctx.months * (GIFTS_PER_MEMBER_MONTH + DONATIONS_PER_MEMBER_MONTH)),
    )
    gift_count = int(len(ids) * ctx.months * GIFTS_PER_MEMBER_MONTH)
    entries = []
    for receiver in helpers[:gift_count]:
        giver = rng.choice(ids)
        if giver == receiver:
            continue
        minutes = rng.choice(GIFT_MINUTES)
        entries.append(
            (
                community.id,
                "gift",
                [(accounts[giver], -minutes), (accounts[receiver], minutes)],
                moment_for(giver, receiver),
                memo(GIFT_MEMOS, giver),
            )
        )
    for donor in helpers[gift_count:]:
        minutes = rng.choice([60, 120, 180, 240])
        entries.append(
            (
                community.id,
                "donation",
                [(accounts[donor], -minutes), (accounts[None], minutes)],
                moment_for(donor),
                memo(DONATION_MEMOS, donor),
            )
        )
    for month in range(1, ctx.months):
        first_of_month = start + timedelta(days=30 * month, hours=rng.randrange(8, 12))
        for member in members:
            if member.assisted and joined[member.id] <= first_of_month:
                minutes = rng.choice([120, 180, 240])
                entries.append(
                    (
                        community.id,
                        "grant",
                        [(accounts[None], -minutes), (accounts[member.id], minutes)],
                        first_of_month + timedelta(minutes=rng.randrange(120)),
                        memo(GRANT_MEMOS),
                    )
                )
    keyed = [(None, entry) for entry in entries] + ctx.ledger_entries
    keyed.sort(key=lambda pair: pair[1][3])
    ids = bulk_post([entry for _key, entry in keyed])
    ctx.settled = {
        key: transaction_id for (key, _entry), transaction_id in zip(keyed, ids, strict=True) if key is not None
    }
