"""The README's screenshots, taken by a real browser from the running app with the demo
neighbourhood, so they show what the app does today. Every run takes them all (a page that
fails to show fails the test); `TIMEBANK_README_SCREENSHOTS=1` also writes them into
docs/screenshots/ for the README (commit them):

    TIMEBANK_README_SCREENSHOTS=1 .venv/bin/pytest tests/test_screenshots.py
"""

import os
import re
from pathlib import Path

import sqlalchemy as sa

from timebank.demo import names
from timebank.demo.seed import seed
from timebank.exchanges.models import Exchange, Participant
from timebank.extensions import db
from timebank.members.models import Member

from .browser import Phone, browser, live_url, needs_chromium  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "screenshots"
PHONE, DESKTOP, A4 = 360, 1280, 794
# name: (who, path, width, what to capture: "page", "screen" (the first screen) or a CSS selector)
SHOTS = {
    "home": ("fatima", "/", PHONE, "screen"),
    "market": ("fatima", "/market", PHONE, "screen"),
    "exchange": ("fatima", "{exchange}", PHONE, "page"),
    "account": ("fatima", "/account", PHONE, "screen"),
    "my-impact": ("fatima", "/account", PHONE, ".stats-impact"),
    "join": (None, "/join/buurt", PHONE, "page"),
    "how-hours-work": ("fatima", "/hours", PHONE, "page"),
    "join-requests": ("coordinator", "/coordinate/requests", PHONE, "page"),
    "coordination": ("coordinator", "/coordinate", DESKTOP, "page"),
    "statistics-phone": ("coordinator", "/coordinate/statistics?period=last_12_months", PHONE, "screen"),
    "statistics-desktop": ("coordinator", "/coordinate/statistics?period=last_12_months", DESKTOP, "page"),
    "report-page": ("coordinator", "/coordinate/statistics/report.html?period=last_12_months", A4, "screen"),
}


def test_the_readme_shows_exactly_the_screenshots_taken_here():
    shown = set(re.findall(r'src="(?:docs/screenshots/)([\w-]+)\.png"', (ROOT / "README.md").read_text()))
    assert shown == set(SHOTS)
    assert "static/img/screenshots" not in (ROOT / "README.md").read_text()


@needs_chromium
def test_readme_screenshots_come_from_the_running_app(live_url, browser, tmp_path):  # noqa: F811 (fixtures)
    app, base = live_url
    with app.app_context():
        seed(members=40, months=6, seed=1)
        db.session.commit()
        fatima = db.session.scalar(sa.select(Member).where(Member.email == "fatima@example.org"))
        exchange_id = db.session.scalar(
            sa.select(Exchange.id)
            .join(Participant)
            .where(Participant.member_id == fatima.id, Exchange.state == "accepted")
            .order_by(Exchange.id)
        )
        assert exchange_id is not None
    folder = FOLDER if os.environ.get("TIMEBANK_README_SCREENSHOTS") == "1" else tmp_path
    phones: dict[tuple, Phone] = {}
    for name, (who, path, width, capture) in SHOTS.items():
        phone = phones.get((who, width))
        if phone is None:
            phone = phones[(who, width)] = Phone(browser, base, who or "visitor", width=width, locale="en-GB")
            if who:
                phone.log_in(f"{who}@example.org", names.DEMO_PASSWORD)
        response = phone.go(path.format(exchange=f"/exchanges/{exchange_id}"))
        assert response.status == 200, (name, response.status)
        target = folder / f"{name}.png"
        if capture in ("page", "screen"):
            phone.page.screenshot(path=target, full_page=capture == "page")
        else:
            phone.page.locator(capture).screenshot(path=target)
        assert target.stat().st_size > 5000, name
    for phone in phones.values():
        phone.context.close()
