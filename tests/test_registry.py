"""Every table that holds something about a member is part of the member's data export and of
their erasure, or is deliberately left out with a reason (timebank/registry.py)."""

from timebank import registry
from timebank.audit.services import ACTION_LABELS
from timebank.extensions import db
from timebank.members.export import EXPORTERS
from timebank.members.services import ERASERS


def member_tables() -> set[str]:
    return {
        table.name
        for table in db.metadata.sorted_tables
        if any(fk.column.table.name == "members" for column in table.columns for fk in column.foreign_keys)
    }


def covered(hooks) -> set[str]:
    return {table for hook in hooks for table in hook.tables}


def test_every_member_table_is_exported_or_exempt(app):
    tables = member_tables() | {"members"}
    assert {"posts", "exchange_participants", "ledger_accounts"} <= tables
    missing = tables - covered(registry.EXPORTS) - set(registry.NOT_EXPORTED)
    assert sorted(missing) == [], "add an exporter to timebank/registry.py, or an exemption with its reason"


def test_every_member_table_is_erased_or_exempt(app):
    tables = member_tables() | {"members"}
    missing = tables - covered(registry.ERASURES) - set(registry.ERASED_BY_MEMBERS) - set(registry.NOT_ERASED)
    assert sorted(missing) == [], "add an eraser to timebank/registry.py, or an exemption with its reason"


def test_exemptions_are_real_tables_with_reasons(app):
    tables = {table.name for table in db.metadata.sorted_tables}
    for exemptions in (registry.NOT_EXPORTED, registry.NOT_ERASED):
        assert set(exemptions) <= tables
        assert all(len(reason) > 20 for reason in exemptions.values())
    listed = covered(registry.EXPORTS) | covered(registry.ERASURES) | set(registry.ERASED_BY_MEMBERS)
    assert listed <= tables


def test_the_app_installs_exactly_the_listed_hooks(app):
    assert list(EXPORTERS) == [hook.name for hook in registry.EXPORTS]
    assert list(ERASERS) == [hook.name for hook in registry.ERASURES]
    assert all(action in ACTION_LABELS for labels in registry.AUDIT_LABELS for action in labels)
    registry.register_hooks()  # again: nothing doubles or goes missing
    assert list(EXPORTERS) == [hook.name for hook in registry.EXPORTS]
