"""Every invariant of the ledger, checked from the rows themselves with a handful of SQL queries.

Used by `flask --app timebank ledger verify`, the benchmark and the tests (after every step of the
model-based test). Each check is a query that returns the rows that break the invariant."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from timebank.extensions import db

EXAMPLES = 10

# (name, what must hold, SQL returning the offending rows). Plain SQL that both databases run.
# {postings}, {transactions} and {accounts} are the rows being checked: the whole tables, or one
# community's share (SCOPES); the other side of a join is always the whole table, so a posting
# that points into another community is found from either side.
CHECKS = [
    (
        "postings_per_transaction",
        "every transaction has at least two postings",
        """SELECT t.id AS transaction_id, COUNT(p.id) AS postings
        FROM {transactions} AS t LEFT JOIN ledger_postings p ON p.transaction_id = t.id
        GROUP BY t.id HAVING COUNT(p.id) < 2""",
    ),
    (
        "transaction_sum",
        "the postings of every transaction sum to zero",
        """SELECT transaction_id, SUM(amount) AS total FROM {postings} AS p
        GROUP BY transaction_id HAVING SUM(amount) <> 0""",
    ),
    (
        "nonzero_amount",
        "no posting has an amount of zero",
        "SELECT id AS posting_id FROM {postings} AS p WHERE amount = 0",
    ),
    (
        "global_sum",
        "all balances of a community add up to zero",
        """SELECT community_id, SUM(balance) AS total FROM {accounts} AS a
        GROUP BY community_id HAVING SUM(balance) <> 0""",
    ),
    (
        "journal_sum",
        "all postings ever made add up to zero",
        "SELECT SUM(amount) AS total FROM {postings} AS p HAVING SUM(amount) <> 0",
    ),
    (
        "cached_balance",
        "every account's cached balance equals the sum of its postings",
        """SELECT a.id AS account_id, a.balance AS cached, COALESCE(SUM(p.amount), 0) AS summed
        FROM {accounts} AS a LEFT JOIN ledger_postings p ON p.account_id = a.id
        GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)""",
    ),
    (
        "balance_after_chain",
        "every posting's balance-after is the previous one plus its amount",
        """SELECT posting_id, account_id, previous, amount, balance_after FROM (
            SELECT id AS posting_id, account_id, amount, balance_after,
                   LAG(balance_after, 1, 0) OVER (PARTITION BY account_id ORDER BY id) AS previous
            FROM {postings} AS p) chain
        WHERE balance_after <> previous + amount""",
    ),
    (
        "limits",
        "no checked posting went past the floor or ceiling it was checked against",
        """SELECT id AS posting_id, account_id, amount, balance_after, bound FROM {postings} AS p
        WHERE bound IS NOT NULL
          AND ((amount < 0 AND balance_after < bound) OR (amount > 0 AND balance_after > bound))""",
    ),
    (
        "same_community",
        "every posting's account belongs to the transaction's community",
        """SELECT p.id AS posting_id, p.transaction_id, p.account_id
        FROM {postings} AS p JOIN ledger_transactions t ON t.id = p.transaction_id
        JOIN ledger_accounts a ON a.id = p.account_id WHERE a.community_id <> t.community_id""",
    ),
    (
        "orphans",
        "every posting belongs to an existing transaction and account",
        """SELECT p.id AS posting_id FROM {postings} AS p
        LEFT JOIN ledger_transactions t ON t.id = p.transaction_id
        LEFT JOIN ledger_accounts a ON a.id = p.account_id WHERE t.id IS NULL OR a.id IS NULL""",
    ),
    (
        "reversal_mirrors_original",
        "every reversal swaps exactly the postings of the transaction it undoes",
        """SELECT r.id AS reversal_id, r.reverses_id FROM {transactions} AS r
        JOIN ledger_postings rp ON rp.transaction_id = r.id
        LEFT JOIN ledger_postings op ON op.transaction_id = r.reverses_id AND op.account_id = rp.account_id
        WHERE r.reverses_id IS NOT NULL
        GROUP BY r.id, r.reverses_id
        HAVING SUM(CASE WHEN op.amount = -rp.amount THEN 0 ELSE 1 END) > 0
            OR COUNT(rp.id) <> (SELECT COUNT(*) FROM ledger_postings o WHERE o.transaction_id = r.reverses_id)""",
    ),
    (
        "reversal_kind",
        "only reversals point at another transaction, and never at a reversal",
        """SELECT r.id AS transaction_id FROM {transactions} AS r
        LEFT JOIN ledger_transactions o ON o.id = r.reverses_id
        WHERE (r.kind = 'reversal') <> (r.reverses_id IS NOT NULL) OR o.kind = 'reversal'""",
    ),
    (
        "closed_accounts",
        "closed accounts hold no hours",
        "SELECT id AS account_id, balance FROM {accounts} AS a WHERE status = 'closed' AND balance <> 0",
    ),
    (
        "pots",
        "every pot is a member's own account of its community and never below zero",
        """SELECT a.id AS account_id, a.balance FROM {accounts} AS a LEFT JOIN pots p ON p.account_id = a.id
        WHERE a.kind = 'pot' AND (p.id IS NULL OR p.member_id <> a.member_id
                                  OR p.community_id <> a.community_id OR a.balance < 0)""",
    ),
    (
        "clearing_mirror",
        "each clearing account has its linked community's one for it, and they sum to zero",
        """SELECT a.id AS account_id, a.balance, b.id AS mirror_id, b.balance AS mirror_balance
        FROM {accounts} AS a LEFT JOIN ledger_accounts b ON b.kind = 'clearing'
             AND b.community_id = a.peer_community_id AND b.peer_community_id = a.community_id
        WHERE a.kind = 'clearing' AND (b.id IS NULL OR a.balance + b.balance <> 0)""",
    ),
    (
        "clearing_sides",
        "every transfer across a link has the other community's side, under the same key",
        """SELECT t.id AS transaction_id, p.amount FROM {accounts} AS a
        JOIN ledger_postings p ON p.account_id = a.id JOIN ledger_transactions t ON t.id = p.transaction_id
        WHERE a.kind = 'clearing' AND (t.idempotency_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM ledger_transactions u JOIN ledger_postings q ON q.transaction_id = u.id
            JOIN ledger_accounts b ON b.id = q.account_id
            WHERE b.kind = 'clearing' AND b.community_id = a.peer_community_id
              AND b.peer_community_id = a.community_id AND u.community_id = a.peer_community_id
              AND u.idempotency_key = t.idempotency_key AND u.kind = t.kind AND q.amount = -p.amount))""",
    ),
    (
        "clearing_caps",
        "every clearing account's floor and ceiling are minus and plus its link's cap",
        """SELECT a.id AS account_id, a.floor_override, a.ceiling_override, l.cap_minutes
        FROM {accounts} AS a LEFT JOIN community_links l
             ON (l.proposer_id = a.community_id AND l.accepter_id = a.peer_community_id)
             OR (l.accepter_id = a.community_id AND l.proposer_id = a.peer_community_id)
        WHERE a.kind = 'clearing' AND (l.id IS NULL OR a.floor_override IS NULL OR a.ceiling_override IS NULL
              OR a.floor_override <> -l.cap_minutes OR a.ceiling_override <> l.cap_minutes)""",
    ),
]

# For one community, the checks that look across to the whole tables start from the community's own
# rows (found by index, so the work grows with the community, not with the installation): each of its
# transactions' postings are counted through the index by transaction, and the whole tables are
# looked into only for a row that is already suspect (a posting whose transaction is not here). The
# same rules and the same findings; only how the database finds the rows differs. (Joining the
# community's transactions to the community's postings made SQLite probe the postings' index once per
# transaction and community account: 85 s for a year of the large demo, against 0.05 s.)
ONE_COMMUNITY = {
    "postings_per_transaction": """SELECT transaction_id, postings FROM (
               SELECT t.id AS transaction_id,
                      (SELECT COUNT(*) FROM ledger_postings p WHERE p.transaction_id = t.id) AS postings
               FROM {transactions} AS t) AS counted
           WHERE postings < 2""",
    "same_community": """SELECT p.id AS posting_id, p.transaction_id, p.account_id
           FROM {postings} AS p LEFT JOIN {transactions} AS t ON t.id = p.transaction_id
           WHERE t.id IS NULL AND EXISTS (SELECT 1 FROM ledger_transactions o WHERE o.id = p.transaction_id)""",
    "orphans":  # the account exists: these postings were found through it
    """SELECT p.id AS posting_id
           FROM {postings} AS p LEFT JOIN {transactions} AS t ON t.id = p.transaction_id
           WHERE t.id IS NULL AND NOT EXISTS (SELECT 1 FROM ledger_transactions o WHERE o.id = p.transaction_id)""",
    "reversal_kind": """SELECT r.id AS transaction_id FROM {transactions} AS r
           WHERE (r.kind = 'reversal') <> (r.reverses_id IS NOT NULL)
              OR (SELECT o.kind FROM ledger_transactions o WHERE o.id = r.reverses_id) = 'reversal'""",
}

# What {postings}, {transactions} and {accounts} stand for. One community's postings are those on
# its accounts (found through the index on account_id), so checking it reads only its own rows.
SCOPES = {
    "all": {"postings": "ledger_postings", "transactions": "ledger_transactions", "accounts": "ledger_accounts"},
    "community": {
        "postings": """(SELECT * FROM ledger_postings WHERE account_id IN
                        (SELECT id FROM ledger_accounts WHERE community_id = :community))""",
        "transactions": "(SELECT * FROM ledger_transactions WHERE community_id = :community)",
        "accounts": "(SELECT * FROM ledger_accounts WHERE community_id = :community)",
    },
}


@dataclass
class Problem:
    check: str
    rule: str
    count: int
    examples: list[dict]


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report as a person reads it: counts, then each broken rule with examples."""
        counted = ", ".join(f"{n} {what}" for what, n in self.totals.items())
        if self.ok:
            return [f"Ledger OK: all {len(CHECKS)} checks passed ({counted})."]
        lines = [f"Ledger BROKEN: {len(self.problems)} of {len(CHECKS)} checks failed ({counted})."]
        for problem in self.problems:
            lines.append(f"- {problem.check}: expected that {problem.rule}; {problem.count} violation(s), e.g.:")
            lines.extend(f"    {example}" for example in problem.examples)
        return lines


TOTALS = ("accounts", "transactions", "postings")


def _queries(scope: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each total's and each check's counting query, and each check's SQL, for a scope. Built from
    the constants above only, never from input (the community is a bound parameter)."""
    tables = SCOPES[scope]
    own = ONE_COMMUNITY if scope == "community" else {}
    checks = {name: own.get(name, sql).format(**tables) for name, _rule, sql in CHECKS}
    counts = {n: f"SELECT COUNT(*) FROM {tables[n]} AS {n}" for n in TOTALS}  # nosec B608
    counts |= {n: f"SELECT COUNT(*) FROM ({q}) AS {n}" for n, q in checks.items()}  # nosec B608
    return counts, checks


QUERIES = {scope: _queries(scope) for scope in SCOPES}


def verify(community_id: int | None = None) -> Report:
    """Run every check on the whole ledger, or on one community's accounts, transactions and
    postings. Each count is a statement of its own (PostgreSQL planned them as one UNION four times
    slower for one community); the offending rows are fetched only for the checks that fail, at most
    EXAMPLES of each, so memory stays flat however large the ledger."""
    scope, params = ("all", {}) if community_id is None else ("community", {"community": community_id})
    counting, checks = QUERIES[scope]
    conn = db.session.connection()
    counts = {name: conn.execute(sa.text(sql), params).scalar_one() for name, sql in counting.items()}
    report = Report(totals={name: counts[name] for name in TOTALS})
    for name, rule, _sql in CHECKS:
        if counts[name]:
            rows = conn.execute(sa.text(checks[name]), params).mappings().fetchmany(EXAMPLES)
            report.problems.append(Problem(name, rule, counts[name], [dict(row) for row in rows]))
    return report
