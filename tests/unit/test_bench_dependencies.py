"""The benchmarks stand apart: the server never imports them (only `ledger bench` in the CLI
does), and they never import the CLI, so a change to either cannot break the other's imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections")
BENCH_ENTRY = Path("ledger/cli/bench.py")  # `ledger bench`: the CLI's one way into them


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        for source in sorted((ROOT / package).rglob("*.py")):
            yield source.relative_to(ROOT)


def _imported(source: Path) -> set[str]:
    """Every module a source imports, at its top or inside a function."""
    tree = ast.parse((ROOT / source).read_text(), str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _in_bench(source: Path) -> bool:
    return source.parts[:2] == ("ledger", "bench")


def test_only_the_bench_command_imports_the_benchmarks() -> None:
    importers = [
        str(source)
        for source in _sources()
        if not _in_bench(source)
        and source != BENCH_ENTRY
        and any(_within(name, "ledger.bench") for name in _imported(source))
    ]
    assert importers == []


def test_the_benchmarks_never_import_the_cli() -> None:
    importers = [
        str(source)
        for source in _sources()
        if _in_bench(source) and any(_within(name, "ledger.cli") for name in _imported(source))
    ]
    assert importers == []
