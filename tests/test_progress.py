"""Long command-line work says how far it is on standard error, so an administrator watching a
seed, an export or a backup of millions of rows sees it move while standard output stays the
result; `--quiet` keeps cron's mail to the result. `ledger verify` checks one community, or every
community one after another."""

import pytest
import sqlalchemy as sa

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Account
from timebank.members.models import Member

SEED = ["demo", "seed", "--members", "12", "--months", "1"]
# Each long command, words its progress must contain, and words of its result.
COMMANDS = {
    "demo seed": (SEED, "members (12)", "Demo neighbourhood ready"),
    "ledger verify": (["ledger", "verify"], "checking 17 rules", "Ledger OK"),
    "ledger verify --per-community": (
        ["ledger", "verify", "--per-community"],
        "checking buurt (1 of 1)",
        "buurt: Ledger OK",
    ),
    "ledger export": (["ledger", "export", "-o", "{tmp}/journal.csv"], "50 postings written", "postings to"),
    "backup create": (["backup", "create", "{tmp}/backup.tar.gz"], "writing backup.tar.gz", "Backup written"),
    "stats report": (
        [
            "stats",
            "report",
            "--community",
            "buurt",
            "--from",
            "2020-01-01",
            "--to",
            "2029-12-31",
            "--lang",
            "en",
            "-o",
            "{tmp}/report.csv",
        ],
        "computing the figures",
        "Wrote",
    ),
    "mail send --loop": (["mail", "send", "--loop"], "counting the email in the outbox", "Mail worker stopped"),
}


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
@pytest.mark.parametrize("name", COMMANDS)
def test_long_commands_report_progress_unless_quiet(app, runner, tmp_path, monkeypatch, name, quiet):
    monkeypatch.setattr("timebank.ledger.cli.PROGRESS_EVERY", 50)
    monkeypatch.setattr("timebank.mail.cli.run_worker", lambda interval, stop: None)
    args, progress, outcome = COMMANDS[name]
    if name != "demo seed":
        seeded = runner.invoke(args=[*SEED, "--quiet"])
        assert seeded.exit_code == 0 and not seeded.stderr, seeded.output
    result = runner.invoke(args=[arg.format(tmp=tmp_path) for arg in args] + (["--quiet"] if quiet else []))
    assert result.exit_code == 0, result.output
    assert outcome in result.stdout and "…" not in result.stdout
    if quiet:
        assert result.stderr == ""
    else:
        assert progress in result.stderr and " s)" in result.stderr


@pytest.fixture
def two_neighbourhoods(app, community, make_community, make_member):
    """Buurt and Noord, each with an hour given; returns their ids by slug."""
    ids = {}
    for slug in ("buurt", "noord"):
        community = make_community(slug, slug.title()) if slug == "noord" else community
        giver, taker = (make_member(f"{who} {slug}", community_id=community.id) for who in ("Ann", "Bob"))
        with app.app_context():
            ledger.transfer(
                ledger.account_for(db.session.get(Member, giver.id)),
                ledger.account_for(db.session.get(Member, taker.id)),
                60,
                kind="gift",
                actor=None,
            )
            db.session.commit()
        ids[slug] = community.id
    return ids


def test_verify_one_community_or_each_in_turn(app, runner, two_neighbourhoods):
    result = runner.invoke(args=["ledger", "verify", "--community", "noord"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "noord: Ledger OK: all 17 checks passed (2 accounts, 1 transactions, 2 postings).\n"

    with app.app_context():  # a bug leaves one of Noord's accounts a balance its postings do not give
        account_id = db.session.scalar(
            sa.select(sa.func.min(Account.id)).where(Account.community_id == two_neighbourhoods["noord"])
        )
        db.session.execute(sa.update(Account).where(Account.id == account_id).values(balance=Account.balance + 5))
        db.session.commit()
    assert runner.invoke(args=["ledger", "verify", "--community", "buurt"]).exit_code == 0
    result = runner.invoke(args=["ledger", "verify", "--per-community"])
    assert result.exit_code == 1
    assert "buurt: Ledger OK" in result.stdout and "noord: Ledger BROKEN: 2 of 17 checks failed" in result.stdout
    assert "noord: - cached_balance" in result.stdout and "1 of 2 communities OK." in result.stdout
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 1


def test_verify_refuses_an_unknown_community_or_both_ways_at_once(app, runner, two_neighbourhoods):
    result = runner.invoke(args=["ledger", "verify", "--community", "nowhere"])
    assert result.exit_code == 1 and "There is no community 'nowhere'." in result.output
    result = runner.invoke(args=["ledger", "verify", "--community", "buurt", "--per-community"])
    assert result.exit_code == 2 and "not both" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Community.id))) == 2
