"""web.submit, the one commit point of the pages: a change goes through and is committed once, or
is undone completely and the refusal is shown where the person will look for it."""

from types import SimpleNamespace

import pytest
from flask import get_flashed_messages

from timebank.errors import DomainError
from timebank.exchanges.errors import AlreadyDone
from timebank.extensions import db
from timebank.members.models import Member
from timebank.web.submit import submit


class Full(DomainError):
    """A refusal that names no field, as a balance limit does."""


def box():
    return SimpleNamespace(errors=[])


@pytest.fixture
def page(app, member):
    """A request in which Fatima's profile can be changed, and a form with a few boxes."""
    with app.test_request_context("/settings/profile", method="POST"):
        yield db.session.get(Member, member.id), SimpleNamespace(bio=box(), hours=box(), reason=box())


def bio_of(member_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Member, member_id).bio


def change_then_refuse(member, refusal):
    def call():
        member.bio = "Half-written"
        db.session.flush()
        raise refusal

    return call


def test_a_change_that_goes_through_is_committed_once(page):
    fatima, form = page
    member_id = fatima.id

    def call():
        fatima.bio = "I mend clothes."
        return "done"

    outcome = submit(call, form)
    db.session.rollback()  # nothing left to undo: it was committed
    assert outcome and outcome.value == "done" and bio_of(member_id) == "I mend clothes."
    assert all(f.errors == [] for f in vars(form).values())


def test_a_refusal_undoes_everything_and_sits_next_to_its_box(page):
    fatima, form = page
    member_id = fatima.id
    outcome = submit(change_then_refuse(fatima, DomainError("Please keep it short.", "bio")), form)
    assert not outcome and bio_of(member_id) == ""
    assert form.bio.errors == ["Please keep it short."] and get_flashed_messages() == []


def test_a_services_name_or_a_refusals_class_finds_the_forms_box(page):
    fatima, form = page
    fields = {"minutes": "hours", Full: "reason"}
    submit(change_then_refuse(fatima, DomainError("At most 8 hours.", "minutes")), form, fields=fields)
    submit(change_then_refuse(fatima, Full("The fund is empty.")), form, fields=fields)
    assert form.hours.errors == ["At most 8 hours."] and form.reason.errors == ["The fund is empty."]


def test_a_refusal_without_a_box_is_said_at_the_top_in_its_own_tone(page):
    fatima, form = page
    submit(change_then_refuse(fatima, DomainError("Not possible.", "nowhere")), form)
    submit(change_then_refuse(fatima, AlreadyDone()))
    assert get_flashed_messages(with_categories=True) == [("error", "Not possible."), ("info", str(AlreadyDone()))]


def test_a_passed_through_refusal_is_undone_and_raised_for_the_page_to_explain(page):
    fatima, form = page
    member_id = fatima.id
    with pytest.raises(Full):
        submit(change_then_refuse(fatima, Full("The fund is empty.")), form, passthrough=(Full,))
    assert bio_of(member_id) == "" and form.reason.errors == [] and get_flashed_messages() == []


def test_an_unexpected_error_is_undone_and_raised(page):
    fatima, form = page
    member_id = fatima.id
    with pytest.raises(ZeroDivisionError):
        submit(change_then_refuse(fatima, ZeroDivisionError()), form)
    assert bio_of(member_id) == ""
