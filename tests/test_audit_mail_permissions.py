"""The shared pieces every domain uses: audit log, outbox, permission predicates."""

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, DictLoader

from timebank.audit.models import AuditEvent
from timebank.audit.services import record
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.mail.services import queue_mail
from timebank.members.models import MemberToken
from timebank.members.services import request_password_reset
from timebank.permissions import can_act_for, can_administer, can_coordinate, is_member_of

pytestmark = pytest.mark.usefixtures("ctx")


def test_audit_event_is_kept_with_the_action_or_not_at_all(make_member):
    coordinator = make_member("Karim", role="coordinator")
    assisted = make_member("Wilma", assisted=True)
    record("post.created", actor=coordinator, on_behalf_of=assisted, subject=assisted, reason="paper form")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0

    event = record("post.created", actor=coordinator, on_behalf_of=assisted, subject=assisted, title="Soup")
    db.session.commit()
    assert event.community_id == assisted.community_id
    assert (event.subject_type, event.subject_id, event.details) == ("members", assisted.id, {"title": "Soup"})


def test_an_email_is_sent_only_if_what_caused_it_is_kept(app, make_member):
    """The outbox shares the transaction of the event: a reset that is rolled back mails nobody,
    and no event is kept whose email got lost."""
    fatima = make_member("Fatima")
    with app.test_request_context():
        request_password_reset(fatima.email)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
        request_password_reset(fatima.email)
        db.session.commit()
    [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (mail.to_address, mail.kind) == (fatima.email, "password_reset")
    assert db.session.scalar(sa.select(sa.func.count(MemberToken.id))) == 1


def test_mail_is_rendered_in_the_recipients_language(app, make_member):
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader({"mail/hello.txt": "{{ _('Welcome') }}\n\n{{ _('Hello %(name)s!', name=member.name) }}"}),
            app.jinja_env.loader,
        ]
    )
    dutch = make_member("Anouk", locale="nl")
    english = make_member("Priya", locale="en")
    with app.test_request_context():
        queue_mail(dutch, "hello")
        queue_mail(english, "hello")
        assert queue_mail(make_member("Henk", email=None, assisted=True), "hello") is None
    db.session.commit()
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.subject, m.body_text, m.sent_at) for m in messages] == [
        ("Welkom", "Hallo Anouk!\n", None),
        ("Welcome", "Hello Priya!\n", None),
    ]


def test_coordinator_powers_end_at_the_community_border(make_community, make_member):
    other = make_community("noord", "Noord")
    coordinator = make_member("Karim", role="coordinator")
    neighbour = make_member("Jan")
    stranger = make_member("Olena", community_id=other.id)
    assert can_coordinate(coordinator, coordinator.community_id)
    assert not can_coordinate(coordinator, other.id)
    assert not can_coordinate(neighbour, neighbour.community_id)
    assert can_act_for(coordinator, neighbour) and can_act_for(neighbour, neighbour)
    assert not can_act_for(coordinator, stranger) and not can_act_for(neighbour, coordinator)
    assert is_member_of(stranger, other.id) and not is_member_of(stranger, coordinator.community_id)
    assert not can_administer(coordinator)


def test_suspended_coordinator_has_no_powers(make_member):
    coordinator = make_member("Karim", role="coordinator", status="suspended")
    assert not can_coordinate(coordinator, coordinator.community_id)
