"""Finding posts: the listing and its filters, full-text search on either database, and the
offers shown to someone who just asked for help."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.communities.models import Area, Category
from timebank.db import utcnow
from timebank.demo.seed import seed
from timebank.extensions import db
from timebank.market import finding
from timebank.market.models import Post
from timebank.market.search import query_words
from timebank.market.services import Filters, PostDetails, edit_post, find_posts

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements

EN = {"Accept-Language": "en"}


def titles(page) -> list[str]:
    return [p.title for p in page.items]


def found(community_id, text="", **filters) -> list[str]:
    return titles(find_posts(community_id, Filters(text=text, **filters)))


def test_listing_shows_what_is_online_newest_first(app, client, member, make_member, make_post, make_community):
    jan = make_member("Jan")
    gone = make_member("Gone", status="suspended")
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    now = utcnow()
    make_post(member, "Older soup", created_at=now - timedelta(days=2))
    make_post(jan, "Newer bike help", kind="request", category_key="bikes", created_at=now - timedelta(days=1))
    make_post(jan, "Paused sewing", status="paused")
    make_post(jan, "Closed hair", status="closed")
    make_post(jan, "Past its date", expires_at=now - timedelta(minutes=1))
    make_post(gone, "By a suspended member")
    make_post(stranger, "In another neighbourhood")
    login(client, member)
    text = client.get("/market", headers=EN).text
    assert text.index("Newer bike help") < text.index("Older soup")
    for hidden in (
        "Paused sewing",
        "Closed hair",
        "Past its date",
        "By a suspended member",
        "In another neighbourhood",
    ):
        assert hidden not in text
    assert "2 posts" in text


def test_filters_narrow_the_listing(app, client, member, make_post):
    with app.app_context():
        park = Area(community_id=member.community_id, name="Het Park")
        db.session.add(park)
        db.session.commit()
        park_id = park.id
        bikes = db.session.scalar(sa.select(Category.id).where(Category.key == "bikes"))
    make_post(member, "Soup in the park", area_id=park_id)
    make_post(member, "Fixing flat tyres", category_key="bikes")
    make_post(member, "Need a bike", kind="request", category_key="bikes")
    make_post(member, "Free stroller", category_key="lending", is_gift=True, minutes=0)
    login(client, member)

    def listing(**args):
        text = client.get("/market", query_string=args, headers=EN).text
        return {t for t in ("Soup in the park", "Fixing flat tyres", "Need a bike", "Free stroller") if t in text}

    assert listing(kind="request") == {"Need a bike"}
    assert listing(kind="offer", category=bikes) == {"Fixing flat tyres"}
    assert listing(area=park_id) == {"Soup in the park"}
    assert listing(gifts="1") == {"Free stroller"}
    assert listing(q="tyre", kind="offer") == {"Fixing flat tyres"}
    assert len(listing(kind="nonsense", category="x", area="99999", page="-3")) == 4  # bad filters are ignored


def test_listing_pages_through_many_posts(app, client, member, make_post):
    for i in range(23):
        make_post(member, f"Post number {i:02d}")
    login(client, member)
    first = client.get("/market", headers=EN).text
    assert "Post number 22" in first and "Post number 03" in first and "Post number 02" not in first
    assert "Page 1" in first and 'href="/market?page=2"' in first and "Newer" not in first
    second = client.get("/market?page=2", headers=EN).text
    assert "Post number 00" in second and "Post number 22" not in second
    assert "Newer" in second and "Older" not in second
    assert "This page is empty" in client.get("/market?page=9", headers=EN).text


def test_large_numbers_of_results_are_not_counted_exactly(app, client, member, make_post, monkeypatch):
    for i in range(4):
        make_post(member, f"Soup number {i}")
    make_post(member, "Fresh bread")
    monkeypatch.setattr(finding, "COUNT_LIMIT", 3)
    login(client, member)
    assert "More than 3 posts found for “soup”" in client.get("/market?q=soup", headers=EN).text
    assert "More than 3 posts" in client.get("/market", headers=EN).text
    assert "1 post found for “bread”" in client.get("/market?q=bread", headers=EN).text


@pytest.mark.parametrize(
    "query, expected",
    [
        ("FIETS", ["Fietsen repareren"]),  # case
        ("fietsen", ["Fietsen repareren"]),  # Dutch plural -> stem
        ("fiets", ["Fietsen repareren"]),  # prefix
        ("bikes", ["Bike repair for kids"]),  # English plural -> singular
        ("cooking", ["Cook for your party"]),  # English verb ending
        ("cafe", ["Koffie in het café"]),  # accents ignored in the query…
        ("Één", ["Één keer per week boodschappen"]),  # …and in the posts
        ("naai", ["Naaimachine te leen"]),  # word beginnings
        ("kinderen helpen", ["Huiswerk: kinderen helpen"]),  # every word must match
        ("bike Dutch", []),
        ("mijn", ["Fietsen repareren"]),  # the description counts too
        ("xylofoon", []),
    ],
)
def test_search_ignores_case_and_accents_in_dutch_and_english(ctx, member, make_post, query, expected):
    make_post(member, "Fietsen repareren", category_key="bikes", description="Ik maak mijn buurmans band.")
    make_post(member, "Bike repair for kids", category_key="bikes")
    make_post(member, "Cook for your party")
    make_post(member, "Koffie in het café", category_key="elderly")
    make_post(member, "Één keer per week boodschappen", category_key="elderly")
    make_post(member, "Naaimachine te leen", category_key="lending")
    make_post(member, "Huiswerk: kinderen helpen", category_key="homework")
    assert found(member.community_id, query) == expected


def test_search_follows_edits_and_stays_inside_the_filters(ctx, member, make_post):
    post = make_post(member, "Soup for two evenings")
    make_post(member, "Soup on request", kind="request")
    assert found(member.community_id, "soup", kind="request") == ["Soup on request"]
    edit_post(post, PostDetails(title="Curry for two evenings", category_id=post.category_id), actor=member)
    db.session.commit()
    assert found(member.community_id, "soup") == ["Soup on request"]
    assert found(member.community_id, "curry") == ["Curry for two evenings"]


@pytest.mark.parametrize("query", ['"; DROP TABLE posts; --', "soup OR 1=1", "a*b NEAR(c)", "!!!", "' & | :*"])
def test_odd_search_text_is_harmless(ctx, member, make_post, query):
    make_post(member, "Soup for two evenings")
    assert found(member.community_id, query) in ([], ["Soup for two evenings"])
    assert db.session.scalar(sa.select(sa.func.count(Post.id))) == 1


def test_query_words_are_stemmed_lightly():
    assert query_words("Fietsen, BIKES & koken!") == ["fiets", "bike", "koken"]
    assert query_words("a b") == []
    assert len(query_words(" ".join(f"word{i}" for i in range(20)))) == 8


def test_asking_for_help_shows_matching_offers_right_away(app, client, member, make_member, make_post):
    jan, priya = make_member("Jan"), make_member("Priya")
    make_post(jan, "Bike repair on Saturdays", category_key="bikes")
    make_post(priya, "Sewing lessons", category_key="sewing")
    make_post(priya, "Needs a bike too", kind="request", category_key="bikes")
    make_post(member, "My own bike offer", category_key="bikes")
    with app.app_context():
        bikes = db.session.scalar(sa.select(Category.id).where(Category.key == "bikes"))
    login(client, member)
    page = client.post(
        "/market/requests/new",
        headers=EN,
        follow_redirects=True,
        data={"title": "My bike has a flat tyre", "category_id": bikes},
    )
    assert "Your request is online" in page.text and "Offers that may fit" in page.text
    matches = page.text.split("Offers that may fit", 1)[1]
    assert "Bike repair on Saturdays" in matches
    for other in ("Sewing lessons", "Needs a bike too", "My own bike offer"):
        assert other not in matches


def test_home_page_offers_the_two_big_buttons_and_whats_new(client, member, make_post):
    make_post(member, "Soup for two evenings")
    login(client, member)
    home = client.get("/", headers=EN).text
    assert 'href="/market/offers/new"' in home and 'href="/market/requests/new"' in home
    assert "Soup for two evenings" in home


def test_demo_market_has_both_kinds_in_every_category_and_language(ctx):
    seed(members=120, months=6, seed=5)
    db.session.commit()
    rows = db.session.execute(sa.select(Post.kind, Post.category_id, Post.status, Post.is_gift, Post.title)).all()
    assert len(rows) == 4 * 120
    categories = db.session.scalar(sa.select(sa.func.count(Category.id)))
    for kind in ("offer", "request"):
        assert len({r.category_id for r in rows if r.kind == kind}) == categories
    assert {r.status for r in rows} >= {"active", "paused", "closed", "expired"}
    assert any(r.is_gift for r in rows)
    titles = {r.title for r in rows}
    assert any("fiets" in t.lower() for t in titles) and any("bike" in t.lower() for t in titles)


def test_search_has_its_index_on_both_databases(ctx):
    """Search stays fast only with its index: a GIN index over the text vector on PostgreSQL, an
    FTS5 table on SQLite, both made by the migrations (the schema comparison skips them)."""
    if ON_POSTGRES:
        definition = db.session.scalar(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'search_posts'"))
        assert definition is not None and "USING gin (search_vector)" in definition
    else:
        sql = db.session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'search_posts'"))
        assert sql is not None and "fts5" in sql.lower() and "remove_diacritics" in sql


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from statistics")
def test_a_page_of_the_market_walks_the_posts_newest_first_and_stops(app, ctx, member, make_post):
    """SQLite must take a page from ix_posts_listing in order, not find every online post by date
    through ix_posts_online (made for the count) and sort them all: on the large demo that was four
    times the time of the first page. A text search starts from its words either way."""
    for n in range(3):
        make_post(member, title=f"Soup {n}")
    with statements(app, with_parameters=True) as sent:
        assert len(found(member.community_id)) == 3
    plan = sqlite_plan(sent, "IN (SELECT posts.id")
    assert "USING INDEX ix_posts_listing (community_id=? AND status=?)" in plan
    assert "ix_posts_online" not in plan and "TEMP B-TREE FOR ORDER BY" not in plan.split("LIST SUBQUERY")[1]
