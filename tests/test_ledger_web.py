"""My account, the statement and its download, the coordinator's views and undoing a transaction."""

import csv
import io
import re

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transaction
from timebank.members.models import Member

from .conftest import count, login

EN = {"Accept-Language": "en"}


@pytest.fixture
def neighbours_with_history(app, make_member):
    """Fatima helped Jan (1 h 30), then gave Wilma 15 minutes; Karim coordinates."""
    people = {name: make_member(name) for name in ("Fatima", "Jan", "Wilma")}
    people["Karim"] = make_member("Karim", role="coordinator")
    with app.app_context():
        account = {name: ledger.account_for(db.session.get(Member, m.id)) for name, m in people.items()}
        ledger.transfer(account["Jan"], account["Fatima"], 90, kind="exchange", actor=None, memo="Bike repaired")
        ledger.transfer(
            account["Fatima"], account["Wilma"], 15, kind="gift", actor=None, memo='=HYPERLINK("http://evil.example")'
        )
        db.session.commit()
    return people


def test_my_account_says_balance_and_limits_in_plain_words(client, neighbours_with_history):
    login(client, neighbours_with_history["Fatima"])
    page = client.get("/account", headers=EN)
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "<h1>My account</h1>" in text and "1 hour 15 minutes" in text
    assert "You can still receive up to 11 hours 15 minutes of help." in text
    assert "You can still give up to 38 hours 45 minutes of help." in text
    assert "Bike repaired" in text and "Jan" in text and "+1 hour 30 minutes" in text and "−15 minutes" in text
    assert 'href="/account"' in text and 'aria-current="page"' in text  # in the menu
    assert "Undo" not in text  # members do not undo
    dutch = client.get("/account", headers={"Accept-Language": "nl"})
    assert "Je saldo" in dutch.text and "Mijn uren" in dutch.text


def test_a_new_member_sees_zero_and_the_page_writes_nothing(app, client, make_member):
    newcomer = make_member("Priya")
    login(client, newcomer)
    text = re.sub(r"\s+", " ", client.get("/account", headers=EN).text)
    assert "0 minutes" in text and "You can still receive up to 10 hours of help." in text
    assert "Nothing here yet." in text
    with app.app_context():
        assert count(Account) == 0


def test_low_balance_warning(app, client, neighbours_with_history):
    with app.app_context():
        db.session.scalar(sa.select(Community)).ledger_warning = 0
        db.session.commit()
    login(client, neighbours_with_history["Jan"])
    assert "Your balance is low." in client.get("/account", headers=EN).text
    client.post("/logout")
    login(client, neighbours_with_history["Fatima"])
    assert "Your balance is low." not in client.get("/account", headers=EN).text


def test_statement_download_is_a_safe_spreadsheet_in_the_members_language(client, neighbours_with_history):
    login(client, neighbours_with_history["Fatima"])
    response = client.get("/account/statement.csv", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="statement-')
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")  # so spreadsheet programs read the names right
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Date and time", "What", "Description"]
    assert [row[1:] for row in rows[1:]] == [
        [
            "gift to Wilma",
            '\'=HYPERLINK("http://evil.example")',
            "Wilma",
            "-15",
            "−15 minutes",
            "75",
            "1 hour 15 minutes",
        ],
        ["exchange: Bike repaired", "Bike repaired", "Jan", "90", "1 hour 30 minutes", "90", "1 hour 30 minutes"],
    ]
    dutch = client.get("/account/statement.csv", headers={"Accept-Language": "nl"}).data.decode("utf-8")
    assert "Datum" in dutch.splitlines()[0] and "cadeau aan Wilma" in dutch and "Gratis" not in dutch


def test_statement_names_each_line_as_a_person_would(client, neighbours_with_history):
    """From each side: the giver reads "gift to Wilma", Wilma reads "thank-you from Fatima"."""
    login(client, neighbours_with_history["Fatima"])
    text = re.sub(r"\s+", " ", client.get("/account", headers=EN).text)
    assert "<strong>gift to Wilma</strong>" in text and "<strong>exchange: Bike repaired</strong>" in text
    client.post("/logout")
    login(client, neighbours_with_history["Wilma"])
    text = re.sub(r"\s+", " ", client.get("/account", headers=EN).text)
    assert "<strong>thank-you from Fatima</strong>" in text
    dutch = client.get("/account", headers={"Accept-Language": "nl"}).text
    assert "bedankje van Fatima" in dutch and "Gratis" not in dutch


def test_coordinators_see_members_of_their_own_community_only(
    client, neighbours_with_history, make_community, make_member
):
    login(client, neighbours_with_history["Karim"])
    page = client.get(f"/account/members/{neighbours_with_history['Jan'].id}", headers=EN)
    text = re.sub(r"\s+", " ", page.text)
    assert page.status_code == 200 and "Account of Jan" in text and "−1 hour 30 minutes" in text
    assert "Undo…" in text
    assert client.get(f"/account/members/{neighbours_with_history['Jan'].id}/statement.csv").status_code == 200
    stranger = make_member("Olena", community_id=make_community("noord", "Noord").id)
    assert client.get(f"/account/members/{stranger.id}").status_code == 404
    assert client.get("/account/members/99999").status_code == 404
    client.post("/logout")
    login(client, neighbours_with_history["Fatima"])
    assert client.get(f"/account/members/{neighbours_with_history['Jan'].id}").status_code == 403
    assert client.get(f"/account/members/{neighbours_with_history['Fatima'].id}").status_code == 200
    assert client.get("/account/fund").status_code == 403


def test_pages_need_a_login(client):
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_coordinator_sees_the_community_fund(app, client, neighbours_with_history):
    with app.app_context():
        db.session.scalar(sa.select(Community)).ledger_levy_percent = 10
        jan = ledger.account_for(db.session.get(Member, neighbours_with_history["Jan"].id))
        ledger.transfer(
            jan,
            ledger.account_for(db.session.get(Member, neighbours_with_history["Wilma"].id)),
            60,
            kind="exchange",
            actor=None,
        )
        db.session.commit()
    login(client, neighbours_with_history["Karim"])
    text = re.sub(r"\s+", " ", client.get("/account/fund", headers=EN).text)
    assert "Community fund" in text and "6 minutes" in text and "The fund can still give away up to 6 minutes." in text
    assert "Jan, Wilma" in text


def undo_form(client, transaction_id, next_url="/account/members/1"):
    page = client.get(f"/account/transactions/{transaction_id}/undo?next={next_url}", headers=EN)
    key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]+)"', page.text)
    return page, key.group(1) if key else None


def test_coordinator_undoes_a_transaction_once_even_when_the_form_is_sent_twice(app, client, neighbours_with_history):
    login(client, neighbours_with_history["Karim"])
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Transaction.id).where(Transaction.kind == "exchange"))
    page, key = undo_form(client, exchange_id, f"/account/members/{neighbours_with_history['Jan'].id}")
    assert page.status_code == 200 and "Bike repaired" in page.text and key

    empty = client.post(
        f"/account/transactions/{exchange_id}/undo", data={"reason": " ", "request_key": key}, headers=EN
    )
    assert empty.status_code == 422 and "This field is required." in empty.text

    for _ in range(2):  # a double click
        done = client.post(
            f"/account/transactions/{exchange_id}/undo",
            headers=EN,
            follow_redirects=True,
            data={
                "reason": "Entered for the wrong person",
                "request_key": key,
                "next": f"/account/members/{neighbours_with_history['Jan'].id}",
            },
        )
        assert "The transaction is undone" in done.text and "Account of Jan" in done.text
    with app.app_context():
        assert count(Transaction) == 3
        assert (
            db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "ledger.reversed"))
            == 1
        )
        assert ledger.balance(ledger.account_for(db.session.get(Member, neighbours_with_history["Jan"].id))) == 0

    _page, fresh_key = undo_form(client, exchange_id)
    assert fresh_key is None  # the page says it is undone already and offers no form
    again = client.post(
        f"/account/transactions/{exchange_id}/undo",
        headers=EN,
        follow_redirects=True,
        data={"reason": "Once more", "request_key": "another-click"},
    )
    assert "already undone" in again.text
    with app.app_context():
        assert count(Transaction) == 3


def test_members_cannot_undo(app, client, neighbours_with_history):
    login(client, neighbours_with_history["Jan"])
    with app.app_context():
        exchange_id = db.session.scalar(sa.select(Transaction.id).where(Transaction.kind == "exchange"))
    assert client.get(f"/account/transactions/{exchange_id}/undo").status_code == 403
    assert (
        client.post(
            f"/account/transactions/{exchange_id}/undo", data={"reason": "I want my hours back", "request_key": "k"}
        ).status_code
        == 403
    )
    with app.app_context():
        assert count(Transaction) == 2


def test_long_statements_come_in_pages(app, client, neighbours_with_history):
    with app.app_context():
        fatima = ledger.account_for(db.session.get(Member, neighbours_with_history["Fatima"].id))
        wilma = ledger.account_for(db.session.get(Member, neighbours_with_history["Wilma"].id))
        for i in range(55):
            ledger.transfer(wilma, fatima, 1, kind="gift", actor=None, memo=f"thanks {i}")
        db.session.commit()
    login(client, neighbours_with_history["Fatima"])
    first = client.get("/account", headers=EN).text
    memos = lambda page: re.findall(r"thanks \d+|Bike repaired", page)  # noqa: E731
    assert memos(first) == [f"thanks {i}" for i in range(54, 4, -1)]
    older = re.search(r'href="\?before=(\d+)"', first).group(1)
    second = client.get(f"/account?before={older}", headers=EN).text
    assert memos(second) == ["thanks 4", "thanks 3", "thanks 2", "thanks 1", "thanks 0", "Bike repaired"]
    assert "Back to the newest" in second and 'href="?before=' not in second


def test_a_coordinator_is_offered_undo_only_where_it_would_not_pay_themselves(app, client, neighbours_with_history):
    """Karim gave Jan 20 minutes and Jan thanked Karim with 10: undoing the first would put hours
    back into Karim's own account, which he may not decide, so no page offers it; the second he may undo."""
    people = neighbours_with_history
    with app.app_context():
        karim, jan = (ledger.account_for(db.session.get(Member, people[name].id)) for name in ("Karim", "Jan"))
        paid = ledger.transfer(karim, jan, 20, kind="gift", actor=None, memo="for the soup").id
        received = ledger.transfer(jan, karim, 10, kind="gift", actor=None, memo="for the ladder").id
        db.session.commit()
    login(client, people["Karim"])

    def offered(url):
        return {int(i) for i in re.findall(r"/account/transactions/(\d+)/undo", client.get(url, headers=EN).text)}

    own, jans = offered("/account"), offered(f"/account/members/{people['Jan'].id}")
    assert received in own and paid not in own
    assert received in jans and paid not in jans
    assert jans - {paid, received}  # the bike repair between Jan and Fatima is still offered
    refused = client.post(
        f"/account/transactions/{paid}/undo", data={"reason": "mistake", "request_key": "k1"}, headers=EN
    )
    assert "into your own account" in refused.text
    done = client.post(
        f"/account/transactions/{received}/undo",
        data={"reason": "Jan asked", "request_key": "k2"},
        headers=EN,
        follow_redirects=True,
    )
    assert "The transaction is undone" in done.text
    assert received not in offered("/account")  # undone once only
    with app.app_context():
        assert db.session.scalar(sa.select(Transaction.id).where(Transaction.reverses_id == paid)) is None
