"""The live server, the browser and the phone that the browser tests share, and the tour of the
site they take: the same pages for the 320 px check and the accessibility check.

Needs Chromium (Debian: `apt-get install chromium`); .ci/run installs it when it is missing."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from timebank.extensions import db
from timebank.governance import services as governance
from timebank.members.models import Member
from timebank.pots import services as pots

from .conftest import ON_POSTGRES, PASSWORD, empty_postgres, make_app

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# CI sets REQUIRE_BROWSER=1: there a missing Chromium fails these tests instead of skipping them,
# so the run cannot go green without them.
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not REQUIRE_BROWSER,
    reason="Chromium is not installed (REQUIRE_BROWSER=1 makes this a failure)",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_url(db_url, tmp_path):
    """The app served over real HTTP, with CSRF on as in production. It empties PostgreSQL after
    itself, as `app` does: a test that asks only for this fixture leaves no rows for the next."""
    app = make_app(db_url, SERVER_NAME=None, WTF_CSRF_ENABLED=True, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.session.remove()
        if ON_POSTGRES:
            empty_postgres()
        db.engine.dispose()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Chromium is not installed and REQUIRE_BROWSER=1: the browser tests must run "
            "(Debian: apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Phone:
    """One person's phone: a small screen, English, no JavaScript (unless a test needs it to
    look at the page from inside)."""

    def __init__(self, browser, base: str, who: str, width: int = 360, locale: str = "en-GB", javascript: bool = False):
        self.context = browser.new_context(
            viewport={"width": width, "height": 740}, locale=locale, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.base, self.who, self.step = base, who, 0

    def go(self, path: str):
        return self.page.goto(self.base + path)

    def shot(self, name: str):
        folder = os.environ.get("TIMEBANK_SCREENSHOTS")
        if folder:
            self.step += 1
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=f"{folder}/{self.who}-{self.step:02d}-{name}.png", full_page=True)

    def log_in(self, email: str, password: str = PASSWORD):
        self.go("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.submit()

    def submit(self):
        """Press the form's button and wait until the next page has loaded with its stylesheet:
        a check made on a page still loading would see it without its CSS."""
        with self.page.expect_navigation(wait_until="load"):
            self.page.locator("main button[type=submit]").click()

    def text(self) -> str:
        return self.page.inner_text("main")


def site_tour(app, make_member, make_post) -> dict:
    """The pages a visitor, a member (Fatima), a coordinator (Karim) and an administrator (Ada) see,
    keyed by who: about 55.
    Karim's proposal is open for votes and Fatima saves in a pot, so those pages show them."""
    fatima = make_member("Fatima El Amrani")
    karim = make_member("Karim Coördinator", role="coordinator")
    ada = make_member("Ada Beheerder", is_admin=True)
    post = make_post(fatima, title="Haircut at your home, with my own scissors and a mirror", minutes=60)
    with app.app_context():
        proposal = governance.create_proposal(
            db.session.get(Member, karim.id),
            title="A bench by the pond for the neighbours who walk there every morning",
            body="It would cost the fund ten hours of work.",
            options=["Yes, a bench", "No bench", "Two benches, one in the shade"],
        )
        pot = pots.open_pot(db.session.get(Member, fatima.id), "A bicycle for my daughter", 600)
        db.session.commit()
        proposal_id, pot_id = proposal.id, pot.id
    return {
        None: ["/login", "/join/buurt", "/password/forgot", "/hours"],
        fatima: [
            "/",
            "/market",
            f"/market/posts/{post.id}",
            "/market/offers/new",
            "/market/requests/new",
            f"/market/posts/{post.id}/edit",
            "/market/mine",
            "/exchanges",
            "/exchanges/give",
            "/exchanges/group/new",
            "/account",
            "/members",
            f"/members/{fatima.id}",
            "/notifications",
            "/notifications/settings",
            "/settings",
            "/settings/profile",
            "/settings/privacy",
            "/settings/email",
            "/settings/password",
            "/settings/done-for-you",
            "/settings/data",
            "/reports",
            "/decide",
            "/decide/decisions",
            "/decide/new",
            f"/decide/{proposal_id}",
            "/pots",
            f"/pots/{pot_id}",
            "/pots/common",
        ],
        karim: [
            "/coordinate",
            "/coordinate/members",
            f"/coordinate/members/{fatima.id}",
            "/coordinate/members/new",
            "/coordinate/requests",
            "/account/rules",
            "/account/fund",
            f"/account/members/{fatima.id}",
            "/coordinate/community",
            "/exchanges/coordinate",
            "/exchanges/grant",
            "/exchanges/slip",
            "/market/manage",
            f"/market/posts/{post.id}",
            "/coordinate/statistics",
            "/coordinate/statistics?period=last_12_months",
            "/coordinate/log",
            "/coordinate/reports",
            f"/report/profile/{fatima.id}",
            "/decide/settings",
            f"/decide/{proposal_id}",
            "/coordinate/links",
        ],
        ada: [
            "/admin",
            f"/admin/communities/{fatima.community_id}",
            "/admin/links",
            "/admin/log",
            "/admin/statistics",
        ],
    }
