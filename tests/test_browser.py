"""End to end in a real browser, as a resident on a small phone with JavaScript switched off:
Fatima offers a haircut, Jan asks for it, Fatima accepts and records the time, Jan confirms, and
the hours have moved. Set TIMEBANK_SCREENSHOTS=<folder> to keep a screenshot of every step.

Needs Chromium (Debian: `apt-get install chromium`); .ci/run installs it when it is missing."""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from timebank.extensions import db
from timebank.ledger.services import account_for
from timebank.members.models import Member

from .conftest import PASSWORD, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_url(db_url, tmp_path):
    """The app served over real HTTP, with CSRF on as in production."""
    app = make_app(db_url, SERVER_NAME=None, WTF_CSRF_ENABLED=True, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Phone:
    """One person's phone: a small screen, English, no JavaScript."""

    def __init__(self, browser, base: str, who: str, width: int = 360):
        self.context = browser.new_context(viewport={"width": width, "height": 740}, locale="en-GB",
                                           java_script_enabled=False)
        self.page = self.context.new_page()
        self.base, self.who, self.step = base, who, 0

    def go(self, path: str):
        self.page.goto(self.base + path)

    def shot(self, name: str):
        folder = os.environ.get("TIMEBANK_SCREENSHOTS")
        if folder:
            self.step += 1
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=f"{folder}/{self.who}-{self.step:02d}-{name}.png", full_page=True)

    def log_in(self, email: str):
        self.go("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.get_by_role("button", name="Log in").last.click()

    def text(self) -> str:
        return self.page.inner_text("main")


def test_a_haircut_from_offer_to_settled_hours(live_url, browser, make_member):
    app, base = live_url
    fatima = make_member("Fatima El Amrani")
    jan = make_member("Jan de Vries")

    her = Phone(browser, base, "fatima")
    her.log_in(fatima.email)
    her.shot("home")
    her.go("/market/offers/new")
    her.page.fill("#title", "Haircut at your home")
    her.page.select_option("#category_id", label="Hair")
    her.page.fill("#description", "I cut hair for men, women and children.\nI bring my own scissors.")
    her.page.fill("#time_hours", "1")
    her.shot("new-offer")
    her.page.get_by_role("button", name=re.compile("Place|Publish|Save", re.I)).first.click()
    assert "Haircut at your home" in her.text()
    post_url = her.page.url

    him = Phone(browser, base, "jan")
    him.log_in(jan.email)
    him.go("/market")
    assert "Haircut at your home" in him.text()
    him.shot("market")
    him.page.goto(post_url)
    him.shot("post")
    him.page.fill("#message", "Saturday morning would be great.")
    him.page.get_by_role("button", name="Ask Fatima for this").click()
    assert "Fatima" in him.text()
    exchange_url = him.page.url
    him.shot("proposed")

    her.page.goto(exchange_url)
    assert "Saturday morning would be great." in her.text()
    her.page.get_by_role("button", name="Accept").click()
    her.page.fill("#hours", "1")
    her.page.fill("#minutes", "30")
    her.page.get_by_role("button", name="Record the time").click()
    her.shot("recorded")

    him.page.goto(exchange_url)
    assert "1 hour 30 minutes" in him.text()
    him.page.get_by_role("button", name="Confirm: the hours move").click()
    him.shot("completed")
    assert him.page.get_by_role("button", name="Confirm: the hours move").count() == 0
    him.go("/account")
    assert "−1 hour 30 minutes" in him.text()
    him.shot("account")

    with app.app_context():
        assert account_for(db.session.get(Member, fatima.id)).balance == 90
        assert account_for(db.session.get(Member, jan.id)).balance == -90


def test_every_page_fits_a_320_pixel_screen(live_url, browser, make_member, make_post):
    """The smallest phones in use: nothing may stick out sideways (no horizontal scrolling)."""
    _app, base = live_url
    fatima = make_member("Fatima El Amrani")
    karim = make_member("Karim Coördinator", role="coordinator")
    post = make_post(fatima, title="Haircut at your home, with my own scissors and a mirror", minutes=60)
    pages = {
        None: ["/login", "/join/buurt", "/password/forgot"],
        fatima: ["/", "/market", f"/market/posts/{post.id}", "/market/offers/new", "/market/mine", "/exchanges",
                 "/account", "/members", f"/members/{fatima.id}", "/notifications", "/settings",
                 "/settings/profile", "/settings/privacy", "/settings/email", "/settings/data"],
        karim: ["/coordinate", "/coordinate/members", "/account/rules", "/account/fund",
                f"/account/members/{fatima.id}", "/coordinate/community", "/exchanges/coordinate"],
    }
    too_wide = []
    for person, paths in pages.items():
        phone = Phone(browser, base, person.name if person else "visitor", width=320)
        if person:
            phone.log_in(person.email)
        for path in paths:
            response = phone.page.goto(base + path)
            assert response.status == 200, path
            width = phone.page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                too_wide.append((path, width))
        phone.context.close()
    assert too_wide == []
