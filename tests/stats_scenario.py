"""A small neighbourhood's autumn, built through the real services on a fixed clock, and the
figures November 2026 must give, worked out by hand (see NOVEMBER below).

The community is in Europe/Amsterdam (UTC+1 in November) and takes a 10 % levy on exchanges.
Everyone but Fay, Hal and Ida joined on 1 June. Times are UTC; noon is 11:00Z.

    when (UTC)        what                                          A     B     C     D     E  fund
    31 Oct 22:30  E0  Ann helps Bob 60 (cooking; 31 Oct local)      54   -60                     6
     1 Nov        R1  Bob asks for cooking
     3 Nov        E1  Ann helps Bob 120 on R1 (taken up in 2 days) 162  -180                    18
     5 Nov        E2  Bob helps Ann 60 (his offer: repairs)         102  -126                    24
     6 Nov        R2  Ann asks for cooking
     7 Nov        R3  Dirk asks for garden work (nobody comes)
     8 Nov            Ann gives Bob 15 (a gift)                      87  -111
     9 Nov            Dirk donates 30 to the fund                                     -30        54
    10 Nov        E3  Cas helps Ann 90 on R2 (taken up in 4 days)    -3          81              63
    12 Nov        E4  paper slip: Ann helps Eva (assisted) 30        24                      -30  66
    14 Nov        R4  Cas asks for bike repair
    15 Nov        E5  Cas's sewing lesson for Bob and Dirk, 60 each       -171   189   -90       78
    20 Nov        E6  Dirk helps Cas 45 on R4 (taken up in 6 days)               144   -49       82
    20 Nov            Fay joins
    22 Nov            grant from the fund to Eva 20                                      -10  62
    25 Nov            E6 is undone (reversal)                                    189   -90       58
    26 Nov            Bob thanks Ann for E1
    30 Nov 22:30  E7  Bob helps Cas 30 (23:30 local: still November) -144  159                   61
    30 Nov 23:30  E8  Cas helps Bob 30 (00:30 local on 1 December)   -174  186                   64
     2 Dec            Hal joins
Ida asked to join on 10 November and is still pending; Gus (joined in June) is suspended.
Afterwards a coordinator sets Dirk's lowest balance to -90 and Ann's highest to 24."""

import importlib
from datetime import UTC, date, datetime
from fractions import Fraction

import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.exchanges import services as exchanges
from timebank.exchanges import transfers
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))

# Ann gave 108 (E1) + 27 (E4) and paid 60 (E2) + 90 (E3): 285. Bob 54 + 27 + 120 + 60 = 261.
# Cas 81 + 108 + 30 = 219 (E6 and its reversal cancel). Dirk paid 60, Eva 30, Karim and Fay 0.
# Ascending x = 0, 0, 30, 60, 219, 261, 285; n = 7, Σx = 855, Σ i·x = 90 + 240 + 1095 + 1566 + 1995 = 4986.
GINI = Fraction(2 * 4986, 7 * 855) - Fraction(8, 7)  # = 348/665 ≈ 0.523

EXPECTED = {
    # E1 120 + E2 60 + E3 90 + E4 30 + E5 2×60 + E7 30; E6 was undone, E0 and E8 fall outside.
    "minutes_exchanged": 450,
    "exchanges_completed": 6,
    # Karim, Ann, Bob, Cas, Dirk, Eva, Fay (not Gus: suspended; not Hal: later; not Ida: pending).
    "members_total": 7,
    "new_members": 1,  # Fay
    "active_members": 5,  # Ann, Bob, Cas, Dirk, Eva
    "participation_rate": 5 / 7,
    # {Ann,Bob} {Ann,Cas} {Ann,Eva} {Bob,Cas} {Cas,Dirk}
    "distinct_pairs": 5,
    "partners_per_active_member": 2.0,  # 3 + 2 + 3 + 1 + 1 partners over 5 members
    "reciprocity_rate": 3 / 5,  # Ann, Bob and Cas both gave and received; Dirk and Eva only received
    "velocity": 450 / 183,  # positive balances at the end: Ann 24 + Cas 159
    "turnover_gini": float(GINI),
    "members_at_floor": 1,  # Dirk at -90
    "members_at_ceiling": 1,  # Ann at 24
    "dormant_members": 1,  # Karim joined in June and took no part since 2 September
    "fund_donations": 30,
    "fund_levy": 45,  # 12 + 6 + 9 + 3 + 12 + 3 (E6's 4 came back)
    "fund_inflow": 75,
    "fund_grants": 20,
    "fund_outflow": 20,
    "fund_balance": 61,  # 6 before November + 75 - 20
    "gifts": 1,
    "gift_minutes": 15,
    "requests_posted": 4,
    "requests_met": 2,  # R1 and R2; R4's exchange was undone, R3 never taken up
    "requests_met_rate": 0.5,
    "median_days_to_accept": 4.0,  # 2, 4 and 6 days
    "group_activities": 1,
    "group_people_reached": 2,  # Bob and Dirk
    "assisted_minutes": 30,  # Eva, E4
}
# Ann 24, Cas 159: up to 5 hours; Bob -144, Dirk -90, Eva -10: owing up to 5; Karim and Fay zero.
HISTOGRAM = {"owes_up_to_5": 3, "zero": 2, "has_up_to_5": 2}
BY_CATEGORY = [("cooking", 2, 210), (None, 2, 150), ("repairs", 2, 90)]  # the slip and the group have none


def at(year, month, day, hour=11, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Clock:
    """Makes timebank.db.utcnow (every default and service) return `now`."""

    def __init__(self, monkeypatch):
        clock = self

        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return clock.now if tz else clock.now.replace(tzinfo=None)

        self.now = at(2026, 6, 1)
        monkeypatch.setattr(importlib.import_module("timebank.db"), "datetime", Frozen)

    def set(self, moment: datetime) -> None:
        self.now = moment


def exchange(clock, when, provider, receiver, minutes, post, *, accepted=None):
    """One-to-one exchange on `post` (the provider's offer or the receiver's request), settled at `when`."""
    clock.set(accepted or when)
    responder = receiver if post.owner_id == provider.id else provider
    owner = provider if responder is receiver else receiver
    found = exchanges.propose(post, responder, minutes, actor=responder)
    exchanges.accept(found, actor=owner)
    clock.set(when)
    exchanges.record_minutes(found, minutes, actor=provider)
    exchanges.confirm(found, actor=receiver)
    db.session.commit()
    return found


def build(clock, community, make_member, make_post) -> dict:
    """The scenario of this module's docstring; returns the people and exchanges by name."""
    db.session.execute(sa.update(Community).where(Community.id == community.id).values(ledger_levy_percent=10))
    db.session.commit()
    june = at(2026, 6, 1)
    people = {name: make_member(name, created_at=june) for name in ("Ann", "Bob", "Cas", "Dirk")}
    people["Eva"] = make_member("Eva", created_at=june, assisted=True)
    people["Karim"] = make_member("Karim", role="coordinator", created_at=june)
    people["Gus"] = make_member("Gus", status="suspended", created_at=june)
    people["Fay"] = make_member("Fay", created_at=at(2026, 11, 20))
    people["Hal"] = make_member("Hal", created_at=at(2026, 12, 2))
    people["Ida"] = make_member("Ida", status="pending", created_at=at(2026, 11, 10))
    A, B, C, D, E, K = (people[n] for n in ("Ann", "Bob", "Cas", "Dirk", "Eva", "Karim"))
    later = at(2027, 3, 1)

    def post(owner, kind, category, when):
        return make_post(
            owner, kind=kind, category_key=category, title=f"{kind} {category}", created_at=when, expires_at=later
        )

    found = {}
    found["E0"] = exchange(clock, at(2026, 10, 31, 22, 30), A, B, 60, post(A, "offer", "cooking", at(2026, 10, 20)))
    r1 = post(B, "request", "cooking", at(2026, 11, 1))
    found["E1"] = exchange(clock, at(2026, 11, 3), A, B, 120, r1)
    bob_offer = post(B, "offer", "repairs", at(2026, 10, 25))
    found["E2"] = exchange(clock, at(2026, 11, 5), B, A, 60, bob_offer)
    r2 = post(A, "request", "cooking", at(2026, 11, 6))
    post(D, "request", "garden", at(2026, 11, 7))
    clock.set(at(2026, 11, 8))
    transfers.give_hours(A, B, 15, "Thanks for the soup", actor=A)
    clock.set(at(2026, 11, 9))
    transfers.give_hours(D, None, 30, "For the fund", actor=D)
    db.session.commit()
    found["E3"] = exchange(clock, at(2026, 11, 10), C, A, 90, r2)
    clock.set(at(2026, 11, 12))
    found["E4"] = exchanges.record_paper_slip(A, E, 30, actor=K, title="Shopping")
    db.session.commit()
    r4 = post(C, "request", "bikes", at(2026, 11, 14))
    clock.set(at(2026, 11, 15))
    lesson = exchanges.create_group(C, "provider", "Sewing lesson", 60, [B, D], actor=C)
    exchanges.confirm(lesson, actor=B)
    exchanges.confirm(lesson, actor=D)
    db.session.commit()
    found["E5"] = lesson
    found["E6"] = exchange(clock, at(2026, 11, 20), D, C, 45, r4)
    clock.set(at(2026, 11, 22))
    transfers.grant_from_fund(E, 20, "Welcome", actor=K)
    db.session.commit()
    clock.set(at(2026, 11, 25))
    ledger.reverse(found["E6"].transaction, actor=K, reason="Entered by mistake")
    db.session.commit()
    clock.set(at(2026, 11, 26))
    exchanges.thank(found["E1"], B, "Lovely meal, thank you")
    db.session.commit()
    found["E7"] = exchange(clock, at(2026, 11, 30, 22, 30), B, C, 30, bob_offer)
    found["E8"] = exchange(clock, at(2026, 11, 30, 23, 30), C, B, 30, post(C, "offer", "sewing", at(2026, 11, 28)))
    db.session.execute(sa.update(Account).where(Account.member_id == D.id).values(floor_override=-90))
    db.session.execute(sa.update(Account).where(Account.member_id == A.id).values(ceiling_override=24))
    db.session.commit()
    clock.set(at(2026, 12, 5))
    return {**people, **found}


def balance(member) -> int:
    return ledger.account_for(member).balance
