"""Hostile input on the web pages: every page that takes a form (and every page whose query string
feeds a search, a filter or a page number), as each kind of visitor, with missing fields, empty and
very long text, odd numbers, odd dates, unicode, markup, repeated fields, unknown choices and the
ids of another neighbourhood's things. Nothing may answer 5xx, and a refusal changes nothing.

The pages are found by walking the URL map, so a new page is tested without touching this file.
Hypothesis draws the requests (derandomized: the same requests on every run)."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from timebank.communities.models import Area, Category
from timebank.errors import PAGES
from timebank.exchanges import services as exchanges
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.governance import services as governance
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.market.models import Post
from timebank.members.models import JoinRequest, Member
from timebank.moderation import services as moderation
from timebank.notifications.models import Notification
from timebank.pots import services as pots

from .conftest import PASSWORD, login

ROLES = ("anonymous", "member", "coordinator", "other_coordinator")
# These end the visitor's own session; sending them would test the rest as someone logged out.
SESSION_ENDERS = {"members.logout", "settings.logout_everywhere"}
MISSING = object()  # a field left out of the form
LONG = "x" * 10_000

HOSTILE = [
    "",
    "   ",
    LONG,
    "-1",
    "-90",
    "0",
    "1.5",
    "2,5",
    "1e3",
    "99999999999999999999",
    "-99999999999999999999",
    "abc",
    "NaN",
    "None",
    "١٢",
    "1_000",
    " 7 ",
    "0000-00-00",
    "9999-12-31",
    "2024-02-30",
    "31-12-2024",
    "\u202eevil\u202c",
    "\u200f\u05e9\u05dc\u05d5\u05dd",
    "👩‍👩‍👧‍👦" * 20,
    "e\u0301\u0302\u0303" * 50,
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE members;--",
    "../../etc/passwd",
    "//evil.example/",
    "javascript:alert(1)",
    "%00",
    "\r\n\r\n",
    "true",
    "on",
]
# Every field at once gets each of these too: the values most likely to get past a form unchecked.
SWEEP = [
    LONG,
    ["1", "2"],
    "99999999999999999999",
    "-99999999999999999999",
    "-1",
    "1.5",
    "abc",
    "0000-00-00",
    "9999-12-31",
]
QUERY_SWEEP = [LONG, ["1", "2"], "99999999999999999999", "-1", "abc"]  # searches, filters, pages


def today(days: int = 0) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def world(app, community, make_community, make_member, make_post):
    """A small neighbourhood with a thing in every state, and a neighbourhood next door; returns the
    people, per path parameter the values worth trying (ours, theirs, and ids that do not exist), and
    all those ids as text for form fields."""
    noord = make_community("noord", "Noord")
    people = {
        "member": make_member("Fatima"),
        "jan": make_member("Jan"),
        "ali": make_member("Ali"),
        "coordinator": make_member("Karim", role="coordinator"),
        "assisted": make_member("Mies", email=None, assisted=True),
        "pending": make_member("Nieuw", status="pending"),
        "other_coordinator": make_member("Olga", role="coordinator", community_id=noord.id),
        "other_member": make_member("Piet", community_id=noord.id),
    }
    with app.app_context():
        get = lambda key: db.session.get(Member, people[key].id)  # noqa: E731
        # One category of each neighbourhood.
        category_ids = list({c.community_id: c.id for c in db.session.scalars(sa.select(Category))}.values())
        for where in (community.id, noord.id):
            db.session.add(Area(community_id=where, name="Centrum"))
        db.session.add(JoinRequest(member_id=people["pending"].id, community_id=community.id, state="waiting"))
        db.session.commit()

    posts = [
        make_post(people["member"], "Soup", minutes=60),
        make_post(people["jan"], "Bike repair", minutes=90),
        make_post(people["jan"], "Help moving", kind="request", minutes=120),
        make_post(people["other_member"], "Noord soup", minutes=60),
    ]
    with app.app_context():
        fatima, jan, ali, karim, piet, olga = (
            get(k) for k in ("member", "jan", "ali", "coordinator", "other_member", "other_coordinator")
        )
        offer, bike, moving, theirs = (db.session.get(Post, p.id) for p in posts)
        ledger.transfer(
            ledger.account_for(jan), ledger.account_for(fatima), 120, kind="exchange", actor=None, memo="Start"
        )
        ledger.transfer(
            ledger.account_for(olga), ledger.account_for(piet), 30, kind="exchange", actor=None, memo="Start"
        )

        def proposed(post, responder):
            return exchanges.propose(post, responder, 60, actor=responder, message="Today?")

        states = {"proposed": proposed(bike, fatima)}
        states["accepted"] = exchanges.accept(proposed(offer, jan), actor=fatima)
        recorded = exchanges.accept(proposed(moving, fatima), actor=jan)
        states["recorded"] = exchanges.record_minutes(recorded, 45, actor=fatima)
        states["completed"] = exchanges.confirm(exchanges.accept(proposed(offer, ali), actor=fatima), actor=ali)
        states["declined"] = exchanges.decline(proposed(bike, ali), actor=jan, reason="Busy")
        states["cancelled"] = exchanges.cancel(proposed(moving, ali), "Not needed", actor=ali)
        states["disputed"] = exchanges.dispute(
            exchanges.accept(proposed(offer, karim), actor=fatima), "It did not happen", actor=karim
        )
        states["group"] = exchanges.create_group(fatima, "provider", "Dutch lesson", 60, [jan, ali], actor=fatima)
        states["theirs"] = proposed(theirs, olga)
        proposal = governance.create_proposal(karim, title="A bench by the pond")
        comment = governance.add_comment(proposal, fatima, "Yes, please")
        pot = pots.open_pot(fatima, "A sewing course", 600)
        case = moderation.report(jan, "post", offer.id, "spam").case
        db.session.commit()
        ids = {
            "member_id": [p.id for p in people.values()],
            "exchange_id": [e.id for e in states.values()],
            "post_id": [p.id for p in posts],
            "category_id": category_ids,
            "area_id": list(db.session.scalars(sa.select(Area.id))),
            "request_id": list(db.session.scalars(sa.select(JoinRequest.id))),
            "transaction_id": list(db.session.scalars(sa.select(Transaction.id))),
            "community_id": [community.id, noord.id],
            "notification_id": list(db.session.scalars(sa.select(Notification.id).limit(6))),
            "image_id": [1],
            "proposal_id": [proposal.id],
            "comment_id": [comment.id],
            "pot_id": [pot.id],
            "item_id": [offer.id, fatima.id],
            "case_id": [case.id],
            "link_id": [1],
        }
    ids = {name: [*found, 0, 2**31 - 1, 10**20] for name, found in ids.items()}
    ids.update(
        token=["x", "a" * 300],
        slug=["buurt", "noord", "nope", LONG],
        kind=["json", "zip", "csv", "exe"],
        filename=["x.css"],
    )
    ours = [str(i) for found in ids.values() for i in found if isinstance(i, int)]
    return people, ids, ours


def plausible(ids) -> dict[str, list[str]]:
    """A value the field could really have, so that requests also get past the form to the service."""
    member, category, area = str(ids["member_id"][1]), str(ids["category_id"][0]), str(ids["area_id"][0])
    words = ["Thank you", "Een boodschap"]
    return {
        "hours": ["1", "0", "24"],
        "minutes": ["30", "0", "59"],
        "date": [today(), today(3), today(-400)],
        "request_key": ["key-1", "key-2"],
        "reason": words,
        "text": words,
        "message": words,
        "title": words,
        "memo": words,
        "note": words,
        "description": words,
        "bio": words,
        "available_note": words,
        "override_reason": words,
        "name": ["Nieuwe naam", "Centrum"],
        "name_en": ["Garden"],
        "name_nl": ["Tuin"],
        "category_id": [category],
        "category": [category],
        "area_id": [area],
        "area": [area],
        "skill": [category],
        "skills": [category],
        "target_id": [category],
        "to": [member, "fund"],
        "with": [member],
        "provider": [member],
        "receiver": [member],
        "decision": ["approve", "reject", "settle", "cancel"],
        "confirm": ["yes"],
        "status": ["active", "paused", "suspended", "pending"],
        "locale": ["nl", "en"],
        "join_policy": ["open", "approval"],
        "role": ["provider", "receiver"],
        "kind": ["offer", "request"],
        "weeks": ["4"],
        "auto_confirm_days": ["7"],
        "max_hours": ["8"],
        "levy_percent": ["5"],
        "owe_hours": ["10"],
        "owe_minutes": ["0"],
        "save_hours": ["50"],
        "save_minutes": ["0"],
        "warning_hours": ["5"],
        "warning_minutes": ["0"],
        "warning_side": ["owed", "saved"],
        "show_email_to": ["community"],
        "show_phone_to": ["coordinators"],
        "show_balance_to": ["community"],
        "email": ["nieuw@example.org"],
        "password": [PASSWORD, "a much longer new password"],
        "current_password": ["not the password"],
        "new_password": ["a much longer new password"],
        "slug": ["zuid"],
        "languages": ["nl"],
        "available_days": ["mon"],
        "available_parts": ["morning"],
        "is_gift": ["y"],
        "remove_photo": ["y"],
        "override": ["y"],
        "enabled": ["y"],
        "remember": ["y"],
        "accept_rules": ["y"],
        "gifts": ["1"],
        "next": ["/market"],
        "phone": ["0612345678"],
        "q": ["Jan"],
        "page": ["2"],
        "before": ["5"],
        "exchange": [member],
        "q_with": ["a"],
        "q_to": ["J"],
        "q_provider": ["F"],
        "q_receiver": ["Mies"],
    }


def value_for(name: str, good: dict, ours: list[str]):
    single = st.one_of(st.sampled_from(good.get(name) or ["1"]), st.sampled_from(HOSTILE), st.sampled_from(ours))
    return st.one_of(st.just(MISSING), single, single, st.lists(single, min_size=2, max_size=3))


def form_data(good: dict, ours: list[str]):
    return st.fixed_dictionaries({name: value_for(name, good, ours) for name in good}).map(
        lambda fields: {name: value for name, value in fields.items() if value is not MISSING}
    )


PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def paths(rule, ids) -> list[str]:
    """The rule with its parameters filled in, one path per value worth trying."""
    names = PARAMETER.findall(rule.rule)
    options = {
        name: sorted(rule._converters[name].items) if hasattr(rule._converters[name], "items") else ids[name]
        for name in names
    }
    width = max((len(values) for values in options.values()), default=1)
    return [
        PARAMETER.sub(lambda m, i=i: str(options[m.group(1)][i % len(options[m.group(1)])]), rule.rule)
        for i in range(width)
    ]


def pages(app, method: str):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if method in rule.methods and not rule.rule.startswith(("/api/", "/static/")):
            yield rule


def counts() -> tuple[int, ...]:
    return db.session.execute(
        sa.select(
            *(
                sa.select(sa.func.count()).select_from(model).scalar_subquery()
                for model in (Member, Post, Exchange, Transaction)
            )
        )
    ).one()


def error_page_in_its_language(app, response) -> None:
    """A refusal shown as an error page has the title of its status in the page's own language."""
    if 'class="error-code"' not in response.text:
        return
    language = re.search(r'<html lang="([^"]+)"', response.text).group(1)
    with app.test_request_context(), force_locale(language):
        title = str(PAGES.get(response.status_code, PAGES[400])[1])
    assert escape(title) in response.text, (language, title)


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_never_breaks_a_page(app, client, world, role):
    people, ids, ours = world
    if role != "anonymous":
        login(client, people[role])
    good = plausible(ids)
    fields = form_data(good, ours)
    sent = 0

    def send(method: str, path: str, data: dict):
        nonlocal sent
        sent += 1
        if method == "GET":
            response = client.get(path, query_string=data, headers={"Accept-Language": "nl"})
            assert response.status_code < 500, (method, path, data)
            return
        with app.app_context():
            before = counts()
        response = client.post(path, data=data, headers={"Accept-Language": "nl"})
        assert response.status_code < 500, (method, path, data)
        if response.status_code >= 400:
            error_page_in_its_language(app, response)
        if response.status_code not in (301, 302, 303):
            # Only a redirect says "done"; a page shown again (200 or 4xx) was a refusal.
            with app.app_context():
                assert counts() == before, ("a refusal changed something", method, path, data)

    for method, examples in (("POST", 5), ("GET", 2)):
        for rule in pages(app, method):
            if rule.endpoint in SESSION_ENDERS and role != "anonymous":
                continue
            tried = paths(rule, ids)
            for path in tried:
                send(method, path, {})
            for value in SWEEP if method == "POST" else QUERY_SWEEP:
                send(method, tried[0], {name: value for name in good})

            @settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(path=st.sampled_from(tried), data=fields)
            def hostile(path, data):
                send(method, path, data)  # noqa: B023 (hostile() runs below, within this loop iteration)

            hostile()
    assert sent > 1000
