"""The audit log is as trustworthy as the ledger: the database refuses to change, delete or empty
it, erasure never needs to, and sign-ins live in a log of their own that is pruned after 90 days."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from timebank.audit.models import AuditEvent
from timebank.audit.services import record
from timebank.db import utcnow
from timebank.extensions import db
from timebank.members.export import collect
from timebank.members.models import Member
from timebank.members.services import erase_member
from timebank.members.sign_in_log import SignInEvent, prune_sign_ins

from .conftest import ON_POSTGRES, PASSWORD, count, login

REFUSED = "audit log is never changed or deleted"


def _rows():
    return db.session.execute(
        sa.select(
            AuditEvent.id, AuditEvent.action, AuditEvent.actor_id, AuditEvent.reason, AuditEvent.details
        ).order_by(AuditEvent.id)
    ).all()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET reason = 'forged'",
        "UPDATE audit_events SET actor_id = NULL",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE action = 'member.suspended'",
        pytest.param("TRUNCATE audit_events", marks=pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only")),
        pytest.param(
            "TRUNCATE audit_events CASCADE", marks=pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only")
        ),
    ],
)
def test_the_database_refuses_to_change_or_delete_the_audit_log(ctx, member, sql):
    record("member.suspended", actor=None, subject=member, reason="Rude to a neighbour.")
    db.session.commit()
    before = _rows()
    with pytest.raises(sa.exc.IntegrityError, match=REFUSED):
        db.session.execute(sa.text(sql))
    db.session.rollback()
    assert _rows() == before and len(before) == 1


def test_the_orm_cannot_change_an_audit_row_either(ctx, member):
    event = record("member.suspended", actor=None, subject=member, reason="Rude.")
    db.session.commit()
    event.reason = "Nothing happened."
    with pytest.raises(sa.exc.IntegrityError, match=REFUSED):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(sa.exc.IntegrityError, match=REFUSED):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).reason == "Rude."


def test_erasure_works_with_an_immutable_log_and_leaves_it_as_it_was(ctx, make_member):
    fatima = make_member("Fatima", phone="0612345678")
    karim = make_member("Karim", role="coordinator")
    record("member.profile_updated", actor=fatima, subject=fatima)
    record("member.suspended", actor=karim, subject=fatima, reason="A pause she asked for.")
    db.session.commit()
    before = _rows()
    erase_member(fatima, actor=karim, reason="She asked.")
    db.session.commit()
    after = _rows()
    assert after[: len(before)] == before  # nothing rewritten: rows point at her id, not her name
    assert [row.action for row in after[len(before) :]] == ["member.erased"]
    erased = db.session.get(Member, fatima.id)
    assert erased.status == "erased" and erased.phone is None and "Fatima" not in erased.name
    # The log still reads, by the erased member's new name.
    events = collect(erased)["audit_events"]
    assert {e["by"] for e in events} == {erased.name, "Karim"}


def test_web_and_api_sign_ins_and_failures_go_to_the_sign_in_log_not_the_audit_log(app, client, member):
    login(client, member)
    client.post("/logout")
    client.post("/login", data={"email": member.email, "password": "wrong password"})
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong password"})
    client.post("/api/v1/tokens", json={"email": member.email, "password": PASSWORD})
    client.post("/api/v1/tokens", json={"email": member.email, "password": "wrong"})
    with app.app_context():
        rows = db.session.execute(
            sa.select(SignInEvent.member_id, SignInEvent.outcome, SignInEvent.channel).order_by(SignInEvent.id)
        ).all()
        assert rows == [
            (member.id, "signed_in", "web"),
            (member.id, "failed", "web"),
            (None, "failed", "web"),
            (member.id, "signed_in", "api"),
            (member.id, "failed", "api"),
        ]
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(
                    AuditEvent.action.like("%login%") | AuditEvent.action.like("%sign%")
                )
            )
            == 0
        )
        sections = collect(db.session.get(Member, member.id))
        assert [(s["outcome"], s["channel"]) for s in sections["sign_ins"]] == [
            ("failed", "api"),
            ("signed_in", "api"),
            ("failed", "web"),
            ("signed_in", "web"),
        ]


def test_a_refused_wait_is_logged_too(app, client, member):
    for _ in range(6):
        client.post("/login", data={"email": member.email, "password": "wrong password"})
    refused = client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert refused.status_code == 429
    with app.app_context():
        assert db.session.scalars(sa.select(SignInEvent.outcome).order_by(SignInEvent.id.desc())).first() == "refused"


def test_the_sign_in_log_is_pruned_after_90_days_and_the_audit_log_never(app, runner, member):
    with app.app_context():
        now = utcnow()
        for days in (1, 89, 91, 400):
            db.session.add(
                SignInEvent(
                    member_id=member.id,
                    community_id=member.community_id,
                    outcome="signed_in",
                    channel="web",
                    created_at=now - timedelta(days=days),
                )
            )
        old = record("member.suspended", actor=None, subject=db.session.get(Member, member.id))
        old_id = old.id
        db.session.commit()
    result = runner.invoke(args=["members", "prune-sign-ins"])
    assert result.exit_code == 0 and "Forgot 2 sign-ins" in result.output
    with app.app_context():
        assert count(SignInEvent) == 2 and db.session.get(AuditEvent, old_id) is not None
        assert prune_sign_ins(now=utcnow() + timedelta(days=2)) == 1  # the one of 89 days


def test_erasure_forgets_the_members_sign_ins(ctx, make_member):
    fatima, karim = make_member("Fatima"), make_member("Karim", role="coordinator")
    db.session.add_all(
        [
            SignInEvent(member_id=fatima.id, community_id=fatima.community_id, outcome=o, channel="web")
            for o in ("signed_in", "failed")
        ]
        + [SignInEvent(member_id=karim.id, community_id=karim.community_id, outcome="signed_in", channel="web")]
    )
    db.session.commit()
    erase_member(fatima, actor=karim)
    db.session.commit()
    assert db.session.scalars(sa.select(SignInEvent.member_id)).all() == [karim.id]
