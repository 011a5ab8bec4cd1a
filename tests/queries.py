"""Counting the SQL statements a request runs, to catch pages whose cost grows with their rows."""

from contextlib import contextmanager

import sqlalchemy as sa

from timebank.extensions import db


@contextmanager
def statements(app, with_parameters: bool = False):
    """Yield a list that collects every statement sent to the database while the block runs (with
    its parameters: (statement, parameters) pairs)."""
    with app.app_context():
        engine = db.engine
    seen: list = []

    def note(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters) if with_parameters else statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def queries_for(app, client, url: str, **kwargs) -> tuple[int, str]:
    """The number of statements one GET of `url` runs (after a first, uncounted GET that fills
    per-process caches), and the page's text."""
    client.get(url, **kwargs)
    with statements(app) as seen:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    return len(seen), response.text


def sqlite_plan(sent: list[tuple[str, tuple]], marker: str) -> str:
    """SQLite's plan, one step after another, for the first statement sent that contains `marker`
    (spaces and line breaks count as one space)."""
    statement, parameters = next((s, p) for s, p in sent if marker in " ".join(s.split()))
    explained = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    return " | ".join(row[3] for row in explained)


def use_sqlite_statistics(app, statistics: list[tuple[str, str, str]]) -> None:
    """Plan with these `ANALYZE` figures (table, index, stat), taken from a large database, instead of
    the small test database's own: SQLite chooses its indexes by them."""
    with app.app_context():
        connection = db.session.connection()
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
        for table, index, stat in statistics:
            connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index, stat))
        db.session.commit()
        db.engine.dispose()  # connections read the statistics when they open
