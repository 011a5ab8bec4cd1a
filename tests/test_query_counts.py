"""No list page costs more queries for more rows: every member and coordinator list page and
every API list runs the same number of statements with 5 rows as with 50."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.services import record
from timebank.communities.models import Area, Category
from timebank.db import utcnow
from timebank.exchanges.services import accept, confirm, create_group, record_minutes, thank
from timebank.exchanges.single import propose
from timebank.exchanges.transfers import give_hours, grant_from_fund
from timebank.extensions import db
from timebank.governance.services import Binding, close, create_proposal, support, vote
from timebank.ledger.services import account_for, transfer
from timebank.market.models import Post
from timebank.members.models import JoinRequest, Member
from timebank.members.passwords import hash_password
from timebank.moderation.models import ModerationCase
from timebank.moderation.services import report
from timebank.notifications.services import notify
from timebank.uploads.models import Image

from .api import token_headers
from .conftest import PASSWORD, login
from .queries import queries_for

MEMBER_PAGES = [
    "/",
    "/market",
    "/market?q=offer",
    "/market/mine",
    "/members",
    "/exchanges",
    "/account",
    "/notifications",
    "/decide",
    "/decide/decisions",
    "/pots",
    "/pots/common",
    "/reports",
]
COORDINATOR_PAGES = [
    "/coordinate",
    "/members",
    "/coordinate/requests",
    "/coordinate/members",
    "/coordinate/log",
    "/coordinate/reports",
    "/exchanges/coordinate",
    "/account/fund",
    "/market/manage",
    "/admin/log",
]
API_LISTS = [
    "/api/v1/posts",
    "/api/v1/exchanges",
    "/api/v1/proposals",
    "/api/v1/notifications",
    "/api/v1/accounts/me/entries",
    "/api/v1/pots",
    "/api/v1/pots/common",
    "/api/v1/categories",
]
# Pages whose rows the scenario grows: they must show more at 50 than at 5, or the test proves nothing.
GROWING = {
    "/market",
    "/market?q=offer",
    "/members",
    "/exchanges",
    "/account",
    "/notifications",
    "/coordinate/requests",
    "/coordinate/members",
    "/coordinate/log",
    "/api/v1/posts",
    "/api/v1/exchanges",
    "/api/v1/notifications",
    "/api/v1/accounts/me/entries",
    "/decide",
    "/decide/decisions",
    "/api/v1/proposals",
    "/market/mine",
    "/reports",
    "/coordinate/reports",
    "/account/fund",
    "/admin/log",
    "/pots/common",
    "/api/v1/pots/common",
}


def grow(app, fatima_id: int, coordinator_id: int, count: int) -> None:
    """`count` more neighbours, each with a photo and a part of the neighbourhood of their own (so
    no row's photo or part is already loaded), an offer there Fatima responded to and reported, a
    gift to Fatima, a donation to the fund and a coordinator's grant back to them, a notification
    for her, a request of hers, someone waiting to join, and three proposals: the neighbour's grant
    to themselves that Fatima supports, a coordinator's that she voted on (every other one secret)
    and a coordinator's that she chose in and that was decided. The coordinator's actions fill the
    log."""
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        fatima = db.session.get(Member, fatima_id)
        coordinator = db.session.get(Member, coordinator_id)
        category_id = db.session.scalar(sa.select(Post.category_id).limit(1)) or _first_category(fatima)
        start = db.session.scalar(sa.select(sa.func.count(Member.id)))
        for number in range(start, start + count):
            neighbour = Member(
                community_id=fatima.community_id,
                name=f"Neighbour{number} Test",
                role="member",
                status="active",
                email=f"neighbour{number}@example.org",
                password_hash=password_hash,
                show_balance_to="community",
                show_email_to="community",
            )
            waiting = Member(
                community_id=fatima.community_id,
                name=f"Newcomer{number} Test",
                role="member",
                status="pending",
                email=f"newcomer{number}@example.org",
                password_hash=password_hash,
            )
            db.session.add_all([neighbour, waiting])
            db.session.flush()
            photo = Image(
                community_id=fatima.community_id,
                owner_id=neighbour.id,
                filename=f"neighbour{number}.jpg",
                content_type="image/jpeg",
                width=64,
                height=64,
            )
            area = Area(community_id=fatima.community_id, name=f"Part {number}")
            db.session.add_all([photo, area])
            db.session.flush()
            neighbour.photo_id, neighbour.area_id = photo.id, area.id
            db.session.add(
                JoinRequest(
                    member_id=waiting.id, community_id=fatima.community_id, state="waiting", submitted_at=utcnow()
                )
            )
            offer = _post(neighbour, "offer", f"Offer number {number}", category_id, area_id=area.id)
            exchange = propose(offer, fatima, 60, actor=fatima, message="Hello")
            transfer(account_for(neighbour), account_for(fatima), 5, kind="gift", actor=neighbour)
            notify(fatima, "accepted", actor=neighbour, exchange=exchange)
            record("member.note", actor=coordinator, community_id=fatima.community_id, subject=neighbour)
            _post(fatima, "request", f"Request number {number}", category_id)
            report(fatima, "post", offer.id, "spam")
            give_hours(neighbour, None, 5, actor=neighbour)
            grant_from_fund(neighbour, 5, f"Paint {number}", actor=coordinator)
            grant = Binding(kind="grant", grant_member=neighbour, grant_minutes=60)
            support(create_proposal(neighbour, title=f"Hours for {number}", binding=grant), fatima)
            voting = create_proposal(coordinator, title=f"Question {number}", secret=number % 2 == 0)
            vote(voting, fatima, voting.options[0].id)
            decided = create_proposal(coordinator, title=f"Colour {number}", options=["Red", "Blue"], voting_days=1)
            vote(decided, fatima, decided.options[1].id)
            close(decided, now=utcnow() + timedelta(days=2))
        db.session.commit()


def _post(owner, kind, title, category_id, **fields) -> Post:
    post = Post(
        community_id=owner.community_id,
        owner_id=owner.id,
        kind=kind,
        title=title,
        category_id=category_id,
        minutes=60,
        expires_at=utcnow().replace(year=utcnow().year + 1),
        **fields,
    )
    db.session.add(post)
    db.session.flush()
    return post


def _first_category(member):
    return db.session.scalar(sa.select(Category.id).where(Category.community_id == member.community_id).limit(1))


def counts(app, client, pages, **kwargs) -> dict[str, tuple[int, int]]:
    found = {}
    for page in pages:
        queries, text = queries_for(app, client, page, **kwargs)
        found[page] = (queries, len(text))
    return found


@pytest.mark.parametrize("role", ["member", "coordinator", "api"])
def test_lists_cost_the_same_number_of_queries_for_5_and_50_rows(app, client, make_member, role):
    fatima = make_member("Fatima", **({"role": "coordinator", "is_admin": True} if role == "coordinator" else {}))
    coordinator = fatima if role == "coordinator" else make_member("Karim", role="coordinator")
    headers = {"Accept-Language": "en"}
    if role == "api":
        headers = token_headers(app, fatima)
    else:
        login(client, fatima)
    pages = {"member": MEMBER_PAGES, "coordinator": COORDINATOR_PAGES, "api": API_LISTS}[role]
    grow(app, fatima.id, coordinator.id, 5)
    few = counts(app, client, pages, headers=headers)
    grow(app, fatima.id, coordinator.id, 45)
    many = counts(app, client, pages, headers=headers)
    grew = {page: many[page][0] - few[page][0] for page in pages if many[page][0] != few[page][0]}
    assert not grew, f"more rows, more queries (page: extra statements at 50 rows): {grew}"
    shown_less = [page for page in pages if page in GROWING and many[page][1] <= few[page][1]]
    assert not shown_less, f"these pages did not show the extra rows: {shown_less}"


def test_a_profile_with_more_thank_you_notes_costs_no_more_queries(app, client, make_member):
    fatima = make_member("Fatima")
    login(client, make_member("Jan"))

    def thanked_by(count):
        with app.app_context():
            helper = db.session.get(Member, fatima.id)
            for number in range(count):
                neighbour = db.session.get(Member, make_member(f"Thankful {count}-{number}").id)
                offer = _post(helper, "offer", f"Ironing {count}-{number}", _first_category(helper))
                exchange = propose(offer, neighbour, 30, actor=neighbour)
                accept(exchange, actor=helper)
                record_minutes(exchange, 30, actor=helper)
                confirm(exchange, actor=neighbour)
                thank(exchange, neighbour, f"Thank you {count}-{number}")
            db.session.commit()

    thanked_by(2)
    few, page = queries_for(app, client, f"/members/{fatima.id}")
    assert "Thank you 2-1" in page
    thanked_by(6)
    many, page = queries_for(app, client, f"/members/{fatima.id}")
    assert "Thank you 6-5" in page and "Ironing 6-5" in page
    assert many == few


def test_a_case_with_more_reports_costs_no_more_queries(app, client, make_member):
    coordinator = make_member("Karim", role="coordinator")
    login(client, coordinator)
    with app.app_context():
        owner = db.session.get(Member, make_member("Spammer").id)
        post_id = _post(owner, "offer", "Cheap watches", _first_category(owner)).id
        db.session.commit()

    def reported_by(count):
        with app.app_context():
            for number in range(count):
                report(db.session.get(Member, make_member(f"Reporter {count}-{number}").id), "post", post_id, "spam")
            db.session.commit()
            return db.session.scalar(sa.select(ModerationCase.id))

    case_id = reported_by(2)
    few, page = queries_for(app, client, f"/coordinate/reports/{case_id}")
    assert "Reporter 2-1" in page
    reported_by(6)
    many, page = queries_for(app, client, f"/coordinate/reports/{case_id}")
    assert "Reporter 6-5" in page and many == few


def test_group_exchanges_with_more_people_cost_no_more_queries(app, client, make_member):
    """A lesson for thirty costs its organiser's pages, a pupil's API calls and a coordinator's pages
    what a lesson for three does: the lists, the exchange itself (open, and settled as one
    transaction with a share for the fund), the statements and the notifications."""
    fatima, jan = make_member("Fatima"), make_member("Jan")
    login(client, fatima)
    api, desk = app.test_client(), app.test_client()
    login(desk, make_member("Karim", role="coordinator"))
    headers = token_headers(app, jan)

    def lessons(others: int) -> tuple[int, int]:
        """An open lesson Jan confirmed and a settled one, each with `others` pupils besides Jan."""
        with app.app_context():
            teacher, pupil = db.session.get(Member, fatima.id), db.session.get(Member, jan.id)
            pupils = [pupil] + [db.session.get(Member, make_member(f"Pupil {others}-{n}").id) for n in range(others)]
            teacher.community.ledger_levy_percent = 10
            open_lesson = create_group(teacher, "provider", f"Open lesson {others}", 60, pupils, actor=teacher)
            confirm(open_lesson, actor=pupil)
            settled = create_group(teacher, "provider", f"Settled lesson {others}", 60, pupils, actor=teacher)
            for member in pupils:
                confirm(settled, actor=member)
            db.session.commit()
            assert settled.state == "completed"
            return open_lesson.id, settled.id

    def costs(open_id: int, settled_id: int) -> dict[str, int]:
        web = {"exchange": f"/exchanges/{open_id}", "settled": f"/exchanges/{settled_id}"}
        web |= {page: page for page in ("/", "/exchanges", "/account", "/notifications")}
        calls = {"api exchange": f"/api/v1/exchanges/{open_id}", "api settled": f"/api/v1/exchanges/{settled_id}"}
        calls |= {page: page for page in ("/api/v1/exchanges", "/api/v1/accounts/me/entries", "/api/v1/notifications")}
        found = {
            name: queries_for(app, client, page, headers={"Accept-Language": "en"})[0] for name, page in web.items()
        }
        found |= {name: queries_for(app, api, page, headers=headers)[0] for name, page in calls.items()}
        watched = {"coordinator's exchange": f"/exchanges/{settled_id}", "fund": "/account/fund"}
        watched["coordinator's exchanges"] = "/exchanges/coordinate"
        return found | {
            name: queries_for(app, desk, page, headers={"Accept-Language": "en"})[0] for name, page in watched.items()
        }

    few = costs(*lessons(2))
    open_id, settled_id = lessons(29)
    many = costs(open_id, settled_id)
    assert {page: many[page] - few[page] for page in few if many[page] != few[page]} == {}
    _count, page = queries_for(app, client, f"/exchanges/{open_id}", headers={"Accept-Language": "en"})
    assert "Pupil 29-28" in page
