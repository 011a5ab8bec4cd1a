"""On the smallest phones (320 and 360 px): every table readable without sideways scrolling (the
statement shows what, who and the balance, not only date and amount), and search results on the
first screen. Set TIMEBANK_SCREENSHOTS=<folder> to keep what the phone saw."""

import pytest

from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.members.models import Member

from .browser import Phone, browser, live_url, needs_chromium  # noqa: F401 (fixtures)

pytestmark = needs_chromium

# Whatever inside <main> is wider than the screen, or than the box that holds it (a table in a
# scrolling box would hide its last columns off-screen without the page itself growing). A stacked
# table's header row is there only for screen readers, one pixel wide.
OVERFLOWING = """() => {
  const screen = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('main table, main .table-scroll, main td, main th'))
    .filter(e => e.getClientRects().length && !(e.closest('thead') && e.closest('thead').clientWidth <= 1))
    .filter(e => e.getBoundingClientRect().right > screen + 1 || e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 40));
}"""


@pytest.fixture
def history(app, make_member, make_post):
    """Fatima El Amrani-Bakker helped, gave and got thanked, with long names and notes."""
    fatima = make_member("Fatima El Amrani-Bakker", locale="en")
    jan = make_member("Jan-Willem van den Berghe-Oosterhuis")
    karim = make_member("Karim Coördinator", role="coordinator", locale="en")
    for title in ("Bike repair", "Bike lights fixed", "Bike bell", "Bike tyre", "Bike chain oiled"):
        make_post(jan, title=title, minutes=60)
    with app.app_context():
        her, him = (ledger.account_for(db.session.get(Member, m.id)) for m in (fatima, jan))
        ledger.transfer(him, her, 90, kind="exchange", actor=None, memo="Repaired the bicycle's back wheel and gears")
        ledger.transfer(her, him, 15, kind="gift", actor=None, memo="Thank you for the lovely soup, Jan-Willem!")
        ledger.transfer(him, her, 45, kind="gift", actor=None, memo="Gezellig")
        db.session.commit()
    return fatima, karim


def pages_fit(phone: Phone, paths: list[str]) -> list[tuple[str, list[str]]]:
    wrong = []
    for path in paths:
        assert phone.go(path).status == 200, path
        phone.shot(path.strip("/").replace("/", "-") or "home")
        too_wide = phone.page.evaluate(OVERFLOWING)
        if phone.page.evaluate("document.documentElement.scrollWidth") > phone.page.viewport_size["width"]:
            too_wide.append("the page itself")
        if too_wide:
            wrong.append((path, too_wide))
    return wrong


@pytest.mark.parametrize("width", [320, 360])
def test_statements_and_tables_fit_a_phone(live_url, browser, history, width):  # noqa: F811 (fixtures)
    _app, base = live_url
    fatima, karim = history
    her = Phone(browser, base, f"fatima-{width}", width=width)
    her.log_in(fatima.email)
    assert pages_fit(her, ["/account", "/pots/common", "/decide/decisions"]) == []
    her.go("/account")
    text = her.text()
    # What, who and the balance are on the screen, each cell saying which column it is.
    for words in (
        "thank-you from Jan-Willem",
        "Jan-Willem van den Berghe-Oosterhuis",
        "2 hours",
        "exchange: Repaired the bicycle",
    ):
        assert words in text
    labels = her.page.evaluate("""() => Array.from(document.querySelectorAll('.ledger-statement tbody tr'))[0]
        .querySelectorAll('td').values().map(td => getComputedStyle(td, '::before').content).toArray()""")
    assert labels == ['"When: "', '"Amount: "', '"What: "', '"With: "', '"Balance: "']
    her.context.close()

    him = Phone(browser, base, f"karim-{width}", width=width)
    him.log_in(karim.email)
    wrong = pages_fit(
        him,
        [
            f"/account/members/{fatima.id}",
            "/account/fund",
            "/coordinate/statistics",
            "/coordinate/members",
            "/market/manage",
        ],
    )
    assert wrong == [], "\n".join(map(str, wrong))
    him.context.close()


def test_search_results_start_on_the_first_screen(live_url, browser, history):  # noqa: F811 (fixtures)
    _app, base = live_url
    fatima, _karim = history
    her = Phone(browser, base, "fatima-search", width=360)
    her.log_in(fatima.email)
    her.go("/market?q=bike&kind=offer")
    her.shot("search")
    first = her.page.locator("main .post-list > li").first.bounding_box()
    assert first is not None and first["y"] < her.page.viewport_size["height"] - 80
    # The buttons and chips are still there, after the results.
    assert her.page.get_by_role("link", name="I can offer…").count() == 1
