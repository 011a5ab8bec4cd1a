"""Property-based contract test: schemathesis generates requests from our OpenAPI document and
checks that nothing answers 5xx, every answer matches the document, and authentication is enforced."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from timebank.api.auth import issue_token
from timebank.extensions import db
from timebank.members.models import Member

from .conftest import make_app


class CurrentApp:
    """A WSGI app that forwards to the app of the test being run (each test has its own database)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


current = CurrentApp(make_app("sqlite://"))  # this first app only serves the document
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", current)


@pytest.fixture
def bearer_headers(db_url, member):
    """A fresh app (generous rate limit: this test is about the contract) and a token for it."""
    current.app = make_app(db_url, API_RATELIMIT="100000 per minute")
    with current.app.app_context():
        _token, raw = issue_token(db.session.get(Member, member.id))
        db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, bearer_headers):
    case.call_and_validate(headers=bearer_headers)
