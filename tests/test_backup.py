"""The backup drill a volunteer administrator relies on: back up while neighbours keep giving hours,
restore into a fresh database, and find the same rows and the same ledger; never overwrite a
database in use without being told to; move from SQLite to PostgreSQL with one command."""

import io
import json
import tarfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from timebank.backup import archive
from timebank.backup.archive import Found, create, read_manifest, to_keep
from timebank.backup.manifest import describe, ledger_checksum
from timebank.backup.restore import restore
from timebank.demo.seed import seed
from timebank.extensions import db
from timebank.ledger import services as ledger
from timebank.ledger.models import Posting
from timebank.members.models import Member
from timebank.stats import rollup

from .conftest import ON_POSTGRES, POSTGRES_URL, count, make_app


@pytest.fixture
def seeded(app):
    with app.app_context():
        seed(members=12, months=1, seed=3)
        db.session.commit()
    (Path(app.config["UPLOAD_FOLDER"]) / "ab").mkdir(parents=True)
    (Path(app.config["UPLOAD_FOLDER"]) / "ab" / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    return app


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database beside the test's own: a new SQLite file, or a scratch PostgreSQL database."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = make_url(POSTGRES_URL)
    scratch = f"{url.database}_restore"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {scratch}")
    yield url.set(database=scratch).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
    server.dispose()


class Giver(threading.Thread):
    """Two neighbours thanking each other with a minute, over and over, each in its own commit."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop, self.given, self.error = app, threading.Event(), 0, None
        self.started_giving = threading.Event()

    def run(self):
        try:
            with self.app.app_context():
                first, second = db.session.scalars(sa.select(Member).order_by(Member.id).limit(2)).all()
                while not self.stop.is_set():
                    payer, receiver = (first, second) if self.given % 2 else (second, first)
                    ledger.transfer(
                        ledger.account_for(payer),
                        ledger.account_for(receiver),
                        1,
                        kind="gift",
                        actor=payer,
                        memo="thanks",
                    )
                    db.session.commit()
                    self.given += 1
                    if self.given >= 5:
                        self.started_giving.set()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc
            self.started_giving.set()


def test_backup_while_members_write_restores_the_same_rows_and_ledger(seeded, fresh_url, tmp_path):
    giver = Giver(seeded)
    giver.start()
    assert giver.started_giving.wait(30)
    with seeded.app_context():
        path, manifest = create(tmp_path / "drill.tar.gz")
        db.session.remove()
    given_at_backup = giver.given
    while giver.given < given_at_backup + 5 and giver.is_alive():
        threading.Event().wait(0.01)
    giver.stop.set()
    giver.join(30)
    assert giver.error is None, giver.error
    with seeded.app_context():
        postings_now = count(Posting)

    assert manifest == {**read_manifest(path), "uploads": manifest["uploads"]}
    assert manifest["uploads"] == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # email addresses and password hashes: the owner's only
    assert 0 < manifest["row_counts"]["ledger_postings"] < postings_now  # a snapshot, and writes went on

    target = make_app(fresh_url, UPLOAD_FOLDER=str(tmp_path / "restored-uploads"))
    outcome = restore(path, target)
    assert outcome.ok, outcome.comparison + outcome.ledger.lines()
    assert outcome.restored["row_counts"] == manifest["row_counts"]
    assert outcome.restored["ledger_sha256"] == manifest["ledger_sha256"]
    assert (tmp_path / "restored-uploads" / "ab" / "photo.jpg").read_bytes() == b"\xff\xd8 a photo"
    with target.app_context():
        assert count(Posting) == manifest["row_counts"]["ledger_postings"]
        _give_one_more_minute()  # the restored database takes new hours (ids continue)
        db.session.remove()
        db.engine.dispose()


def _give_one_more_minute():
    first, second = db.session.scalars(sa.select(Member).order_by(Member.id).limit(2)).all()
    before = count(Posting)
    ledger.transfer(ledger.account_for(first), ledger.account_for(second), 1, kind="gift", actor=first)
    db.session.commit()
    assert count(Posting) == before + 2


def test_restore_refuses_a_database_with_data_unless_forced(seeded, tmp_path):
    runner = seeded.test_cli_runner()
    result = runner.invoke(args=["backup", "create", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        _give_one_more_minute()
        postings_after = count(Posting)

    result = runner.invoke(args=["backup", "restore", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 1
    assert "--force" in result.output
    with seeded.app_context():
        assert count(Posting) == postings_after  # nothing touched

    result = runner.invoke(args=["backup", "restore", "--force", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 0, result.output
    assert "Ledger OK" in result.output and "ledger checksum: same" in result.output
    with seeded.app_context():
        assert count(Posting) == postings_after - 2  # back to the backup


def test_a_file_that_is_not_a_backup_is_refused_without_change(seeded, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, "evil.py")
    result = seeded.test_cli_runner().invoke(args=["backup", "restore", "--force", str(bogus)])
    assert result.exit_code == 1 and "not a time bank backup" in result.output
    with seeded.app_context():
        assert count(Member) == 12  # the demo neighbourhood is all still there


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the PostgreSQL server the suite runs on")
def test_a_sqlite_backup_moves_into_postgresql_with_one_command(tmp_path, fresh_url):
    from flask_migrate import upgrade

    source = make_app(f"sqlite:///{tmp_path / 'embedded.db'}", UPLOAD_FOLDER=str(tmp_path / "up"))
    with source.app_context():
        upgrade()
        seed(members=12, months=1, seed=5)
        db.session.commit()
    result = source.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "s.tar.gz")])
    assert result.exit_code == 0, result.output
    result = source.test_cli_runner().invoke(
        args=["backup", "restore", "--into", fresh_url, str(tmp_path / "s.tar.gz")]
    )
    assert result.exit_code == 0, result.output
    assert "ledger checksum: same" in result.output
    assert f"all {len(db.metadata.sorted_tables)} tables the same" in result.output
    target = make_app(fresh_url)
    with target.app_context():
        with db.engine.connect() as conn:
            assert (
                describe(conn, engine="postgresql", created_at="")["ledger_sha256"]
                == read_manifest(tmp_path / "s.tar.gz")["ledger_sha256"]
            )
            assert rollup.check(conn) == []  # the monthly statistics were not counted twice
        _give_one_more_minute()  # sequences moved past the copied ids
        db.session.remove()
        db.engine.dispose()


def test_retention_keeps_the_newest_of_each_day_and_week(tmp_path, app):
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # a Sunday
    backups = [Found(tmp_path / f"{i}", start + timedelta(hours=12 * i), 1) for i in range(40)]  # two a day
    kept = to_keep(backups, daily=3, weekly=2)
    newest = sorted(backups, key=lambda b: b.created, reverse=True)
    days = [b.path for b in newest[0:6:2]]  # the evening backup of each of the last three days
    assert set(days) <= kept
    assert len(kept) == 4  # the newest of this week is also today's; one more for last week
    assert newest[-1].path not in kept

    folder = tmp_path / "backups"
    folder.mkdir()
    for backup in backups:
        (folder / f"timebank-{backup.created:%Y%m%dT%H%M%SZ}.tar.gz").write_bytes(b"x")
    app.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP_DAILY=3, BACKUP_KEEP_WEEKLY=2)
    result = app.test_cli_runner().invoke(args=["backup", "prune", "--dry-run"])
    assert result.exit_code == 0 and "would delete 36" in result.output
    assert len(list(folder.iterdir())) == 40
    result = app.test_cli_runner().invoke(args=["backup", "prune"])
    assert result.exit_code == 0 and "deleted 36" in result.output
    assert len(archive.found(folder)) == 4
    result = app.test_cli_runner().invoke(args=["backup", "prune", "--daily", "0"])
    assert result.exit_code == 2  # at least one day is always kept


@pytest.mark.skipif(not ON_POSTGRES, reason="needs a PostgreSQL backup")
def test_a_postgresql_backup_is_not_restored_into_sqlite(seeded, tmp_path):
    runner = seeded.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "pg.tar.gz")]).exit_code == 0
    into = f"sqlite:///{tmp_path / 'embedded.db'}"
    result = runner.invoke(args=["backup", "restore", "--into", into, str(tmp_path / "pg.tar.gz")])
    assert result.exit_code == 1 and "can only be restored into PostgreSQL" in result.output


def _with_manifest(source: Path, target: Path, change) -> None:
    """A copy of the backup `source` whose manifest `change` altered, the rest as it was."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            content = old.extractfile(member)
            if member.name == "manifest.json":
                manifest = json.load(content)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size, content = len(data), io.BytesIO(data)
            new.addfile(member, content)


def one_member_more(manifest):
    manifest["row_counts"]["members"] += 1


def another_ledger(manifest):
    manifest["ledger_sha256"] = "0" * 64


@pytest.mark.parametrize(
    ("change", "said"),
    [(one_member_more, "members: 13 in the backup, 12 restored"), (another_ledger, "ledger checksum: DIFFERENT")],
)
def test_a_restore_that_does_not_match_its_backup_is_not_called_restored(seeded, tmp_path, change, said):
    runner = seeded.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b.tar.gz")]).exit_code == 0
    _with_manifest(tmp_path / "b.tar.gz", tmp_path / "other.tar.gz", change)
    result = runner.invoke(args=["backup", "restore", "--force", str(tmp_path / "other.tar.gz")])
    assert result.exit_code == 1
    assert "Restored." not in result.output and "differs from the backup" in result.output and said in result.output

    result = runner.invoke(args=["backup", "restore", "--force", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 0 and "Restored." in result.output and "tables the same" in result.output


def test_the_ledger_checksum_changes_when_a_posting_does():
    """A journal whose postings of one gift are swapped (the database's triggers forbid it, a damaged
    or edited file does not): the transactions are the same, the gift went the other way."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ledger_transactions (id, community_id, kind, reverses_id)")
        conn.exec_driver_sql("CREATE TABLE ledger_postings (id, transaction_id, account_id, amount, balance_after)")
        conn.exec_driver_sql("INSERT INTO ledger_transactions VALUES (1, 1, 'gift', NULL)")
        conn.exec_driver_sql("INSERT INTO ledger_postings VALUES (1, 1, 7, -60, -60), (2, 1, 8, 60, 60)")
        before = ledger_checksum(conn)
        conn.exec_driver_sql("UPDATE ledger_postings SET amount = -amount, balance_after = -balance_after")
        assert ledger_checksum(conn) != before


def test_a_backup_made_by_the_version_before_is_restored_and_brought_up_to_this_one(app, tmp_path):
    """Last night's backup, made before an upgrade, comes back as it was and is then migrated."""
    from flask_migrate import upgrade

    older = make_app(f"sqlite:///{tmp_path / 'older.db'}", UPLOAD_FOLDER=str(tmp_path / "up"))
    with older.app_context():
        upgrade(revision="0305_fund_days")  # the schema of 0310 (a data change only), so the demo fits
        seed(members=12, months=1, seed=5)
        db.session.commit()
        path, manifest = create(tmp_path / "older.tar.gz")
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "brought up to this version: 0305_fund_days → " in result.output and "Restored." in result.output
    assert "ledger checksum: same" in result.output and "DIFFERENT" not in result.output
    with app.app_context():
        assert count(Member) == manifest["row_counts"]["members"] == 12
        assert count(Posting) == manifest["row_counts"]["ledger_postings"]


def test_the_list_shows_the_backups_newest_first_and_names_an_unreadable_one(seeded, tmp_path):
    folder = tmp_path / "backups"
    seeded.config.update(BACKUP_DIR=str(folder))
    runner = seeded.test_cli_runner()
    assert "No backups in" in runner.invoke(args=["backup", "list"]).output
    for stamp in ("20261101T020000Z", "20261103T020000Z"):
        assert runner.invoke(args=["backup", "create", str(folder / f"timebank-{stamp}.tar.gz")]).exit_code == 0
    (folder / "timebank-20261102T020000Z.tar.gz").write_bytes(b"half a file")
    (folder / "notes.txt").write_text("not a backup")
    with seeded.app_context():
        postings = count(Posting)

    lines = runner.invoke(args=["backup", "list"]).output.splitlines()
    assert [line[:16] for line in lines] == ["2026-11-03 02:00", "2026-11-02 02:00", "2026-11-01 02:00"]
    assert f"{postings} postings, 1 photos" in lines[0] and "UNREADABLE" in lines[1]
    assert "UNREADABLE" not in lines[2]
