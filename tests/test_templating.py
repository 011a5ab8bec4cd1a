"""Templates translate through the catalogue bound once per rendering: each reader still gets
their own language, and words from members stay escaped inside translated sentences."""

from timebank.communities.models import Community
from timebank.extensions import db

from .conftest import login


def test_each_member_reads_the_page_in_their_own_language(app, make_member, community):
    dutch, english = make_member("Fatima", locale="nl"), make_member("Jan", locale="en")
    with app.app_context():
        db.session.get(Community, community.id).name = "<b>Buurt</b>"
        db.session.commit()
    pages = {}
    for person in (dutch, english):
        client = app.test_client()
        login(client, person)
        pages[person.locale] = client.get("/members").text
    assert "Leden van &lt;b&gt;Buurt&lt;/b&gt;" in pages["nl"] and ">Markt<" in pages["nl"]
    assert "Members of &lt;b&gt;Buurt&lt;/b&gt;" in pages["en"] and ">Market<" in pages["en"]
    assert "<b>Buurt</b>" not in pages["nl"] + pages["en"]
