"""The caller's hours through the API: balance and limits, and the statement page by page."""

import sqlalchemy as sa

from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transaction
from timebank.members.models import Member

from .conftest import count


def test_no_account_yet_answers_zero_within_the_communitys_limits_and_writes_nothing(app, client, callers):
    for role in ("member", "coordinator", "other_coordinator"):
        account = client.get("/api/v1/accounts/me", headers=callers[role].headers)
        assert account.status_code == 200
        assert account.json == {
            "id": None,
            "balance_minutes": 0,
            "floor_minutes": -600,
            "ceiling_minutes": 2400,
            "status": "open",
        }
        entries = client.get("/api/v1/accounts/me/entries", headers=callers[role].headers)
        assert entries.json == {"items": [], "page": 1, "pages": 1, "total": 0}
    for url in ("/api/v1/accounts/me", "/api/v1/accounts/me/entries"):
        assert client.get(url, headers=callers["anonymous"].headers).status_code == 401
    with app.app_context():
        assert count(Account) == 0


def test_each_caller_sees_their_own_hours_newest_first_page_by_page(app, client, callers):
    fatima, jan, karim = (callers[role].member for role in ("member", "other_member", "coordinator"))
    with app.app_context():
        account = {m.name: ledger.account_for(db.session.get(Member, m.id)) for m in (fatima, jan, karim)}
        account["Fatima"].floor_override = -120
        soup = ledger.transfer(account["Jan"], account["Fatima"], 90, kind="exchange", actor=None, memo="Soup")
        ledger.transfer(account["Fatima"], account["Karim"], 15, kind="gift", actor=None, memo="Thanks")
        bike = ledger.transfer(account["Karim"], account["Fatima"], 45, kind="exchange", actor=None, memo="Bike")
        db.session.flush()
        undo = ledger.reverse(bike, actor=None, reason="Entered twice")
        db.session.commit()
        ids = {"soup": soup.id, "bike": bike.id, "undo": undo.id, "account": account["Fatima"].id}
        transactions = count(Transaction)

    mine = client.get("/api/v1/accounts/me", headers=callers["member"].headers).json
    assert mine == {
        "id": ids["account"],
        "balance_minutes": 75,
        "floor_minutes": -120,
        "ceiling_minutes": 2400,
        "status": "open",
    }
    assert client.get("/api/v1/accounts/me", headers=callers["other_member"].headers).json["balance_minutes"] == -90

    first = client.get("/api/v1/accounts/me/entries?per_page=3", headers=callers["member"].headers).json
    assert (first["page"], first["pages"], first["total"]) == (1, 2, 4)
    assert [(e["kind"], e["amount_minutes"], e["balance_after_minutes"]) for e in first["items"]] == [
        ("reversal", -45, 75),
        ("exchange", 45, 120),
        ("gift", -15, 75),
    ]
    reversal, original = first["items"][:2]
    assert reversal["transaction_id"] == ids["undo"] and reversal["reverses_transaction_id"] == ids["bike"]
    assert original["reversed_by_transaction_id"] == ids["undo"] and original["counterparties"] == ["Karim"]
    assert reversal["created_at"].endswith("+00:00")
    second = client.get("/api/v1/accounts/me/entries?per_page=3&page=2", headers=callers["member"].headers).json
    assert second["items"] == [
        {
            "transaction_id": ids["soup"],
            "amount_minutes": 90,
            "balance_after_minutes": 90,
            "kind": "exchange",
            "memo": "Soup",
            "created_at": second["items"][0]["created_at"],
            "counterparties": ["Jan"],
            "reverses_transaction_id": None,
            "reversed_by_transaction_id": None,
        }
    ]
    beyond = client.get("/api/v1/accounts/me/entries?per_page=3&page=9", headers=callers["member"].headers).json
    assert (beyond["items"], beyond["total"]) == ([], 4)

    jans = client.get("/api/v1/accounts/me/entries", headers=callers["other_member"].headers).json
    assert [e["memo"] for e in jans["items"]] == ["Soup"]
    strangers = client.get("/api/v1/accounts/me/entries", headers=callers["other_coordinator"].headers).json
    assert strangers["total"] == 0
    refused = client.get("/api/v1/accounts/me/entries?per_page=0&before=3", headers=callers["member"].headers)
    assert refused.status_code == 422 and set(refused.json["error"]["fields"]) == {"per_page", "before"}
    with app.app_context():
        assert count(Transaction) == transactions
        assert db.session.scalar(sa.select(Account.balance).where(Account.id == ids["account"])) == 75
