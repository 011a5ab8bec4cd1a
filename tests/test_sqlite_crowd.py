"""A neighbourhood meeting on the embedded default: sixteen members confirm, give and post at the
same moment against gunicorn with two worker processes of four threads each (as the README deploys
it). Every answer is one a person can act on — never a 5xx, never "database is locked"."""

import json
import shutil
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from timebank.communities.models import Category
from timebank.communities.services import create_community
from timebank.config import Config
from timebank.db import utcnow
from timebank.exchanges import services as ex
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger.models import Transaction
from timebank.ledger.verify import verify
from timebank.market.models import Post
from timebank.members.models import Member

from .conftest import ON_POSTGRES, PASSWORD, count, make_app
from .servers import serve, stop

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's single write lock is what is tested")

PEOPLE = 16
ACCEPTABLE = {200, 201, 409, 422}
PRODUCTION_HASHING = Config.PASSWORD_HASH_PARAMS


def call(address: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        f"{address}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept-Language", "en")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # nosec B310 # our own test server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@pytest.fixture
def neighbourhood(database, tmp_path):
    """Sixteen members in a ring: each offers help, has helped the next one (recorded, waiting for
    that one's confirmation) and will thank the previous one."""
    path = tmp_path / "crowd.db"
    shutil.copyfile(database.template, path)
    url = f"sqlite:///{path}"
    app = make_app(url)
    with app.app_context():
        community = create_community("buurt", "Onze buurt")
        password = PasswordHasher(**PRODUCTION_HASHING).hash(PASSWORD)  # as slow as in production
        people = [
            Member(
                community_id=community.id,
                name=f"Neighbour {i}",
                email=f"n{i}@example.org",
                password_hash=password,
                status="active",
                role="member",
            )
            for i in range(PEOPLE)
        ]
        db.session.add_all(people)
        db.session.flush()
        category = db.session.scalar(sa.select(Category).where(Category.community_id == community.id).limit(1))
        exchanges = []
        for i, provider in enumerate(people):
            receiver = people[(i + 1) % PEOPLE]
            post = Post(
                community_id=community.id,
                owner_id=provider.id,
                kind="offer",
                title=f"Help {i}",
                category_id=category.id,
                minutes=60,
                expires_at=utcnow() + timedelta(weeks=8),
            )
            db.session.add(post)
            db.session.flush()
            exchange = ex.propose(post, receiver, 60, actor=receiver)
            ex.accept(exchange, actor=provider)
            ex.record_minutes(exchange, 60, actor=provider)
            exchanges.append(exchange.id)
        db.session.commit()
        ids, category_id = [person.id for person in people], category.id
        db.engine.dispose()
    return url, app, ids, exchanges, category_id


def test_sixteen_members_at_once_get_answers_they_can_act_on(neighbourhood):
    url, app, ids, exchanges, category_id = neighbourhood
    hashing = json.dumps(PRODUCTION_HASHING)
    process, address = serve(url, 2, "--threads", "4", env={"TIMEBANK_PASSWORD_HASH_PARAMS": hashing})
    try:
        start = threading.Barrier(PEOPLE)
        answers: list[tuple[str, int, object]] = []

        def neighbour(i: int):
            start.wait(60)
            status, body = call(address, "POST", "/tokens", {"email": f"n{i}@example.org", "password": PASSWORD})
            answers.append(("token", status, body))
            assert status in (200, 201), (status, body)
            token = body["token"]
            work = [
                ("confirm", "POST", f"/exchanges/{exchanges[(i - 1) % PEOPLE]}/confirm", None),
                ("confirm again", "POST", f"/exchanges/{exchanges[(i - 1) % PEOPLE]}/confirm", None),
                (
                    "give",
                    "POST",
                    "/transfers",
                    {"to_member_id": ids[(i - 1) % PEOPLE], "minutes": 10, "memo": "thank you"},
                ),
                ("post", "POST", "/posts", {"kind": "request", "title": f"Ladder {i}", "category_id": category_id}),
                ("read", "GET", "/me", None),
            ]
            for name, method, path, body in work:
                status, answer = call(address, method, path, body, token)
                answers.append((name, status, answer))

        with ThreadPoolExecutor(PEOPLE) as pool:
            list(pool.map(neighbour, range(PEOPLE)))
    finally:
        output = stop(process)

    wrong = [(name, status, body) for name, status, body in answers if status not in ACCEPTABLE]
    assert not wrong, wrong
    assert "database is locked" not in output, output[-3000:]
    assert "rate limits are counted per process" in output  # memory:// with two workers: said at start
    assert sorted(status for name, status, _ in answers if name.startswith("confirm")) == [200] * 16 + [409] * 16
    with app.app_context():
        assert all(db.session.get(Exchange, i).state == "completed" for i in exchanges)
        assert count(Transaction) == 2 * PEOPLE  # each exchange settled once, each gift once
        assert db.session.scalar(sa.select(sa.func.count()).where(Post.kind == "request")) == PEOPLE
        assert verify().ok
        db.engine.dispose()
