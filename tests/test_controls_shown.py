"""Each page offers its reader only what they may do: a button that would answer "not allowed"
is one a resident should never see (the pages refuse the requests as well; their tests say so)."""

import re

import pytest

from .conftest import web

EN = {"Accept-Language": "en"}
MENU_ENTRIES = {
    "Coordination": "/coordinate",
    "Statistics": "/coordinate/statistics",
    "Community fund": "/account/fund",
    "Admin": "/admin",
}


def menu(page: str) -> set[str]:
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group(0)
    return {name for name, path in MENU_ENTRIES.items() if f'href="{path}"' in nav}


@pytest.mark.parametrize(
    ("who", "entries"),
    [
        ({"role": "member"}, set()),
        ({"role": "coordinator"}, {"Coordination", "Statistics", "Community fund"}),
        ({"role": "member", "is_admin": True}, {"Admin"}),
    ],
)
def test_the_menu_shows_coordination_and_administration_to_those_who_do_them(app, make_member, who, entries):
    member = make_member("Fatima", **who)
    assert menu(web(app, member).get("/account", headers=EN).text) == entries


def test_only_a_coordinator_is_offered_to_take_a_post_out_of_the_market(app, make_member, make_post):
    post = make_post(make_member("Fatima"), title="Warm soup")
    for who, offered in (({"role": "member"}, False), ({"role": "coordinator"}, True)):
        page = web(app, make_member("Jan", **who)).get(f"/market/posts/{post.id}", headers=EN).text
        assert ("Take this post out of the market" in page) is offered, who


def test_a_coordinator_is_offered_to_pause_a_resident_but_not_a_fellow_coordinator(app, make_member):
    karim = web(app, make_member("Karim", role="coordinator"))
    resident, fellow = make_member("Fatima"), make_member("Kees", role="coordinator")
    assert "Pause this member" in karim.get(f"/coordinate/members/{resident.id}", headers=EN).text
    page = karim.get(f"/coordinate/members/{fellow.id}", headers=EN)
    assert page.status_code == 200 and "Pause this member" not in page.text
