"""A request that lost SQLite's write lock to another is run again from the start — but never one
that committed a change already (it would do that twice), and never more than three times."""

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from timebank import SQLITE_ATTEMPTS, _retrying
from timebank.communities.models import Community
from timebank.extensions import db

from .conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's single write lock")


def lost_the_race():
    return OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))


def test_a_request_that_lost_the_race_runs_again(app, community):
    attempts = []

    def view():
        attempts.append(db.session.get(Community, community.id).name)  # reads, then wants to write
        if len(attempts) == 1:
            raise lost_the_race()
        db.session.execute(sa.update(Community).values(name="Renamed"))
        db.session.commit()
        return "done"

    with app.test_request_context("/", method="POST"):
        assert _retrying(app, view)() == "done"
    assert attempts == ["Onze buurt", "Onze buurt"]


def test_a_request_that_committed_is_never_run_twice(app, community):
    attempts = []

    def view():
        attempts.append(1)
        db.session.execute(sa.update(Community).values(name=f"Renamed {len(attempts)}"))
        db.session.commit()
        raise lost_the_race()  # e.g. a second transaction after the first committed

    with app.test_request_context("/", method="POST"), pytest.raises(OperationalError):
        _retrying(app, view)()
    assert attempts == [1]
    with app.app_context():
        assert db.session.get(Community, community.id).name == "Renamed 1"


def test_other_errors_are_not_retried_and_retries_stop(app, community):
    attempts = []

    def broken():
        attempts.append(1)
        raise OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: nothing"))

    def always_losing():
        attempts.append(1)
        raise lost_the_race()

    with app.test_request_context("/", method="POST"), pytest.raises(OperationalError, match="no such table"):
        _retrying(app, broken)()
    assert len(attempts) == 1
    attempts.clear()
    with app.test_request_context("/", method="POST"), pytest.raises(OperationalError, match="locked"):
        _retrying(app, always_losing)()
    assert len(attempts) == SQLITE_ATTEMPTS


def test_a_request_that_waited_out_the_busy_timeout_is_not_run_again(app, community, monkeypatch):
    """Then the database is busy, not raced: trying again would only keep the visitor waiting."""
    attempts = []
    monkeypatch.setattr("timebank.SQLITE_BUSY_TIMEOUT_MS", 0)

    def waited():
        attempts.append(1)
        raise lost_the_race()

    with app.test_request_context("/", method="POST"), pytest.raises(OperationalError, match="locked"):
        _retrying(app, waited)()
    assert attempts == [1]
