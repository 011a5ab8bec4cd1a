"""A coordinator adds, renames, merges, retires and brings back categories, and old posts stay
readable through all of it."""

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Category
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member

from .conftest import ON_POSTGRES, login
from .queries import sqlite_plan, statements, use_sqlite_statistics

EN = {"Accept-Language": "en"}


@pytest.fixture
def coordinator(make_member):
    return make_member("Karim", role="coordinator")


def category(app, key) -> Category:
    with app.app_context():
        return db.session.scalar(sa.select(Category).where(Category.key == key))


def test_members_cannot_manage_categories(client, member, app):
    login(client, member)
    assert client.get("/market/manage").status_code == 403
    hair = category(app, "hair")
    assert client.post(f"/market/manage/categories/{hair.id}/retire").status_code == 403
    assert category(app, "hair").retired_at is None


def test_coordinator_adds_a_category_in_every_language(app, client, coordinator, member):
    login(client, coordinator)
    missing = client.post("/market/manage/categories", data={"name_en": "Music lessons", "name_nl": ""}, headers=EN)
    assert missing.status_code == 422 and "Please fill in the name in every language." in missing.text
    taken = client.post("/market/manage/categories", data={"name_en": "hair", "name_nl": "Kapper"}, headers=EN)
    assert taken.status_code == 422 and "There is already a category called “hair”." in taken.text
    added = client.post(
        "/market/manage/categories",
        data={"name_en": "Music lessons", "name_nl": "Muziekles"},
        headers=EN,
        follow_redirects=True,
    )
    assert "“Music lessons” is added" in added.text
    music = category(app, "music-lessons")
    assert music.names == {"en": "Music lessons", "nl": "Muziekles"} and music.position == 15
    client.post("/logout")
    login(client, member)
    assert "Muziekles" in client.get("/market/offers/new", headers={"Accept-Language": "nl"}).text


def test_rename_shows_on_old_posts(app, client, coordinator, member, make_post):
    post = make_post(member, "Haircuts at home", category_key="hair")
    login(client, coordinator)
    hair = category(app, "hair")
    page = client.get(f"/market/manage/categories/{hair.id}", headers=EN)
    assert 'value="Haar knippen"' in page.text
    client.post(f"/market/manage/categories/{hair.id}/rename", data={"name_en": "Hairdressing", "name_nl": "Kapper"})
    assert "Hairdressing" in client.get(f"/market/posts/{post.id}", headers=EN).text


def test_retired_category_keeps_its_posts_and_can_come_back(app, client, coordinator, member, make_post):
    post = make_post(member, "Car wash on Sundays", category_key="car-washing")
    cars = category(app, "car-washing")
    login(client, coordinator)
    client.post(f"/market/manage/categories/{cars.id}/retire")
    again = client.post(f"/market/manage/categories/{cars.id}/retire", headers=EN)
    assert again.status_code == 422 and "not used any more already" in again.text
    client.post("/logout")
    login(client, member)
    assert f'value="{cars.id}"' not in client.get("/market/offers/new").text
    assert "Car wash on Sundays" in client.get("/market", headers=EN).text
    assert "Car washing" in client.get(f"/market/posts/{post.id}", headers=EN).text
    edited = client.post(
        f"/market/posts/{post.id}/edit", data={"title": "Car wash on Saturdays", "category_id": cars.id}
    )
    assert edited.status_code == 302  # a post may keep its retired category
    client.post("/logout")
    login(client, coordinator)
    client.post(f"/market/manage/categories/{cars.id}/restore")
    assert category(app, "car-washing").retired_at is None


def test_merge_moves_posts_and_skills_and_old_links_still_work(app, client, coordinator, member, make_post):
    language, homework = category(app, "language"), category(app, "homework")
    with app.app_context():
        fatima = db.session.get(Member, member.id)
        fatima.skills = [db.session.get(Category, language.id), db.session.get(Category, homework.id)]
        karim = db.session.get(Member, coordinator.id)
        karim.skills = [db.session.get(Category, language.id)]
        db.session.commit()
    old = make_post(member, "Practise Dutch with me", category_key="language", status="closed")
    make_post(member, "Dutch lessons on Tuesdays", category_key="language")
    login(client, coordinator)
    itself = client.post(f"/market/manage/categories/{language.id}/merge", data={"target_id": language.id}, headers=EN)
    assert itself.status_code == 422 and "Please choose another category" in itself.text
    merged = client.post(
        f"/market/manage/categories/{language.id}/merge",
        data={"target_id": homework.id},
        headers=EN,
        follow_redirects=True,
    )
    assert "is merged into “Homework help”" in merged.text
    with app.app_context():
        source = db.session.get(Category, language.id)
        assert source.merged_into_id == homework.id and source.retired_at is not None
        assert set(db.session.scalars(sa.select(Post.category_id))) == {homework.id}
        assert [c.key for c in db.session.get(Member, member.id).skills] == ["homework"]
        assert [c.key for c in db.session.get(Member, coordinator.id).skills] == ["homework"]
        assert db.session.scalar(sa.select(AuditEvent.action)) == "category.merged"
    assert "Homework help" in client.get(f"/market/posts/{old.id}", headers=EN).text
    old_link = client.get(f"/market?category={language.id}", headers=EN).text
    assert "Dutch lessons on Tuesdays" in old_link
    again = client.post(f"/market/manage/categories/{language.id}/restore", headers=EN)
    assert again.status_code == 422 and "cannot come back" in again.text


def test_other_communities_categories_are_out_of_reach(app, client, coordinator, make_community):
    other = make_community("noord", "Noord")
    with app.app_context():
        theirs = db.session.scalar(sa.select(Category.id).where(Category.community_id == other.id))
        ours = db.session.scalar(sa.select(Category.id).where(Category.community_id == coordinator.community_id))
    login(client, coordinator)
    assert client.get(f"/market/manage/categories/{theirs}").status_code == 404
    assert client.post(f"/market/manage/categories/{theirs}/retire").status_code == 404
    refused = client.post(f"/market/manage/categories/{ours}/merge", data={"target_id": theirs}, headers=EN)
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Category, ours).merged_into_id is None


# `ANALYZE` of the large demo: 20,000 posts ever placed, of which 125 are online. The statistics
# average over states, so they do not say the online ones are few.
LARGE_DEMO_POSTS = [
    ("posts", "ix_posts_online", "20000 20000 5000 2 2"),
    ("posts", "ix_posts_listing", "20000 20000 5000 1"),
    ("posts", "ix_posts_category_id", "20000 1334"),
]


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL chooses its plan from its own statistics")
def test_counting_the_online_posts_per_category_reads_only_the_online_posts(
    app, client, coordinator, member, make_post
):
    """The categories page counts each category's online posts: from the online posts, not by
    walking every post ever placed in category order (20 ms a visit with the large demo)."""
    make_post(member, title="Soup")
    make_post(member, title="Old soup", status="closed")
    use_sqlite_statistics(app, LARGE_DEMO_POSTS)
    login(client, coordinator)
    with statements(app, with_parameters=True) as sent:
        page = client.get("/market/manage", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    with app.app_context():
        plan = sqlite_plan(sent, "count(posts.id)")
    assert "(community_id=? AND status=?)" in plan and "ix_posts_category_id" not in plan, plan
