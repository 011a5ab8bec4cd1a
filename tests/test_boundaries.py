"""Boundaries, table-driven: every route × method × role, built from the URL map, in one
neighbourhood (buurt) whose things belong to Fatima, and a neighbourhood next door (noord).

- Nothing answers 5xx, to anyone.
- A coordinator (or member, or administrator) of noord reaches nothing of buurt's: every route with
  an id of buurt's things answers 403, or 404 where existence itself is private.
- A member never reaches a coordinator's page or action, and never an administrator's.
- A member can never make themselves a coordinator or administrator, or move to another
  community, by any form field or API field (TimeOverflow's members controller lets them).

One app and one database for the whole module; GET for pages and POST without a valid form for
writes catch the 500s and the leaks fast."""

import re
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.communities.models import Area, Category
from timebank.communities.services import create_community
from timebank.db import utcnow
from timebank.exchanges import services as exchanges
from timebank.extensions import db
from timebank.governance import services as governance
from timebank.ledger import services as ledger
from timebank.market.models import Post
from timebank.members.models import JoinRequest, Member
from timebank.members.passwords import hash_password
from timebank.moderation import services as moderation
from timebank.notifications.models import Notification
from timebank.pots import services as pots

from .api import token_headers
from .conftest import ON_POSTGRES, PASSWORD, empty_postgres, link_between, make_app

ROLES = (
    "anonymous",
    "member",
    "other_member",
    "coordinator",
    "other_coordinator",
    "other_member_elsewhere",
    "administrator",
)
SESSION_ENDERS = {"members.logout", "settings.logout_everywhere", "tokens.revoke_current_token"}
# Pages for coordinators of the member's own community (and the instance administrator's).
COORDINATOR_ONLY = re.compile(
    r"^/(coordinate|account/(rules|fund)|market/manage|exchanges/(coordinate|grant|slip)"
    r"|admin)(/|$)"
)
# Fatima's own things: her neighbour Jan reaches none of them.
FATIMAS_OWN = {
    "ledger.member",
    "ledger.member_csv",
    "notifications.open_one",
    "market.edit_post",
    "market.change_post",
    "coordinate.member",
    "posts.edit_post",
    "posts.close_post",
    "pots.detail",
    "pots.move",
    "pots.share",
    "pots.spend",
    "pots.close",
    "api-pots.deposit",
    "api-pots.withdraw",
    "moderation.reply",
}
ADMIN_ONLY = re.compile(r"^/admin(/|$)")
# Things anyone may open: the public pages, and the confirmation links that carry their own secret.
PUBLIC = {
    "core.index",
    "core.healthz",
    "members.join_choose",
    "members.join",
    "members.join_sent",
    "members.hours",
    "members.join_status",
    "members.login",
    "members.confirm",
    "members.confirm_again",
    "members.forgot_password",
    "members.reset_password",
    "members.confirm_email_change",
    "members.undo_email_change",
    "core.set_language",
    "api_docs",
    "api-docs.openapi_json",
    "tokens.create_token",
    "static",
}
PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
IDS = re.compile(r"<[^<>]*:\w+_id>")
NOWHERE = 2**31 - 1  # an id nothing has
ESCALATION = {
    "role": "coordinator",
    "is_admin": "y",
    "admin": "1",
    "community_id": "",
    "status": "active",
    "assisted": "",
    "session_version": "99",
    "email_confirmed_at": "2020-01-01",
    "id": "1",
}


@pytest.fixture(scope="module")
def world(database, tmp_path_factory):
    """Buurt: Fatima (member) with a post, an exchange with Jan, hours, a notification, an area, a
    waiting join request; Karim coordinates. Noord: Olga coordinates, Piet is a member, Ada
    administers the installation. Yields the app, the people and the ids of buurt's things."""
    if ON_POSTGRES:
        url = database.url
    else:
        path = tmp_path_factory.mktemp("boundaries") / "timebank.db"
        shutil.copyfile(database.template, path)
        url = f"sqlite:///{path}"
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")), RATELIMIT_ENABLED=False)
    with app.app_context():
        buurt, noord = create_community("buurt", "Onze buurt"), create_community("noord", "Noord")
        db.session.flush()

        def person(name, community, role="member", status="active", **fields):
            member = Member(
                community_id=community.id,
                name=name,
                role=role,
                status=status,
                email=f"{name.lower()}@example.org",
                password_hash=hash_password(PASSWORD),
                **fields,
            )
            db.session.add(member)
            return member

        people = {
            "member": person("Fatima", buurt),
            "other_member": person("Jan", buurt),
            "coordinator": person("Karim", buurt, role="coordinator"),
            "other_coordinator": person("Olga", noord, role="coordinator"),
            "other_member_elsewhere": person("Piet", noord),
            "administrator": person("Ada", noord, is_admin=True),
        }
        pending = person("Nieuw", buurt, status="pending")
        db.session.flush()
        db.session.add(JoinRequest(member_id=pending.id, community_id=buurt.id, state="waiting"))
        area = Area(community_id=buurt.id, name="Centrum")
        db.session.add(area)
        category = db.session.scalar(sa.select(Category).where(Category.community_id == buurt.id))
        post = Post(
            community_id=buurt.id,
            owner_id=people["member"].id,
            kind="offer",
            title="Soup",
            minutes=60,
            category_id=category.id,
            expires_at=utcnow() + timedelta(weeks=8),
        )
        db.session.add(post)
        db.session.flush()
        fatima, jan = people["member"], people["other_member"]
        transaction = ledger.transfer(
            ledger.account_for(jan), ledger.account_for(fatima), 60, kind="exchange", actor=None, memo="Start"
        )
        exchange = exchanges.propose(post, jan, 60, actor=jan, message="Today?")
        proposal = governance.create_proposal(people["coordinator"], title="A bench by the pond")
        comment = governance.add_comment(proposal, fatima, "Yes, please")
        case = moderation.report(jan, "post", post.id, "spam").case
        pot = pots.open_pot(fatima, "A sewing course", 600)
        zuid = create_community("zuid", "Zuid")  # linked with buurt; noord is not
        db.session.flush()
        link = link_between(zuid.id, buurt.id, 60)
        db.session.commit()
        notification = db.session.scalar(sa.select(Notification.id).where(Notification.member_id == fatima.id))
        ids = {
            "member_id": fatima.id,
            "exchange_id": exchange.id,
            "post_id": post.id,
            "category_id": category.id,
            "area_id": area.id,
            "request_id": db.session.scalar(sa.select(JoinRequest.id)),
            "transaction_id": transaction.id,
            "proposal_id": proposal.id,
            "comment_id": comment.id,
            "pot_id": pot.id,
            "community_id": buurt.id,
            "notification_id": notification,
            "image_id": 1,
            "item_id": post.id,
            "case_id": case.id,
            "token": "x",
            "slug": "buurt",
            "kind": "json",
            "filename": "x.css",
            "link_id": link.id,
        }
        ids = {k: v for k, v in ids.items() if v is not None}
        people = {role: member.id for role, member in people.items()}
        communities = {"buurt": buurt.id, "noord": noord.id}
    yield app, people, ids, communities
    with app.app_context():
        db.session.remove()
        if ON_POSTGRES:
            empty_postgres()
        db.engine.dispose()


def routes(app):
    """(endpoint, method, rule, [paths]): each `any(...)` choice gives a path of its own."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def fill(rule, ids, nowhere: bool = False) -> list[str]:
    if nowhere:
        ids = {name: NOWHERE if name.endswith("_id") else value for name, value in ids.items()}
    names = PARAMETER.findall(rule.rule)
    choices = [sorted(rule._converters[n].items) if hasattr(rule._converters[n], "items") else [ids[n]] for n in names]
    width = max((len(c) for c in choices), default=1)

    def value(m, i: int) -> str:
        options = choices[names.index(m.group(1))]
        return str(options[i % len(options)])

    return [PARAMETER.sub(lambda m, i=i: value(m, i), rule.rule) for i in range(width)]


def client_for(app, people, role, api: bool):
    client = app.test_client()
    headers = {"Accept-Language": "en"}
    if role == "anonymous":
        return client, headers
    with app.app_context():
        member = db.session.get(Member, people[role])
    if api:
        return client, token_headers(app, member)
    response = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert response.status_code == 302, (role, response.text[:300])
    return client, headers


def send(client, method, path, headers, data=None):
    if path.startswith("/api/"):
        return client.open(path, method=method, json=data or {}, headers=headers)
    return client.open(path, method=method, data=data or {}, headers=headers)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_method_and_role_keeps_its_boundary(world, role):
    app, people, ids, _communities = world
    problems = []
    web, web_headers = client_for(app, people, role, api=False)
    api, api_headers = client_for(app, people, role, api=True)
    for rule, method in routes(app):
        if rule.endpoint in SESSION_ENDERS or rule.endpoint == "static":
            continue
        is_api = rule.rule.startswith("/api/")
        client, headers = (api, api_headers) if is_api else (web, web_headers)
        for path, missing in zip(fill(rule, ids), fill(rule, ids, nowhere=True), strict=True):
            status = send(client, method, path, headers).status_code

            def unknown(client=client, method=method, missing=missing, headers=headers) -> int:
                """The answer to the same request about a thing that does not exist."""
                return send(client, method, missing, headers).status_code

            case = f"{role} {method} {path} → {status}"
            if status >= 500:
                problems.append(case + " (server error)")
            elif role == "anonymous":
                if rule.endpoint not in PUBLIC and not (status in (401, 403, 404) or (status == 302 and not is_api)):
                    problems.append(case + " (anonymous reached a page for members)")
            elif (
                role in ("other_coordinator", "other_member_elsewhere", "administrator")
                and IDS.search(rule.rule)
                and not ADMIN_ONLY.match(rule.rule)
            ):
                # An id of buurt's things, asked for from noord: refused, or answered exactly as
                # an id nothing has (an API body checked before the thing is looked up).
                if status not in (403, 404) and not 400 <= status == unknown():
                    problems.append(case + " (another community's thing)")
            elif role in ("member", "other_member") and COORDINATOR_ONLY.match(rule.rule):
                if status not in (403, 404):
                    problems.append(case + " (a member on a coordinator's page)")
            elif role == "other_member" and rule.endpoint in FATIMAS_OWN:
                if status not in (403, 404) and not 400 <= status == unknown():
                    problems.append(case + " (a neighbour's own thing)")
            elif role != "administrator" and ADMIN_ONLY.match(rule.rule) and status not in (403, 404):
                problems.append(case + " (an administrator's page)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("channel", ["web", "api"])
def test_a_member_can_never_make_themselves_coordinator_or_administrator(world, channel):
    """Every form and endpoint, posted by Fatima with extra role fields (plus what the form itself
    asks, so the request gets past validation where it can): her role, rank and community stay."""
    app, people, ids, communities = world
    client, headers = client_for(app, people, "member", api=channel == "api")
    extra = {
        **ESCALATION,
        "community_id": str(communities["noord"]),
        "member_id": str(people["member"]),
        "community": "noord",
    }
    plausible = {
        "name": "Fatima B",
        "bio": "Hello",
        "title": "Soup",
        "description": "Warm soup",
        "minutes": "30",
        "hours": "1",
        "kind": "offer",
        "category_id": str(ids["category_id"]),
        "email": "fatima@example.org",
        "password": PASSWORD,
        "current_password": PASSWORD,
        "show_email_to": "community",
        "show_phone_to": "community",
        "show_balance_to": "community",
        "locale": "nl",
        "reason": "Because",
        "confirm": "yes",
        "decision": "approve",
        "text": "Hi",
    }
    tried = 0
    for rule, method in routes(app):
        if method == "GET" or rule.endpoint in SESSION_ENDERS or (rule.rule.startswith("/api/")) != (channel == "api"):
            continue
        for path in fill(rule, ids):
            for data in (extra, {**plausible, **extra}):
                if channel == "api":
                    data = {**data, "is_admin": True, "role": "coordinator", "community_id": communities["noord"]}
                response = send(client, method, path, headers, data)
                tried += 1
                assert response.status_code < 500, (method, path)
                with app.app_context():
                    fatima = db.session.get(Member, people["member"])
                    assert (fatima.role, fatima.is_admin, fatima.community_id, fatima.status) == (
                        "member",
                        False,
                        communities["buurt"],
                        "active",
                    ), (method, path, data)
    assert tried > (60 if channel == "web" else 15)


def test_joining_with_role_fields_makes_a_plain_member(world):
    app, _people, _ids, communities = world
    client = app.test_client()
    client.post(
        "/join/buurt",
        data={
            **ESCALATION,
            "name": "Sneaky",
            "email": "sneaky@example.org",
            "password": "a long enough password",
            "accept_rules": "y",
            "community_id": str(communities["noord"]),
        },
    )
    with app.app_context():
        sneaky = db.session.scalar(sa.select(Member).where(Member.email == "sneaky@example.org"))
        if sneaky is not None:
            assert (sneaky.role, sneaky.is_admin, sneaky.community_id) == ("member", False, communities["buurt"])
            assert sneaky.status != "active" or sneaky.email_confirmed_at is None
