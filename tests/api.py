"""Callers of the API in every role the contract names, each with a bearer token (made directly,
without the slow password check) and English messages."""

from dataclasses import dataclass

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
