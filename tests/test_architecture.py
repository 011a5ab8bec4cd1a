"""The import rules of ARCHITECTURE.md, checked by reading every module's imports (ast): nothing
imports a view but the app factory, the ledger leans on no other domain's services, and the error
pages do not depend on the API."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "timebank"
# The app factory registers the blueprints, so it alone imports the views.
REGISTERS_BLUEPRINTS = "timebank"
# What the ledger may use of another domain besides its models and errors, and why.
LEDGER_MAY_USE = {
    "timebank.audit.services": "the audit log is written in the same transaction as what it records",
    "timebank.stats.rollup": "the statistics roll-ups are kept in the same transaction as each posting",
    "timebank.members.acting": "the account pages know who acts for whom",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports_of(path: Path) -> set[str]:
    """Every timebank module the file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from timebank.members import views` imports the module timebank.members.views.
            found |= {f"{node.module}.{alias.name}" for alias in node.names if is_module(f"{node.module}.{alias.name}")}
    return {name for name in found if name == "timebank" or name.startswith("timebank.")}


MODULES = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_the_rules_see_the_code():
    assert "timebank.exchanges.views" in MODULES["timebank"]
    assert "timebank.ledger.services" in MODULES["timebank.ledger.views"]
    assert len(MODULES) > 100


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_a_view(module):
    """Shared page helpers live in timebank/web, rules in permissions.py and the services."""
    if module == REGISTERS_BLUEPRINTS:
        return
    views = sorted(name for name in MODULES[module] if name.rsplit(".", 1)[-1].endswith("views"))
    assert views == [], f"{module} imports a view"


def test_the_ledger_uses_no_other_domains_services():
    """The ledger sits under the other domains: they move hours through it, never the reverse."""
    wrong = {}
    for module, imported in MODULES.items():
        if domain_of(module) != "ledger":
            continue
        for name in imported:
            other = domain_of(name)
            if other in (None, "ledger", "web") or name in LEDGER_MAY_USE:
                continue
            if name.rsplit(".", 1)[-1] not in ("models", "errors"):
                wrong.setdefault(module, []).append(name)
    assert wrong == {}


def test_error_pages_do_not_depend_on_the_api():
    assert not {name for name in MODULES["timebank.errors"] if name.startswith("timebank.api")}


def test_the_api_and_the_services_use_no_page_helpers():
    """timebank/web is for pages; services and the API say refusals their own way."""
    wrong = {
        module: sorted(name for name in imported if name.startswith("timebank.web"))
        for module, imported in MODULES.items()
        if (module.startswith("timebank.api") or module.rsplit(".", 1)[-1] == "services")
    }
    assert {module: names for module, names in wrong.items() if names} == {}
