"""Everything the time bank holds about a member (GDPR art. 15 and 20), as one JSON document or
as a zip of CSV files.

Each domain adds its own section: timebank/registry.py lists them all and registers each with
`register_exporter("ledger", fn)`, where `fn(member)` returns one record (a dict) or rows (a list
of dicts). Values may be str, int, bool, None,
datetimes, lists and dicts."""

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.db import utcnow
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.members.models import JoinRequest, Member, MemberToken
from timebank.spreadsheets import safe_cell

Section = dict | list[dict]
EXPORTERS: dict[str, Callable[[Member], Section]] = {}


def register_exporter(name: str, exporter: Callable[[Member], Section]) -> None:
    """Add a section to every member's export; registering a name again replaces it."""
    EXPORTERS[name] = exporter


def collect(member: Member) -> dict[str, Section]:
    return {name: exporter(member) for name, exporter in EXPORTERS.items()}


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


def as_json(member: Member) -> str:
    document = {"exported_at": utcnow(), "member_id": member.id, **collect(member)}
    return json.dumps(document, default=_json_value, ensure_ascii=False, indent=2)


def _csv(section: Section) -> str:
    rows = [{"field": key, "value": value} for key, value in section.items()] if isinstance(section, dict) else section
    columns = list(dict.fromkeys(key for row in rows for key in row)) or ["field", "value"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()


def as_csv_zip(member: Member) -> bytes:
    """One CSV file per section, with a byte-order mark so spreadsheets read the accents right."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, section in collect(member).items():
            archive.writestr(f"{name}.csv", "\ufeff" + _csv(section))
    return buffer.getvalue()


# The members domain's own sections.


def export_profile(member: Member) -> dict:
    return {
        "id": member.id,
        "community": member.community.name,
        "name": member.name,
        "email": member.email,
        "email_confirmed_at": member.email_confirmed_at,
        "phone": member.phone,
        "role": member.role,
        "status": member.status,
        "administrator": member.is_admin,
        "assisted": member.assisted,
        "language": member.locale,
        "bio": member.bio,
        "area": member.area.name if member.area else None,
        "skills": [category.name(member.locale or "en") for category in member.skills],
        "languages_spoken": member.languages,
        "photo_id": member.photo_id,
        "email_shown_to": member.show_email_to,
        "phone_shown_to": member.show_phone_to,
        "balance_shown_to": member.show_balance_to,
        "joined_at": member.created_at,
        "erasure_requested_at": member.erasure_requested_at,
        # Links forget their address once used or replaced, so there is at most one.
        "email_change_asked_for": db.session.scalar(
            sa.select(MemberToken.new_email).where(
                MemberToken.member_id == member.id, MemberToken.purpose == "email", MemberToken.new_email.is_not(None)
            )
        ),
        # Old addresses that "this was not me" links can still bring back.
        "old_email_addresses_kept_for_undo": sorted(
            set(
                db.session.scalars(
                    sa.select(MemberToken.new_email).where(
                        MemberToken.member_id == member.id,
                        MemberToken.purpose == "undo_email",
                        MemberToken.new_email.is_not(None),
                    )
                )
            )
        ),
    }


def export_join_history(member: Member) -> list[dict]:
    requests = db.session.scalars(
        sa.select(JoinRequest).where(JoinRequest.member_id == member.id).order_by(JoinRequest.id)
    )
    return [
        {
            "community": r.community.name,
            "state": r.state,
            "created_at": r.created_at,
            "confirmed_at": r.submitted_at,
            "decided_at": r.decided_at,
            "decided_by": r.decided_by.name if r.decided_by else None,
            "reason": r.reason,
            "house_rules_accepted": r.house_rules,
            "why_i_join": r.motivation,
            "join_question": r.question,
            "my_answer": r.answer,
        }
        for r in requests
    ]


def export_audit_events(member: Member) -> list[dict]:
    """What the member did, what was done for them, and what was decided about them."""
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            sa.or_(
                AuditEvent.actor_id == member.id,
                AuditEvent.on_behalf_of_id == member.id,
                sa.and_(AuditEvent.subject_type == "members", AuditEvent.subject_id == member.id),
            )
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    return [
        {
            "at": e.created_at,
            "action": e.action,
            "by": e.actor.name if e.actor else None,
            "on_behalf_of": e.on_behalf_of.name if e.on_behalf_of else None,
            "subject": f"{e.subject_type}:{e.subject_id}" if e.subject_type else None,
            "reason": e.reason,
            "details": e.details,
        }
        for e in events
    ]


def export_mail(member: Member) -> list[dict]:
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.member_id == member.id).order_by(OutboxMessage.id)
    )
    return [
        {
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "to": m.to_address,
            "subject": m.subject,
            "body": m.body_text,
        }
        for m in messages
    ]
