"""End to end in a real browser, as a resident on a small phone with JavaScript switched off:
Fatima offers a haircut, Jan asks for it, Fatima accepts and records the time, Jan confirms, and
the hours have moved. Set TIMEBANK_SCREENSHOTS=<folder> to keep a screenshot of every step."""

import re

from timebank.extensions import db
from timebank.ledger.services import account_for
from timebank.members.models import Member

from .browser import Phone, browser, live_url, needs_chromium, site_tour  # noqa: F401 (fixtures)

pytestmark = needs_chromium


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
    app, base = live_url
    pages = site_tour(app, make_member, make_post)
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
