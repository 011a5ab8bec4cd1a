"""Callers of the API in every role the contract names, each with a bearer token (made directly,
without the slow password check) and English messages."""
from dataclasses import dataclass

import pytest

from timebank.api.auth import issue_token
from timebank.extensions import db
from timebank.members.models import Member

ROLES = ("member", "other_member", "coordinator", "other_coordinator", "anonymous")


@dataclass
class Caller:
    member: Member | None
    headers: dict


def token_headers(app, member: Member) -> dict:
    with app.app_context():
        _token, raw = issue_token(db.session.get(Member, member.id))
        db.session.commit()
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


@pytest.fixture
def callers(app, community, make_member, make_community) -> dict[str, Caller]:
    """Fatima (the member whose things are at stake), her neighbour Jan, their coordinator Karim,
    Olga who coordinates another community, and someone without a token."""
    elsewhere = make_community("noord", "Noord")
    people = {"member": make_member("Fatima"), "other_member": make_member("Jan"),
              "coordinator": make_member("Karim", role="coordinator"),
              "other_coordinator": make_member("Olga", role="coordinator", community_id=elsewhere.id)}
    found = {role: Caller(person, token_headers(app, person)) for role, person in people.items()}
    found["anonymous"] = Caller(None, {"Accept-Language": "en"})
    return found
