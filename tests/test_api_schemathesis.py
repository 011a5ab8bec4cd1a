"""Property-based contract test: schemathesis generates requests from our OpenAPI document and
checks that nothing answers 5xx, every answer matches the document, and authentication is enforced."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from timebank.api.auth import issue_token, token_hash
from timebank.exchanges import services as exchanges
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.market.models import Post
from timebank.members.models import Member

from .conftest import make_app

# Known before any test runs: schemathesis builds some cases (its coverage phase) when it
# collects the tests, before a fixture could make a token.
TOKEN = "tb_schemathesis-caller"


class CurrentApp:
    """A WSGI app that forwards to the app of the test being run (each test has its own database)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


current = CurrentApp(make_app("sqlite://"))  # this first app only serves the document
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", current)
# Business rules the document cannot express (a category of another community, a title of only
# spaces, 25 hours) are the services' to refuse, with 422 and the field, as on the web pages.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "403", "404", "409", "422", "429"]
)


@schema.auth(refresh_interval=None)
class BearerToken:
    """The caller's token. Given as schemathesis auth (not as extra headers), so a
    case that leaves the header out on purpose is sent without it, and `ignored_auth` checks that
    calls without a token or with a wrong one are refused."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@pytest.fixture
def caller(db_url, member, make_member, make_post):
    """A fresh app (generous rate limit: this test is about the contract) and TOKEN for the caller,
    who has posts, a statement, an exchange under way and a notification with low ids, which
    generated ids often hit."""
    make_post(member)
    make_post(member, kind="request", is_gift=True, minutes=0)
    neighbour = make_member("Jan")
    offer = make_post(neighbour, "Bike repair", minutes=60)
    current.app = make_app(db_url, API_RATELIMIT="100000 per minute")
    with current.app.app_context():
        caller, jan = db.session.get(Member, member.id), db.session.get(Member, neighbour.id)
        ledger.transfer(
            ledger.account_for(jan), ledger.account_for(caller), 90, kind="exchange", actor=None, memo="Soup"
        )
        exchange = exchanges.propose(db.session.get(Post, offer.id), caller, 60, actor=caller, message="Today?")
        exchanges.accept(exchange, actor=jan)
        token, _raw = issue_token(caller)
        token.token_hash = token_hash(TOKEN)
        db.session.commit()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, caller):
    case.call_and_validate()
