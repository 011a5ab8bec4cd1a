"""Two linked neighbourhoods' November, built through the real services on a fixed clock, and the
figures it must give, worked out by hand below.

Noord (no levy): Ann, Bob, coordinator Kees. Zuid (10 % levy): Wim, Zoe, coordinator Karim.
The administrator Ada belongs to neither. Noord and Zuid are linked with a cap of 4 hours.
Everyone joined on 1 June; times are UTC noon (11:00Z) unless said otherwise.

    when     what                                        Ann   Bob  N(Z)   Wim   Zoe  Z(N) fundZ
    20 Oct  X0  Zoe helps Bob 15 (across)                      -15    15               14   -15    1
     3 Nov  E1  Ann helps Bob 60 (Noord)                  60   -75
     5 Nov  E2  Wim helps Zoe 90 (Zuid; levy 9)                             81   -76          10
    10 Nov  X1  Wim helps Ann 120 (across; levy 12)      -60         135   189        -135    22
    12 Nov  X2  Bob helps Zoe 30 (across)                      -45   105        -106  -105
    15 Nov  X3  Wim helps Ann 45 (across; levy 4)       -105         150   230        -150    26
    20 Nov      X3 is undone by Kees (both sides)        -60         105   189        -105    22

Each book balances: Noord -60 - 45 + 105 = 0; Zuid 189 - 106 - 105 + 22 = 0."""

from datetime import date

import sqlalchemy as sa

from timebank.communities.links import set_link
from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger import services as ledger

from .stats_scenario import at, exchange

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))

# Each neighbourhood's own figures for November, as the single-community statistics count them.
# A cross exchange is in both books: in the payer's with the minutes paid, in the provider's as an
# exchange in which a member helped, with no minutes paid by a member there.
NOORD = {
    "minutes_exchanged": 180,  # E1 60 (Bob paid) + X1 120 (Ann paid); X2 was paid in Zuid
    "exchanges_completed": 3,  # E1, X1, X2 (X3 undone)
    "members_total": 3,
    "active_members": 2,  # Ann, Bob
    "distinct_pairs": 1,  # {Ann, Bob}; the pairs across are in neither book
    "reciprocal_members": 2,  # Ann gave E1 and received X1; Bob received E1 and gave X2
    "saved_minutes": 0,  # Ann -60, Bob -45
    "fund_levy": 0,
}
ZUID = {
    "minutes_exchanged": 120,  # E2 90 + X2 30 (Zoe paid)
    "exchanges_completed": 3,  # E2, X1, X2
    "members_total": 3,
    "active_members": 2,  # Wim, Zoe
    "distinct_pairs": 1,  # {Wim, Zoe}
    "reciprocal_members": 0,  # Wim only gave, Zoe only received
    "saved_minutes": 189,  # Wim
    "fund_levy": 21,  # E2 9 + X1 12 (X3's 4 came back; X0's 1 was in October)
}
# Both together: every exchange once.
UMBRELLA = {
    "minutes_exchanged": 300,  # E1 60 + E2 90 + X1 120 + X2 30
    "exchanges_completed": 4,  # 3 + 3, less X1 and X2 counted in both books
    "members_total": 6,
    "active_members": 4,
    "participation_rate": 4 / 6,
    # {Ann,Bob} {Wim,Zoe} and across {Ann,Wim} {Bob,Zoe}: each of the four has two partners.
    "distinct_pairs": 4,
    "partners_per_active_member": 2.0,
    "reciprocity_rate": 2 / 4,
    "velocity": 300 / 189,
    "fund_levy": 21,
    "fund_balance": 22,  # Zuid's fund; Noord's is empty
    "turnover_gini": None,  # not added up
}
BETWEEN = {"exchanges": 2, "minutes": 150, "pairs": 2}  # X1 and X2; X3 undone, X0 in October
# The trade per linked neighbourhood in November, seen from each side; the balance at 30 November
# includes October's X0.
NOORD_TRADE = {"exported": 30, "exported_exchanges": 1, "imported": 120, "imported_exchanges": 1, "balance": 105}
ZUID_TRADE = {"exported": 120, "exported_exchanges": 1, "imported": 30, "imported_exchanges": 1, "balance": -105}
CAP = 240


def build(clock, make_community, make_member, make_post) -> dict:
    """The scenario of this module's docstring; returns the people and communities by name."""
    june = at(2026, 6, 1)
    clock.set(june)
    noord, zuid = make_community("noord", "Noord"), make_community("zuid", "Zuid")
    db.session.execute(sa.update(Community).where(Community.id == zuid.id).values(ledger_levy_percent=10))
    found = {"Noord": noord, "Zuid": zuid}
    for name, community, role in (
        ("Ann", noord, "member"),
        ("Bob", noord, "member"),
        ("Kees", noord, "coordinator"),
        ("Wim", zuid, "member"),
        ("Zoe", zuid, "member"),
        ("Karim", zuid, "coordinator"),
    ):
        found[name] = make_member(name, role=role, community_id=community.id, created_at=june)
    west = make_community("west", "West")
    found["West"] = west
    found["Ada"] = make_member("Ada", community_id=west.id, created_at=june, is_admin=True)
    set_link(db.session.get(Community, noord.id), db.session.get(Community, zuid.id), cap_minutes=CAP, see_posts=True)
    db.session.commit()
    later = at(2027, 3, 1)

    def offer(owner, category):
        return make_post(
            owner, kind="offer", category_key=category, title=f"{owner.name}: {category}", expires_at=later
        )

    Ann, Bob, Kees, Wim, Zoe = (found[n] for n in ("Ann", "Bob", "Kees", "Wim", "Zoe"))
    exchange(clock, at(2026, 10, 20), Zoe, Bob, 15, offer(Zoe, "cooking"))
    exchange(clock, at(2026, 11, 3), Ann, Bob, 60, offer(Ann, "cooking"))
    wim = offer(Wim, "repairs")
    exchange(clock, at(2026, 11, 5), Wim, Zoe, 90, wim)
    exchange(clock, at(2026, 11, 10), Wim, Ann, 120, wim)
    exchange(clock, at(2026, 11, 12), Bob, Zoe, 30, offer(Bob, "garden"))
    found["X3"] = exchange(clock, at(2026, 11, 15), Wim, Ann, 45, offer(Wim, "bikes"))
    clock.set(at(2026, 11, 20))
    ledger.reverse(found["X3"].transaction, actor=db.session.get(type(Kees), Kees.id), reason="Entered twice")
    db.session.commit()
    clock.set(at(2026, 12, 5))
    return found
