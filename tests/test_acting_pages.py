"""Acting for an assisted member: every member page shows the member acted for, never the
coordinator's own name or figures (at a help desk the wrong balance would be read out), and its
heading names them instead of saying "My account"."""

import re

import pytest

from timebank.exchanges.transfers import give_hours
from timebank.extensions import db
from timebank.members.models import Member
from timebank.notifications import services as notes

from .conftest import login

# Governance is left out as a whole: voting stays personal while acting (governance/views.py).
# Pages that are about the coordinator or the whole neighbourhood, not about the member acted for.
NOT_MEMBER_PAGES = {
    "members.directory",  # lists every member, the coordinator too
}
# Pages that name whoever did something for the member, the coordinator acting now too.
NAMES_ACTORS = {"settings.history"}
# Pages that show the member's balance and so must show the resident's.
BALANCE_PAGES = {"core.index", "ledger.mine"}
# Pages about the member's own things: their heading names the member acted for.
NAMED_HEADINGS = {
    "ledger.mine",
    "exchanges.mine",
    "exchanges.give",
    "exchanges.new_group",
    "market.my_posts",
    "notifications.index",
    "notifications.settings",
    "settings.index",
    "settings.data",
    "settings.privacy",
    "settings.profile",
    "settings.history",
}


def heading(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


@pytest.fixture
def desk(app, make_member):
    """Coordinator Zwaan (2 h 15 min) acting for Mrs Bos (5 h 40 min)."""
    coordinator = make_member("Zwaan", role="coordinator", locale="en")
    bos = make_member("Mrs Bos", assisted=True)
    neighbour = make_member("Jan")
    with app.app_context():
        zwaan, mrs_bos, jan = (db.session.get(Member, m.id) for m in (coordinator, bos, neighbour))
        give_hours(jan, zwaan, 135, actor=jan)
        give_hours(jan, mrs_bos, 340, actor=jan)
        db.session.commit()
    return coordinator, bos


def member_pages(app) -> list[str]:
    """Every page a member reaches from the menu: GET, no arguments, not the API or a coordinator's."""
    endpoints = set()
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        if (
            "GET" in rule.methods
            and not rule.arguments
            and blueprint
            in {"core", "market", "exchanges", "notifications", "ledger", "settings", "members", "pots", "stats"}
            and rule.endpoint not in NOT_MEMBER_PAGES
        ):
            endpoints.add(rule.endpoint)
    return sorted(endpoints)


def test_every_member_page_shows_the_member_acted_for(app, client, desk):
    coordinator, bos = desk
    login(client, coordinator)
    client.post(f"/coordinate/members/{bos.id}/act")
    with app.test_request_context():
        from flask import url_for

        urls = {endpoint: url_for(endpoint) for endpoint in member_pages(app)}
    assert {"core.index", "ledger.mine", "exchanges.mine", "exchanges.give", "notifications.index"} <= set(urls)
    shown, wrong = 0, []
    for endpoint, url in urls.items():
        response = client.get(url, follow_redirects=True)
        page = response.get_data(as_text=True)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        shown += 1
        if ("Zwaan" in page and endpoint not in NAMES_ACTORS) or "2 hours 15 minutes" in page:
            wrong.append(f"{url} shows the coordinator's name or balance")
        if "Mrs Bos" not in page:
            wrong.append(f"{url} does not name Mrs Bos")
        if endpoint in BALANCE_PAGES and "5 hours 40 minutes" not in page:
            wrong.append(f"{url} does not show the balance of Mrs Bos")
        title = heading(page)
        if re.search(r"\b(My|Your|Mijn|Jouw)\b", title):
            wrong.append(f"{url} is headed “{title}”, as if it were the coordinator's own")
        if endpoint in NAMED_HEADINGS and "Mrs Bos" not in title:
            wrong.append(f"{url} is headed “{title}”, without naming Mrs Bos")
        for subheading in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.S):
            if re.search(r"\b(My|Mijn)\b", subheading):
                wrong.append(f"{url} has a part headed “{subheading.strip()}”, as if it were the coordinator's own")
        menu = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group(0)
        if re.search(r">\s*(My|Mijn) ", menu) or "Account of Mrs Bos" not in menu:
            wrong.append(f"{url} has a menu that says “My …” instead of naming Mrs Bos")
    assert wrong == []
    assert shown >= 10
    assert heading(client.get("/account").text) == "Account of Mrs Bos"


def test_the_statement_download_while_acting_is_the_residents(app, client, desk):
    coordinator, bos = desk
    login(client, coordinator)
    client.post(f"/coordinate/members/{bos.id}/act")
    body = client.get("/account/statement.csv").get_data(as_text=True)
    assert "340" in body or "5:40" in body or "5 h 40" in body
    assert "135" not in body


def test_pots_are_refused_while_acting(client, desk):
    coordinator, bos = desk
    login(client, coordinator)
    client.post(f"/coordinate/members/{bos.id}/act")
    response = client.get("/pots", follow_redirects=True)
    assert "Only Mrs Bos can use their pots" in response.get_data(as_text=True)
    assert client.get("/pots/common").status_code == 200  # the neighbourhood's pot is everyone's to read


def test_the_menu_counts_and_marks_read_the_notifications_of_the_member_acted_for(app, client, desk):
    coordinator, bos = desk
    with app.app_context():
        zwaan = db.session.get(Member, coordinator.id)
        for minutes in (10, 20):
            notes.notify(zwaan, "gift", actor=db.session.get(Member, bos.id), minutes=minutes)
        db.session.commit()  # Zwaan: three unread (with Jan's gift), Mrs Bos: one

    def menu_count() -> str:
        found = re.search(r'<span class="nav-count">(\d+)<', client.get("/").text)
        return found.group(1) if found else "none"

    login(client, coordinator)
    assert menu_count() == "3"
    client.post(f"/coordinate/members/{bos.id}/act")
    assert menu_count() == "1"
    client.post("/notifications/read")
    assert menu_count() == "none"
    client.post("/coordinate/stop-acting")
    assert menu_count() == "3"  # her notifications were marked read, not his
