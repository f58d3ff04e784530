"""One direction of dependency: the read side (projections/) imports only the domain, the wire
shapes and the SQL layer of the ledger, and is handed the log it follows by the composition root.
It never imports the event store, the service layer, the settings or an adapter."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_SIDE = ROOT / "projections"
ALLOWED = ("ledger.domain", "ledger.wire", "ledger.sql")
"""The ledger's packages the read side may import (with their submodules); projections' own
modules are always allowed. The layers of the whole project are pyproject.toml's import
contracts, checked by lint-imports in scripts/test."""


def imported(source: str) -> Iterator[tuple[int, str]]:
    """Every module an import of ``source`` names (at any depth, lazy ones too), by line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:  # ``from ledger import settings`` imports ledger.settings
                yield node.lineno, f"{node.module}.{alias.name}"


def forbidden(source: str) -> list[tuple[int, str]]:
    """The imports of ``source`` that reach into the ledger beyond what the read side may use."""
    return [
        (line, module)
        for line, module in imported(source)
        if module.split(".")[0] == "ledger" and not _allowed(module)
    ]


def _allowed(module: str) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in ALLOWED)


def test_the_read_side_imports_only_the_domain_the_wire_shapes_and_the_sql_layer() -> None:
    modules = sorted(READ_SIDE.rglob("*.py"))
    assert modules, "the read side's modules are where this test looks for them"
    beyond = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in modules
        for line, module in forbidden(path.read_text(encoding="utf-8"))
    ]
    assert beyond == []


def test_an_import_of_the_event_store_the_service_layer_or_an_adapter_is_caught() -> None:
    source = "\n".join(
        [
            "from ledger.domain.events import LedgerEvent",
            "from ledger.wire.shapes import ReleaseView",
            "from ledger.sql.database import Database",
            "from ledger import domain",
            "from ledger.eventstore.application import LedgerStore",
            "import ledger.settings",
            "from ledger import service",
            "def late():",
            "    from ledger.http.problems import problem",
            "    from ledger.domainish import x",
        ]
    )
    assert [module for _, module in forbidden(source)] == [
        "ledger.eventstore.application.LedgerStore",
        "ledger.settings",
        "ledger.service",
        "ledger.http.problems.problem",
        "ledger.domainish.x",
    ]
