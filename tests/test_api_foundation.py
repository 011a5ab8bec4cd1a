"""The API's common contract: tokens, errors, pagination, idempotency, CORS, the documents."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import jsonify

from timebank.api.auth import issue_token
from timebank.api.idempotency import writes
from timebank.api.models import ApiToken, IdempotencyRecord
from timebank.db import utcnow
from timebank.extensions import db
from timebank.market.models import Post
from timebank.members.models import Member
from timebank.moderation.models import Block

from .conftest import ON_POSTGRES, PASSWORD, count, login, make_app


def get_token(client, member) -> str:
    response = client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_gives_access_to_me(client, member, community):
    response = client.post("/api/v1/tokens", json={"email": member.email.upper(), "password": PASSWORD})
    assert response.status_code == 201
    assert response.json["token"].startswith("tb_") and response.json["expires_at"].endswith("+00:00")
    me = client.get("/api/v1/me", headers=bearer(response.json["token"]))
    assert me.status_code == 200
    assert me.json == {
        "id": member.id,
        "name": member.name,
        "role": "member",
        "locale": None,
        "community": {"id": community.id, "slug": "buurt", "name": "Onze buurt"},
    }


def test_tokens_are_stored_hashed(app, client, member):
    token = get_token(client, member)
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nobody@example.org", "password": PASSWORD},
        {"email": "member1@example.org", "password": "wrong"},
    ],
)
def test_wrong_credentials_are_401_in_the_callers_language(client, member, body):
    body = {**body, "email": member.email} if body["password"] == "wrong" else body
    response = client.post("/api/v1/tokens", json=body, headers={"Accept-Language": "nl"})
    assert response.status_code == 401
    assert response.json["error"] == {
        "code": "invalid_credentials",
        "fields": {},
        "message": "Dit e-mailadres en wachtwoord horen niet bij elkaar.",
    }


def test_validation_errors_name_the_fields(client):
    response = client.post("/api/v1/tokens", json={"email": "not-an-email"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "password"}
    malformed = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.json["error"]["code"] == "bad_request"


def test_anonymous_and_bad_tokens_get_401(client, member):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer("tb_made-up")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.get("/api/v1/me")
    assert response.json["error"]["code"] == "unauthorized" and "Bearer" in response.headers["WWW-Authenticate"]


def test_browser_session_cookie_does_not_open_the_api(client, member):
    login(client, member)
    assert client.get("/api/v1/me").status_code == 401


def test_revoked_token_stops_working(client, member):
    token = get_token(client, member)
    assert client.delete("/api/v1/tokens/current", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("change", ["expire", "log_out_everywhere", "suspend", "erase"])
def test_token_dies_with_expiry_and_every_session_ending_event(app, client, member, change):
    token = get_token(client, member)
    with app.app_context():
        stored = db.session.scalar(sa.select(ApiToken))
        person = db.session.get(Member, member.id)
        if change == "expire":
            stored.expires_at = utcnow() - timedelta(seconds=1)
        elif change == "log_out_everywhere":
            person.session_version += 1
        else:
            person.status = "suspended" if change == "suspend" else "erased"
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_paused_member_gets_no_token(client, make_member):
    paused = make_member("Jan", status="suspended")
    refused = client.post(
        "/api/v1/tokens", json={"email": paused.email, "password": PASSWORD}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 401 and "This account cannot log in." in refused.json["error"]["message"]
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_categories_are_paginated(client, member):
    token = get_token(client, member)
    first = client.get("/api/v1/categories?per_page=10", headers=bearer(token) | {"Accept-Language": "nl"})
    assert first.status_code == 200
    assert (first.json["page"], first.json["pages"], first.json["total"], len(first.json["items"])) == (1, 2, 15, 10)
    assert first.json["items"][0]["name"] == "Koken en catering" and first.json["items"][0]["retired"] is False
    last = client.get("/api/v1/categories?per_page=10&page=2", headers=bearer(token)).json
    assert len(last["items"]) == 5
    beyond = client.get("/api/v1/categories?page=9", headers=bearer(token)).json
    assert beyond["items"] == [] and beyond["total"] == 15
    too_many = client.get("/api/v1/categories?per_page=101", headers=bearer(token))
    assert too_many.status_code == 422 and "per_page" in too_many.json["error"]["fields"]


def test_failed_logins_make_the_account_wait(client, member):
    for _ in range(5):
        assert client.post("/api/v1/tokens", json={"email": member.email, "password": "nope"}).status_code == 401
    blocked = client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "too_many_requests"


def test_failed_logins_are_limited_per_address(client, make_member):
    for i in range(10):
        client.post("/api/v1/tokens", json={"email": f"guess{i}@example.org", "password": "nope"})
    other = make_member("Jan")
    assert client.post("/api/v1/tokens", json={"email": other.email, "password": PASSWORD}).status_code == 429
    elsewhere = client.post(
        "/api/v1/tokens",
        json={"email": other.email, "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert elsewhere.status_code == 201


def test_getting_a_token_ignores_idempotency_key_and_stores_no_answer(app, client, member, make_member):
    """Two strangers who pick the same key each get a token of their own, and a retry signs in
    anew: a stored answer would keep a usable token in the database for whoever sends the key."""
    jan = make_member("Jan")
    same_key = {"Idempotency-Key": "k-1"}
    fatima_body, jan_body = ({"email": m.email, "password": PASSWORD} for m in (member, jan))
    calls = [
        client.post("/api/v1/tokens", json=fatima_body, headers=same_key),
        client.post("/api/v1/tokens", json=jan_body, headers=same_key, environ_overrides={"REMOTE_ADDR": "10.0.0.9"}),
        client.post("/api/v1/tokens", json=fatima_body, headers=same_key),
    ]
    jan_token = calls[1].json["token"]
    calls.append(client.post("/api/v1/tokens", json=fatima_body, headers=same_key | bearer(jan_token)))
    assert [c.status_code for c in calls] == [201] * 4 and not any("Idempotent-Replayed" in c.headers for c in calls)
    tokens = [c.json["token"] for c in calls]
    assert len(set(tokens)) == 4
    names = [client.get("/api/v1/me", headers=bearer(t)).json["name"] for t in tokens]
    assert names == ["Fatima", "Jan", "Fatima", "Fatima"]
    with app.app_context():
        assert count(IdempotencyRecord) == 0 and count(ApiToken) == 4


def test_an_idempotency_key_belongs_to_the_member_who_sent_it(app, client, callers, make_post):
    soup, bike = make_post(callers["member"].member, "Soup"), make_post(callers["other_member"].member, "Bike")
    for role, post in (("member", soup), ("other_member", bike)):
        headers = callers[role].headers | {"Idempotency-Key": "same"}
        closed = client.post(f"/api/v1/posts/{post.id}/close", headers=headers)
        assert closed.status_code == 200 and closed.json["id"] == post.id
        assert "Idempotent-Replayed" not in closed.headers
    with app.app_context():
        assert db.session.scalars(sa.select(IdempotencyRecord.scope).order_by(IdempotencyRecord.id)).all() == [
            f"member:{callers['member'].member.id}",
            f"member:{callers['other_member'].member.id}",
        ]


def test_same_idempotency_key_with_another_request_is_422_and_changes_nothing(app, client, callers, make_post):
    soup, tea = make_post(callers["member"].member, "Soup"), make_post(callers["member"].member, "Tea")
    headers = callers["member"].headers | {"Idempotency-Key": "k"}
    assert client.post(f"/api/v1/posts/{soup.id}/close", headers=headers).status_code == 200
    other = client.post(f"/api/v1/posts/{tea.id}/close", headers=headers)
    assert other.status_code == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.get(Post, tea.id).status == "active"


def test_keys_are_forgotten_after_a_day_by_the_daily_command(app, client, runner, callers, make_post):
    soup, tea = make_post(callers["member"].member, "Soup"), make_post(callers["member"].member, "Tea")
    for post, key in ((soup, "old"), (tea, "new")):
        client.post(f"/api/v1/posts/{post.id}/close", headers=callers["member"].headers | {"Idempotency-Key": key})
    with app.app_context():
        for key, age in (("old", timedelta(hours=25)), ("new", timedelta(hours=23))):
            db.session.execute(
                sa.update(IdempotencyRecord).where(IdempotencyRecord.key == key).values(created_at=utcnow() - age)
            )
        db.session.commit()
    result = runner.invoke(args=["api", "forget-keys"])
    assert result.exit_code == 0 and "Forgot 1 stored answers." in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(IdempotencyRecord.key)).all() == ["new"]
    kept = client.post(f"/api/v1/posts/{tea.id}/close", headers=callers["member"].headers | {"Idempotency-Key": "new"})
    assert kept.status_code == 200 and kept.headers["Idempotent-Replayed"] == "true"


def test_refusals_are_replayed_too(app, client, callers, make_post):
    soup = make_post(callers["member"].member, "Soup")
    headers = callers["other_member"].headers | {"Idempotency-Key": "r"}
    first = client.post(f"/api/v1/posts/{soup.id}/close", headers=headers)
    again = client.post(f"/api/v1/posts/{soup.id}/close", headers=headers)
    assert first.status_code == again.status_code == 403 and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(sa.select(IdempotencyRecord.response_status)) == 403


@pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite runs write requests one at a time: no claim is ever seen in progress"
)
def test_key_in_progress_is_409_until_abandoned(app, client, callers, make_post):
    url = f"/api/v1/posts/{make_post(callers['member'].member, 'Soup').id}/close"
    headers = callers["member"].headers | {"Idempotency-Key": "busy"}
    first = client.post(url, headers=headers)
    with app.app_context():  # make it look as if the first call were still running
        db.session.execute(sa.update(IdempotencyRecord).values(state="in_progress"))
        db.session.commit()
    busy = client.post(url, headers=headers)
    assert busy.status_code == 409 and busy.json["error"]["code"] == "request_in_progress"
    with app.app_context():
        db.session.execute(sa.update(IdempotencyRecord).values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    retried = client.post(url, headers=headers)  # the first call's effect stands: the post is closed
    assert first.status_code == 200 and retried.status_code == 409
    assert retried.json["error"]["code"] == "post_state_conflict"


def test_a_crash_frees_the_key_and_keeps_no_effect(db_url, member):
    app = make_app(db_url, PROPAGATE_EXCEPTIONS=False)
    calls = []

    @app.route("/api/v1/test-crash", methods=["POST"])
    @writes
    def crash_once():
        member_row = db.session.get(Member, member.id)
        member_row.bio = f"changed {len(calls)}"
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("crash between flush and commit")
        return jsonify(ok=True), 201

    client = app.test_client()
    with app.app_context():
        headers = bearer(issue_token(db.session.get(Member, member.id))[1]) | {"Idempotency-Key": "c"}
        db.session.commit()
    assert client.post("/api/v1/test-crash", headers=headers).status_code == 500
    with app.app_context():
        assert db.session.get(Member, member.id).bio == ""
    assert client.post("/api/v1/test-crash", headers=headers).status_code == 201
    with app.app_context():
        assert db.session.get(Member, member.id).bio == "changed 1"
        db.session.remove()
        if ON_POSTGRES:
            from .conftest import empty_postgres

            empty_postgres()


def test_overlong_idempotency_key_is_400_and_changes_nothing(app, client, callers, make_post):
    soup = make_post(callers["member"].member, "Soup")
    response = client.post(
        f"/api/v1/posts/{soup.id}/close", headers=callers["member"].headers | {"Idempotency-Key": "x" * 256}
    )
    assert response.status_code == 400 and response.json["error"] == {
        "code": "bad_idempotency_key",
        "fields": {},
        "message": "The Idempotency-Key header must be 1 to 255 characters.",
    }
    with app.app_context():
        assert db.session.get(Post, soup.id).status == "active" and count(IdempotencyRecord) == 0


def test_an_empty_idempotency_key_is_400_and_one_of_255_characters_is_kept(app, client, callers, make_post):
    url = f"/api/v1/posts/{make_post(callers['member'].member, 'Soup').id}/close"
    empty = client.post(url, headers=callers["member"].headers | {"Idempotency-Key": ""})
    assert empty.status_code == 400 and empty.json["error"]["code"] == "bad_idempotency_key"
    with app.app_context():
        assert db.session.scalar(sa.select(Post.status)) == "active" and count(IdempotencyRecord) == 0
    longest = callers["member"].headers | {"Idempotency-Key": "x" * 255}
    assert client.post(url, headers=longest).status_code == 200
    again = client.post(url, headers=longest)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"


def test_the_same_idempotency_key_for_another_method_is_422_and_changes_nothing(app, client, callers):
    """Blocking and unblocking share one address: a key used for one must not answer the other."""
    jan = callers["other_member"].member
    url = f"/api/v1/members/{jan.id}/block"
    headers = callers["member"].headers | {"Idempotency-Key": "b"}
    assert client.post(url, headers=headers).json == {"member_id": jan.id, "blocked": True}
    unblocked = client.delete(url, headers=headers)
    assert unblocked.status_code == 422 and unblocked.json["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert count(Block) == 1


def test_cors_is_off_unless_configured(db_url, member):
    closed = make_app(db_url).test_client().get("/api/v1/me", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in closed.headers
    app = make_app(db_url, API_CORS_ORIGINS=["https://app.example"])
    response = app.test_client().options(
        "/api/v1/me", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    other = app.test_client().get("/api/v1/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = app.test_client().get("/login", headers={"Origin": "https://app.example"})  # the API only
    assert page.status_code == 200 and "Access-Control-Allow-Origin" not in page.headers


def test_openapi_document_and_reference_page(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/v1/tokens",
        "/api/v1/me",
        "/api/v1/categories",
        "/api/v1/accounts/me",
        "/api/v1/accounts/me/entries",
        "/api/v1/posts",
        "/api/v1/posts/{post_id}",
        "/api/v1/posts/{post_id}/close",
        "/api/v1/members/{member_id}",
        "/api/v1/exchanges",
        "/api/v1/exchanges/{exchange_id}/confirm",
        "/api/v1/exchanges/{exchange_id}/messages",
    } <= set(spec["paths"])
    assert {p["name"] for p in spec["paths"]["/api/v1/posts"]["post"]["parameters"]} == {"Idempotency-Key"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "GET /api/v1/me" in page.text and "<script>" not in page.text
    assert "401</code> Unauthorized" in page.text and "true: only free gifts" in page.text
    assert "cdn" not in page.text.lower()
    assert "Every call that changes something (POST, PATCH, DELETE) accepts an Idempotency-Key header" in page.text
    assert "Getting a token ignores it: every sign-in gets a new token" in page.text


def test_every_operation_documents_the_errors_it_can_answer(client):
    """Every call is rate limited (429), every call with a token can be refused one (401), every
    call with a body can get one that is not JSON (400), and every call that changes something
    takes an Idempotency-Key, which can lead to 400, 409 and 422 — all with the one error schema."""
    spec = client.get("/api/v1/openapi.json").json
    operations = [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    writes = [(method, path) for method, path, _op in operations if method != "GET"]
    assert len(operations) >= 27 and len(writes) >= 15  # the walk sees them all
    for method, path, op in operations:
        responses = {
            status: spec["components"]["responses"][r["$ref"].rsplit("/", 1)[1]] if "$ref" in r else r
            for status, r in op["responses"].items()
        }
        expected = {"401", "429"} if op.get("security") else {"429"}
        if "requestBody" in op:
            expected |= {"400"}
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        if method != "GET" and path != "/api/v1/tokens":
            expected |= {"400", "409", "422"}
            assert headers == {"Idempotency-Key"}, (method, path)
        assert expected <= set(responses), (method, path)
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ApiError"
            }, (method, path, status)
    sign_in = spec["paths"]["/api/v1/tokens"]["post"]
    assert "parameters" not in sign_in and "Idempotency-Key header is ignored here" in sign_in["description"]


def test_web_and_api_failures_share_one_count(client, member):
    for _ in range(5):
        client.post("/login", data={"email": member.email, "password": "nope"})
        client.post("/api/v1/tokens", json={"email": member.email, "password": "nope"})
    assert client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD}).status_code == 429


def test_rate_limit_counts_per_token(db_url, member, make_member):
    for _ in range(3):
        make_app(db_url)  # apps made before in the same process must not count twice
    app = make_app(db_url, API_RATELIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        first, second = (bearer(issue_token(db.session.get(Member, m.id))[1]) for m in (member, make_member("Jan")))
        db.session.commit()
    assert [client.get("/api/v1/me", headers=first).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/v1/me", headers=first)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "too_many_requests"
    assert limited.headers["Retry-After"] == "60"
    assert client.get("/api/v1/me", headers=second).status_code == 200
