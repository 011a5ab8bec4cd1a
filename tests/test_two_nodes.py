"""Past one server: two app servers (separate gunicorn processes, as two machines would run them)
on one PostgreSQL database, counting limits in Redis. Whatever reaches which node, an exchange
settles once, a balance floor holds, a retried call with its Idempotency-Key has one effect, and a
login limit counts the attempts made on both."""

import json
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import sqlalchemy as sa

from timebank.exchanges import services as ex
from timebank.exchanges.models import Exchange
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Transaction
from timebank.ledger.verify import verify
from timebank.members.models import Member

from .api import token_headers
from .conftest import ON_POSTGRES, POSTGRES_URL, count
from .servers import serve, stop

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="several nodes share a PostgreSQL database")

REDIS = "redis://127.0.0.1:6379/0"
EXCHANGES = 6
FLOOR = -60


def call(address: str, method: str, path: str, headers: dict, body: dict | None = None) -> int:
    """The status of one API call (201 also when it was a replay of an earlier answer)."""
    request = urllib.request.Request(
        f"{address}/api/v1{path}",
        method=method,
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # nosec B310 # our own test servers
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def redis_prefix():
    server = redis.Redis.from_url(REDIS)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"timebank-nodes-{uuid.uuid4().hex}"
    yield prefix
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)
    server.close()


@pytest.fixture
def nodes(app, redis_prefix):
    env = {
        "TIMEBANK_RATELIMIT_STORAGE_URI": REDIS,
        "TIMEBANK_RATELIMIT_KEY_PREFIX": redis_prefix,
        "TIMEBANK_LOGIN_FAILURE_LIMIT": "4 per 15 minutes",
    }
    started = []
    try:
        for _ in range(2):
            started.append(serve(POSTGRES_URL, 1, "--threads", "4", env=env))
        yield [address for _process, address in started]
    finally:
        for process, _address in started:
            stop(process)


def test_two_nodes_settle_once_hold_the_floor_and_share_the_login_limit(app, make_member, make_post, nodes):
    fatima, jan = make_member("Fatima"), make_member("Jan")
    offers = [make_post(fatima, title=f"Help {i}", minutes=30) for i in range(EXCHANGES)]
    with app.app_context():
        her, him = db.session.get(Member, fatima.id), db.session.get(Member, jan.id)
        ids = []
        for offer in offers:
            exchange = ex.propose(db.session.merge(offer), him, 30, actor=him)
            ex.accept(exchange, actor=her)
            ex.record_minutes(exchange, 30, actor=her)
            ids.append(exchange.id)
        ledger.account_for(him).floor_override = FLOOR - 30 * EXCHANGES  # room for the exchanges
        ledger.account_for(her).floor_override = FLOOR
        db.session.commit()
    jan_headers, fatima_headers = token_headers(app, jan), token_headers(app, fatima)
    first, second = nodes
    start = threading.Barrier(2 * EXCHANGES)

    def confirm(exchange_id: int, node: str) -> int:
        start.wait(60)
        return call(node, "POST", f"/exchanges/{exchange_id}/confirm", jan_headers)

    with ThreadPoolExecutor(2 * EXCHANGES) as pool:
        answers = list(pool.map(confirm, [i for i in ids for _node in nodes], [n for _i in ids for n in nodes]))
    assert sorted(answers) == [200] * EXCHANGES + [409] * EXCHANGES

    # Fatima earned 180 minutes and may go 60 below zero: twelve gifts of 30 at once, six on each
    # node, can move at most 240 minutes.
    gifts = threading.Barrier(12)

    def give(node: str) -> int:
        gifts.wait(60)
        return call(node, "POST", "/transfers", fatima_headers, {"to_member_id": jan.id, "minutes": 30})

    with ThreadPoolExecutor(12) as pool:
        given = list(pool.map(give, nodes * 6))
    assert sorted(given) == [201] * 8 + [409] * 4, given

    # A phone retrying a call with its Idempotency-Key may reach the other node: one effect.
    retries = threading.Barrier(4)

    def retry(node: str) -> int:
        retries.wait(60)
        return call(
            node,
            "POST",
            "/transfers",
            jan_headers | {"Idempotency-Key": "thanks-1"},
            {"to_member_id": fatima.id, "minutes": 15},
        )

    with ThreadPoolExecutor(4) as pool:
        replayed = list(pool.map(retry, nodes * 2))
    assert replayed.count(201) >= 1 and set(replayed) <= {201, 409}, replayed

    wrong = {"email": fatima.email, "password": "not her password"}
    tries = [call(node, "POST", "/tokens", {"Accept-Language": "en"}, wrong) for node in nodes * 3]
    assert tries[:4] == [401] * 4 and tries[4:] == [429, 429]  # four failures in all, wherever they came

    with app.app_context():
        assert all(db.session.get(Exchange, i).state == "completed" for i in ids)
        assert count(Transaction) == EXCHANGES + 8 + 1
        assert ledger.balance(ledger.account_for(db.session.get(Member, fatima.id))) == FLOOR + 15
        assert verify().ok
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Exchange)) == EXCHANGES
