"""Every domain's hooks, listed in one place: the sections of a member's data export, the steps
of erasing a member, and what each audited action means to the member it touched.

`create_app` calls `register_hooks()`, so whether an export is complete never depends on which
modules happen to be imported. Each hook names the tables whose member data it covers;
tests/test_registry.py checks that every table pointing at a member is covered by the export and
by erasure, or is listed below as an exemption with its reason."""

from collections.abc import Callable
from dataclasses import dataclass

from timebank.audit import log as audit_log
from timebank.audit.services import ACTION_LABELS
from timebank.communities import services as communities
from timebank.desk import services as desk
from timebank.exchanges import services as exchanges
from timebank.governance import services as governance
from timebank.ledger import services as ledger
from timebank.ledger.export import export_member_entries
from timebank.market import services as market
from timebank.members import export as member_export
from timebank.members import services as members
from timebank.members.sign_in_log import export_sign_ins, forget_sign_ins
from timebank.moderation import blocks
from timebank.moderation import services as moderation
from timebank.notifications import services as notifications
from timebank.pots import services as pots
from timebank.stats import report as stats_report


@dataclass(frozen=True)
class Hook:
    name: str
    run: Callable
    tables: tuple[str, ...]


# The sections of a member's data export (GDPR art. 15 and 20), in the order they are written.
EXPORTS = (
    Hook("profile", member_export.export_profile, ("members", "member_skills", "member_tokens", "images")),
    Hook("join_history", member_export.export_join_history, ("join_requests",)),
    Hook("audit_events", member_export.export_audit_events, ("audit_events",)),
    Hook("mail", member_export.export_mail, ("outbox_messages",)),
    Hook("sign_ins", export_sign_ins, ("sign_in_events",)),
    Hook("notifications", notifications.export_notifications, ("notifications",)),
    Hook("notification_choices", notifications.export_email_choices, ("notification_email_choices",)),
    Hook(
        "exchanges",
        exchanges.export_member_exchanges,
        ("exchanges", "exchange_participants", "exchange_messages", "exchange_thanks"),
    ),
    Hook("posts", market.export_member_posts, ("posts",)),
    Hook(
        "governance",
        governance.export_governance,
        (
            "governance_proposals",
            "governance_supporters",
            "governance_votes",
            "governance_voters",
            "governance_comments",
        ),
    ),
    Hook("ledger", export_member_entries, ("ledger_accounts", "ledger_transactions")),
    Hook("pots", pots.export_pots, ("pots",)),
    Hook("moderation", moderation.export_moderation, ("moderation_cases", "moderation_reports")),
    Hook("blocks", blocks.export_blocks, ("member_blocks",)),
    Hook("coordinator_notes", desk.export_notes, ("member_notes",)),
)

# The steps of erasing a member that other domains take, in order, before `erase_member` wipes
# the profile itself (the tables in ERASED_BY_MEMBERS).
ERASURES = (
    Hook("sign_ins", forget_sign_ins, ("sign_in_events",)),
    Hook("notifications", notifications.forget_notifications, ("notifications", "notification_email_choices")),
    Hook("exchanges", exchanges.let_go_of_exchanges, ("exchanges", "exchange_participants")),
    Hook("posts", market.let_go_of_posts, ("posts",)),
    Hook("pots", pots.forget_pots, ("pots",)),
    Hook("blocks", blocks.forget_blocks, ("member_blocks",)),
    Hook("desk", desk.forget_desk, ("member_notes", "desk_assignments")),
)
ERASED_BY_MEMBERS = (
    "members",
    "member_skills",
    "member_tokens",
    "member_sign_ins",
    "outbox_messages",
    "join_requests",
    "images",
)

# Tables that point at a member and are deliberately left out, with the reason.
NOT_EXPORTED = {
    "member_sign_ins": "the hashed secrets of open sessions; the sign-in log (sign_in_events) is exported",
    "api_tokens": "hashes of the member's API tokens: secrets, not information about the member",
    "stats_account_days": "daily totals derived from the ledger, which is exported",
    "stats_account_months": "monthly totals derived from the ledger, which is exported",
    "stats_pair_days": "daily totals derived from the exchanges, which are exported",
    "stats_pair_months": "monthly totals derived from the exchanges, which are exported",
    "desk_assignments": "which waiting task a coordinator took up: the desk's working state, gone when done",
}
NOT_ERASED = {
    "audit_events": "the audit log cannot be rewritten; it refers to the member by id, under the erased name",
    "ledger_accounts": "the books must still add up; the balance is settled to the fund and the account kept by id",
    "ledger_transactions": "the books must still add up; transactions are never changed",
    "exchange_messages": "what the member wrote to others stays, under the erased name",
    "exchange_thanks": "thank-you notes to and from others stay, under the erased name",
    "api_tokens": "they stop working with the account: an erased member is not active",
    "stats_account_days": "anonymous once the member is erased: daily totals by member id only",
    "stats_account_months": "anonymous once the member is erased: monthly totals by member id only",
    "stats_pair_days": "anonymous once the member is erased: daily totals by member id only",
    "stats_pair_months": "anonymous once the member is erased: monthly totals by member id only",
    "governance_proposals": "the cooperative's decisions stay as they were taken, under the erased name",
    "governance_supporters": "the cooperative's decisions stay as they were taken",
    "governance_votes": "the cooperative's decisions stay as they were taken",
    "governance_voters": "the cooperative's decisions stay as they were taken",
    "governance_comments": "what the member wrote to others stays, under the erased name",
    "moderation_cases": "decisions about reported content stay for the audit, under the erased name",
    "moderation_reports": "reports stay with the decisions they led to, under the erased name",
}

# What every audited action means to the member it touched, domain by domain.
AUDIT_LABELS = (
    members.AUDIT_LABELS,
    communities.AUDIT_LABELS,
    market.AUDIT_LABELS,
    ledger.AUDIT_LABELS,
    exchanges.AUDIT_LABELS,
    governance.AUDIT_LABELS,
    pots.AUDIT_LABELS,
    moderation.AUDIT_LABELS,
    desk.AUDIT_LABELS,
    audit_log.AUDIT_LABELS,
    stats_report.AUDIT_LABELS,
)


def register_hooks() -> None:
    """Install the lists above; running it again gives the same result."""
    member_export.EXPORTERS.clear()
    for hook in EXPORTS:
        member_export.register_exporter(hook.name, hook.run)
    members.ERASERS.clear()
    for hook in ERASURES:
        members.register_eraser(hook.name, hook.run)
    ACTION_LABELS.clear()
    for labels in AUDIT_LABELS:
        ACTION_LABELS.update(labels)
    # A member's pots take their share of every exchange the member is paid for.
    ledger.EXCHANGE_SPLITS = (pots.split_to_pots,)
