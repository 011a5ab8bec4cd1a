"""The community's rules for hours (limits, low-balance warning, levy), one account's own limits
and its pause: the services, the coordinators' pages, and the limits at work in real transfers."""

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from timebank.audit.models import AuditEvent
from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.errors import MAX_MINUTES, AccountClosed, InvalidSetting, LimitExceeded, NotAllowed
from timebank.ledger.models import Account
from timebank.members.models import Member

from .conftest import count, login

EN = {"Accept-Language": "en"}
NL = {"Accept-Language": "nl"}
GOOD = dict(floor=-600, ceiling=2400, warning=-300, levy_percent=5)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.text)


def settings_of(app) -> dict:
    with app.app_context():
        return ledger.ledger_settings(db.session.scalar(sa.select(Community).where(Community.slug == "buurt")))


def audit_rows(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )
        db.session.expunge_all()
        return rows


def account_of(app, member) -> Account:
    with app.app_context():
        account = ledger.account_for(db.session.get(Member, member.id))
        db.session.commit()
        db.session.refresh(account)
        db.session.expunge(account)
        return account


def pay(app, payer, receiver, minutes: int):
    """A gift from one member to another, committed; raises the ledger's refusal."""
    with app.app_context():
        ledger.transfer(
            ledger.account_for(db.session.get(Member, payer.id)),
            ledger.account_for(db.session.get(Member, receiver.id)),
            minutes,
            kind="gift",
            actor=None,
        )
        db.session.commit()


@pytest.fixture
def people(make_member, make_community):
    """Fatima and Jan are members, Karim coordinates; Olga coordinates another neighbourhood."""
    elsewhere = make_community("elders", "Other street")
    return dict(
        Fatima=make_member("Fatima"),
        Jan=make_member("Jan"),
        Karim=make_member("Karim", role="coordinator"),
        Olga=make_member("Olga", role="coordinator", community_id=elsewhere.id),
    )


# The service


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(floor=60), "floor"),
        (dict(floor=None), "floor"),
        (dict(floor=-MAX_MINUTES - 1), "floor"),
        (dict(floor=True), "floor"),
        (dict(ceiling=-1), "ceiling"),
        (dict(ceiling=MAX_MINUTES + 1), "ceiling"),
        (dict(ceiling=60.5), "ceiling"),
        (dict(warning=-601), "warning"),
        (dict(warning=2401), "warning"),
        (dict(levy_percent=101), "levy_percent"),
        (dict(levy_percent=-1), "levy_percent"),
        (dict(levy_percent=None), "levy_percent"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence_and_change_nothing(app, english, people, change, field):
    community = db.session.get(Community, people["Karim"].community_id)
    before = ledger.ledger_settings(community)
    karim = db.session.get(Member, people["Karim"].id)
    with pytest.raises(InvalidSetting) as refused:
        ledger.set_ledger_settings(community, **{**GOOD, **change}, actor=karim)
    assert refused.value.field == field
    english_text = str(refused.value)
    assert english_text.endswith(".") and "invalid" not in english_text.lower()
    with force_locale("nl"):
        assert str(refused.value) != english_text  # said in Dutch too
    db.session.rollback()
    assert ledger.ledger_settings(db.session.get(Community, community.id)) == before
    assert count(AuditEvent) == 0


def test_only_a_coordinator_of_the_community_changes_its_rules(app, ctx, people):
    community = db.session.get(Community, people["Karim"].community_id)
    for outsider in ("Fatima", "Olga"):
        with pytest.raises(NotAllowed):
            ledger.set_ledger_settings(community, **GOOD, actor=db.session.get(Member, people[outsider].id))
        db.session.rollback()
    assert ledger.ledger_settings(db.session.get(Community, community.id))["levy_percent"] == 0


def test_rules_are_saved_and_logged_with_before_and_after(app, ctx, people):
    community = db.session.get(Community, people["Karim"].community_id)
    ledger.set_ledger_settings(
        community,
        floor=-1200,
        ceiling=3000,
        warning=None,
        levy_percent=0,
        actor=db.session.get(Member, people["Karim"].id),
    )
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "ledger.settings_changed"))
    assert event.actor_id == people["Karim"].id and event.community_id == community.id
    assert event.details == {
        "before": dict(floor=-600, ceiling=2400, warning=None, levy_percent=0),
        "after": dict(floor=-1200, ceiling=3000, warning=None, levy_percent=0),
    }


# The rules page


def rules(**typed) -> dict:
    """The rules form as a coordinator fills it in: 10 hours owed, 40 saved, no warning, no levy."""
    return {
        "owe_hours": "10",
        "owe_minutes": "",
        "save_hours": "40",
        "save_minutes": "",
        "warning_hours": "",
        "warning_minutes": "",
        "warning_side": "owed",
        "levy_percent": "0",
        **typed,
    }


def test_rules_page_shows_the_rules_in_hours(client, people):
    login(client, people["Karim"])
    page = client.get("/account/rules", headers=EN)
    assert page.status_code == 200
    text = text_of(page)
    assert "How much may a member owe at most?" in text
    assert 'name="owe_hours" type="text" value="10"' in text and 'name="save_hours" type="text" value="40"' in text
    assert 'name="warning_hours" type="text" value=""' in text
    hub = client.get("/coordinate", headers=EN).text
    fund = client.get("/account/fund", headers=EN).text
    assert 'href="/account/rules"' in hub and 'href="/account/rules"' in fund
    assert "Regels voor uren" in client.get("/account/rules", headers=NL).text


def test_lowering_the_floor_lets_members_spend_more_at_once(app, client, people):
    with pytest.raises(LimitExceeded):
        pay(app, people["Fatima"], people["Jan"], 15 * 60)
    login(client, people["Karim"])
    response = client.post(
        "/account/rules",
        data=rules(owe_hours="20", warning_hours="2", warning_minutes="30", levy_percent="10"),
        headers=EN,
    )
    assert response.status_code == 302
    assert settings_of(app) == dict(floor=-1200, ceiling=2400, warning=-150, levy_percent=10)
    assert "Saved." in client.get("/account/rules", headers=EN).text
    pay(app, people["Fatima"], people["Jan"], 15 * 60)  # no limit of her own: the new rule holds
    client.post("/logout")
    login(client, people["Fatima"])
    text = text_of(client.get("/account", headers=EN))
    assert "−15 hours" in text and "You can still receive up to 5 hours of help." in text
    assert "The balance can go down to −20 hours and up to 40 hours." in text
    assert "Your balance is low." in text
    assert len(audit_rows(app, "ledger.settings_changed")) == 1


def test_a_warning_above_zero_and_raising_the_ceiling(app, client, people):
    login(client, people["Karim"])
    client.post(
        "/account/rules", data=rules(save_hours="1", warning_hours="0", warning_minutes="30", warning_side="saved")
    )
    assert settings_of(app) == dict(floor=-600, ceiling=60, warning=30, levy_percent=0)
    with pytest.raises(LimitExceeded):
        pay(app, people["Fatima"], people["Jan"], 61)
    text = text_of(client.get("/account/rules", headers=EN))
    assert 'name="warning_minutes" type="text" value="30"' in text
    assert re.search(r'value="saved"[^>]*checked|checked[^>]*value="saved"', text)


@pytest.mark.parametrize(
    "typed, box, message",
    [
        (
            dict(owe_hours="", owe_minutes=""),
            "owe_hours",
            "How much a member may owe must be between 0 and 10,000 hours.",
        ),
        (dict(save_hours="-3"), "save_hours", "How many hours a member may save must be between 0 and 10,000 hours."),
        (
            dict(warning_hours="11"),
            "warning_hours",
            "The warning must be between the lowest balance (−10 hours) and the highest (40 hours), or left empty.",
        ),
        (
            dict(levy_percent="150"),
            "levy_percent",
            "The share for the community fund must be a whole number from 0 to 100.",
        ),
        (dict(levy_percent="ten"), "levy_percent", "Please fill in a whole number, for example 2."),
    ],
)
def test_bad_rules_keep_what_was_typed_and_change_nothing(app, client, people, typed, box, message):
    login(client, people["Karim"])
    response = client.post("/account/rules", data=rules(**typed), headers=EN)
    assert response.status_code == 422
    text = text_of(response)
    assert f'<ul class="field-errors" id="{box}-error"> <li>{message}</li>' in text
    assert all(f'value="{value}"' in text for value in typed.values() if value.lstrip("-").isdigit())
    assert settings_of(app) == dict(floor=-600, ceiling=2400, warning=None, levy_percent=0)
    assert audit_rows(app, "ledger.settings_changed") == []


def test_dutch_refusal_on_the_rules_page(client, people):
    login(client, people["Karim"])
    response = client.post("/account/rules", data=rules(levy_percent="150"), headers=NL)
    assert response.status_code == 422 and "buurtpot" in response.text and "Regels voor uren" in response.text


def test_members_and_other_coordinators_cannot_change_the_rules(app, client, people):
    login(client, people["Fatima"])
    assert client.get("/account/rules").status_code == 403
    assert client.post("/account/rules", data=rules(owe_hours="100")).status_code == 403
    client.post("/logout")
    login(client, people["Olga"])  # changes her own neighbourhood only
    assert client.post("/account/rules", data=rules(owe_hours="100")).status_code == 302
    assert settings_of(app)["floor"] == -600
    client.post("/logout")
    assert client.get("/account/rules").status_code == 302  # to the login page


# One account: its own limits and its pause


def limits(**typed) -> dict:
    return {
        "limits-owe_hours": "",
        "limits-owe_minutes": "",
        "limits-save_hours": "",
        "limits-save_minutes": "",
        "limits-reason": "Helps a lot, needs care now",
        **typed,
    }


def test_coordinator_gives_one_account_its_own_limits(app, client, people):
    jan = people["Jan"]
    login(client, people["Karim"])
    page = text_of(client.get(f"/account/members/{jan.id}", headers=EN))
    assert "Limits of Jan" in page and "−10 hours · the rule for everyone" in page
    response = client.post(
        f"/account/members/{jan.id}/limits",
        data=limits(**{"limits-owe_hours": "20", "limits-owe_minutes": "30"}),
        headers=EN,
    )
    assert response.status_code == 302
    account = account_of(app, jan)
    assert (account.floor_override, account.ceiling_override) == (-1230, None)
    page = text_of(client.get(f"/account/members/{jan.id}", headers=EN))
    assert "−20 hours 30 minutes · set for Jan" in page and "40 hours · the rule for everyone" in page
    assert 'name="limits-owe_hours" type="text" value="20"' in page

    pay(app, jan, people["Fatima"], 20 * 60)  # past the community's 10 hours, within his own
    with pytest.raises(LimitExceeded):
        pay(app, jan, people["Fatima"], 31)
    events = audit_rows(app, "ledger.limits_changed")
    assert [(e.actor_id, e.on_behalf_of_id, e.reason, e.details) for e in events] == [
        (people["Karim"].id, jan.id, "Helps a lot, needs care now", {"before": [None, None], "after": [-1230, None]})
    ]

    client.post("/logout")
    login(client, jan)
    text = text_of(client.get("/account", headers=EN))
    assert "The balance can go down to −20 hours 30 minutes and up to 40 hours." in text
    assert "A coordinator set these limits for you." in text
    assert "You can still receive up to 30 minutes of help." in text
    history = text_of(client.get("/settings/done-for-you", headers=EN))
    assert "changed how low and how high the balance may go" in history and "Helps a lot, needs care now" in history


def test_a_reason_with_a_nul_character_is_kept_without_it(app, people):
    """The pages refuse NUL before any service runs; other callers of the service (API, CLI) get
    it stored without, as PostgreSQL cannot keep it."""
    with app.app_context():
        karim, jan = (db.session.get(Member, people[name].id) for name in ("Karim", "Jan"))
        ledger.set_status(ledger.account_for(jan), "suspended", actor=karim, reason="Moving\x00 house")
        db.session.commit()
    assert [event.reason for event in audit_rows(app, "ledger.account_status")] == ["Moving house"]


def test_empty_boxes_give_the_account_the_community_rule_again(app, client, people):
    jan = people["Jan"]
    with app.app_context():
        ledger.set_limits(
            ledger.account_for(db.session.get(Member, jan.id)), floor=-60, ceiling=60, actor=None, reason="trial"
        )
        db.session.commit()
    login(client, people["Karim"])
    assert client.post(f"/account/members/{jan.id}/limits", data=limits()).status_code == 302
    account = account_of(app, jan)
    assert (account.floor_override, account.ceiling_override) == (None, None)
    pay(app, jan, people["Fatima"], 10 * 60)


@pytest.mark.parametrize(
    "typed, box, message",
    [
        ({"limits-reason": " "}, "limits-reason", "Please write down why."),
        (
            {"limits-save_hours": "-1"},
            "limits-save_hours",
            "How many hours a member may save must be between 0 and 10,000 hours.",
        ),
        (
            {"limits-owe_hours": "-2"},
            "limits-owe_hours",
            "How much a member may owe must be between 0 and 10,000 hours.",
        ),
    ],
)
def test_bad_account_limits_change_nothing(app, client, people, typed, box, message):
    jan = people["Jan"]
    login(client, people["Karim"])
    response = client.post(f"/account/members/{jan.id}/limits", data=limits(**typed), headers=EN)
    assert response.status_code == 422
    assert f'id="{box}-error"> <li>{message}</li>' in text_of(response)
    with app.app_context():
        account = ledger.account_for(db.session.get(Member, jan.id), create=False)
        assert account is None or (account.floor_override, account.ceiling_override) == (None, None)
    assert audit_rows(app, "ledger.limits_changed") == []


def test_pausing_an_account_stops_transfers_until_it_is_opened_again(app, client, people):
    jan, fatima = people["Jan"], people["Fatima"]
    login(client, people["Karim"])
    assert "Pause the hours of Jan" in client.get(f"/account/members/{jan.id}", headers=EN).text
    refused = client.post(
        f"/account/members/{jan.id}/status", data={"status": "suspended", "pause-reason": ""}, headers=EN
    )
    assert refused.status_code == 422 and "Please write down why." in refused.text
    assert account_of(app, jan).status == "open"
    response = client.post(
        f"/account/members/{jan.id}/status",
        data={"status": "suspended", "pause-reason": "Moving house, back in May"},
        headers=EN,
    )
    assert response.status_code == 302 and account_of(app, jan).status == "suspended"
    again = client.post(
        f"/account/members/{jan.id}/status", data={"status": "suspended", "pause-reason": "clicked twice"}, headers=EN
    )
    assert again.status_code == 302 and "Nothing changed" in client.get(again.headers["Location"], headers=EN).text
    assert "Let the hours of Jan move again" in client.get(f"/account/members/{jan.id}", headers=EN).text

    client.post("/logout")
    login(client, fatima)  # a real transfer through the page is refused in plain words
    given = client.post(
        f"/exchanges/give?to={jan.id}", data={"hours": "1", "minutes": "", "memo": "", "request_key": "k1"}, headers=EN
    )
    assert given.status_code == 422
    assert "The account of Jan is paused, so no hours can go in or out now." in text_of(given)
    with pytest.raises(AccountClosed):
        pay(app, jan, fatima, 10)
    client.post("/logout")
    login(client, jan)
    mine = text_of(client.get("/account", headers=EN))
    assert "This account is paused: no hours can go in or out now." in mine
    assert "You can still receive" not in mine and "Give hours to a neighbour" not in mine
    assert "Deze rekening staat stil" in client.get("/account", headers=NL).text

    client.post("/logout")
    login(client, people["Karim"])
    assert (
        client.post(
            f"/account/members/{jan.id}/status", data={"status": "open", "pause-reason": "Back home"}
        ).status_code
        == 302
    )
    pay(app, jan, fatima, 10)
    assert [(e.reason, e.details, e.on_behalf_of_id) for e in audit_rows(app, "ledger.account_status")] == [
        ("Moving house, back in May", {"before": "open", "after": "suspended"}, jan.id),
        ("Back home", {"before": "suspended", "after": "open"}, jan.id),
    ]


def test_only_coordinators_of_the_community_manage_an_account(app, client, people):
    jan = people["Jan"]
    data = limits(**{"limits-owe_hours": "100"})
    pause = {"status": "suspended", "pause-reason": "no"}
    login(client, people["Fatima"])
    page = client.get(f"/account/members/{jan.id}")
    assert page.status_code == 403
    assert client.post(f"/account/members/{jan.id}/limits", data=data).status_code == 403
    assert client.post(f"/account/members/{jan.id}/status", data=pause).status_code == 403
    own = client.get(f"/account/members/{people['Fatima'].id}", headers=EN)
    assert own.status_code == 200 and "Limits of" not in own.text
    assert client.post(f"/account/members/{people['Fatima'].id}/limits", data=data).status_code == 403
    client.post("/logout")
    login(client, people["Olga"])
    assert client.get(f"/account/members/{jan.id}").status_code == 404
    assert client.post(f"/account/members/{jan.id}/limits", data=data).status_code == 404
    assert client.post(f"/account/members/{jan.id}/status", data=pause).status_code == 404
    client.post("/logout")
    login(client, people["Karim"])  # not for their own account
    karim = people["Karim"]
    assert "Limits of" not in client.get(f"/account/members/{karim.id}", headers=EN).text
    assert client.post(f"/account/members/{karim.id}/limits", data=data).status_code == 403
    assert client.post(f"/account/members/{karim.id}/status", data=pause).status_code == 403
    with app.app_context():
        assert count(Account) == 0 and count(AuditEvent) == 0


def test_a_coordinator_cannot_change_their_own_account_by_any_route(app, people):
    """The pages hide it; the service refuses it too, so no other caller (API, script) can."""
    with app.app_context(), force_locale("en"):
        karim = db.session.get(Member, people["Karim"].id)
        account = ledger.account_for(karim)
        db.session.commit()
        with pytest.raises(NotAllowed) as refused:
            ledger.set_limits(account, floor=-6000, ceiling=None, actor=karim, reason="More room for me")
        assert "your own account, so another coordinator has to do it" in str(refused.value)
        db.session.rollback()
        with pytest.raises(NotAllowed):
            ledger.set_status(account, "suspended", actor=karim, reason="Holiday")
        db.session.rollback()
        assert (account.floor_override, account.status) == (None, "open")
        assert count(AuditEvent) == 0


def test_a_suspended_members_account_reads_as_paused(app, client, people):
    """A suspended member's hours cannot move, whatever the account's own status says."""
    jan = people["Jan"]
    with app.app_context():
        db.session.get(Member, jan.id).status = "suspended"
        db.session.commit()
    login(client, people["Karim"])
    page = text_of(client.get(f"/account/members/{jan.id}", headers=EN))
    assert "This account is paused: no hours can go in or out now." in page
    assert "can still receive" not in page and "Give hours from the community fund" not in page
