"""What the member services share: the limits, the refusals (MemberError, naming the form field at
fault), checking what people type, and telling the coordinators."""

import re

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from timebank.errors import DomainError
from timebank.extensions import db
from timebank.mail.services import queue_mail
from timebank.members.models import Member
from timebank.members.passwords import password_problem
from timebank.permissions import can_coordinate

NAME_MAX = 80
BIO_MAX = 1000
REASON_MAX = 1000
# Markup, control characters and the invisible signs that reverse text direction.
UNSAFE_IN_NAMES = re.compile(r"[<>\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{6,25}$")
# What these actions mean to the member they touched (listed in timebank/registry.py).
AUDIT_LABELS = {
    "member.acting_stopped": _l("stopped acting in the member's name"),
    "member.registered": _l("asked to join"),
    "member.joined": _l("joined the neighbourhood"),
    "member.join_requested": _l("confirmed the email address; the request went to the coordinators"),
    "member.approved": _l("accepted the request to join"),
    "member.rejected": _l("did not accept the request to join"),
    "member.created": _l("made the account"),
    "member.registered_assisted": _l("made the account, to help the member"),
    "member.profile_updated": _l("changed the profile"),
    "member.privacy_updated": _l("changed who may see contact details and hours"),
    "member.password_changed": _l("changed the password"),
    "member.password_reset": _l("chose a new password with an emailed link"),
    "member.email_change_requested": _l("asked to change the email address"),
    "member.email_changed": _l("changed the email address with an emailed link"),
    "member.email_change_cancelled": _l("said the email change asked for was not theirs; it was cancelled"),
    "member.email_change_undone": _l("said the email change was not theirs; the old address is back"),
    "member.logged_out_everywhere": _l("logged out on all devices"),
    "member.suspended": _l("paused the account"),
    "member.reactivated": _l("let the account back in"),
    "member.coordinator_appointed": _l("made the member a coordinator"),
    "member.coordinator_removed": _l("ended the member's role as coordinator"),
    "member.erasure_requested": _l("asked to erase the account"),
    "member.erased": _l("erased the account"),
    "member.acting_started": _l("started to act in the member's name"),
    "member.data_exported": _l("downloaded the data"),
}


class MemberError(DomainError):
    """Something asked of a member service cannot be done; `field` names the form field at fault."""


class MemberErrors(MemberError):
    """Several refusals at once (a join form with three mistakes names all three); each keeps
    its own field."""

    def __init__(self, refusals: list[MemberError]):
        super().__init__(refusals[0].message, refusals[0].field)
        self.refusals = refusals


class WrongPassword(MemberError):
    """The password typed to confirm a change is not the member's; counts as a failed login."""


class NotAllowed(MemberError):
    """The actor may not do this (e.g. a coordinator acting outside their own community)."""

    code = "forbidden"
    status = 403


def clean_name(name: str | None, field: str = "name") -> str:
    name = " ".join((name or "").split())
    if not name:
        raise MemberError(_l("Please fill in a name."), field)
    if len(name) > NAME_MAX:
        raise MemberError(_l("Please use a name of at most %(num)d characters.", num=NAME_MAX), field)
    if UNSAFE_IN_NAMES.search(name):
        raise MemberError(_l("A name cannot contain the signs < and > or other special signs."), field)
    return name


def clean_email(email: str | None) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise MemberError(_l("Please fill in a valid email address, like name@example.org."), "email") from None


def check_new_password(password: str, *, name: str = "", email: str = "", field: str = "password") -> None:
    problem = password_problem(password or "", name=name, email=email or "")
    if problem:
        raise MemberError(problem, field)


def _email_taken(email: str) -> bool:
    return db.session.scalar(sa.select(Member.id).where(Member.email == email)) is not None


def _ensure_email_free(email: str) -> None:
    if _email_taken(email):
        raise MemberError(
            _l(
                "There is already an account with this email address. "
                "Log in, or ask for a new password if you forgot it."
            ),
            "email",
        )


def _add_member(member: Member) -> Member:
    """Add a member; a second registration with the same address at the same moment is refused."""
    try:
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
    except IntegrityError:
        raise MemberError(
            _l(
                "There is already an account with this email address. "
                "Log in, or ask for a new password if you forgot it."
            ),
            "email",
        ) from None
    return member


def _require_coordinator(actor: Member, community_id: int) -> None:
    if not can_coordinate(actor, community_id):
        raise NotAllowed(_l("Only a coordinator of this neighbourhood can do this."))


def coordinators_of(community_id: int, *, besides: Member | None = None) -> list[Member]:
    stmt = (
        sa.select(Member)
        .where(Member.community_id == community_id, Member.role == "coordinator", Member.status == "active")
        .order_by(Member.id)
    )
    if besides is not None:
        stmt = stmt.where(Member.id != besides.id)
    return list(db.session.scalars(stmt))


def _tell_coordinators(community_id: int, template: str, besides: Member | None = None, **context) -> None:
    for coordinator in coordinators_of(community_id, besides=besides):
        queue_mail(coordinator, template, **context)
