"""The modules of ``ledger`` and ``projections`` depend one way: no import cycle, and no import
made inside a function unless it loads something heavy on demand and says so.

Read from the source with ``ast`` alone. An import under ``if TYPE_CHECKING:`` or inside a
function still counts as a dependency, and importing ``a.b.c`` depends on the packages ``a``
and ``a.b`` too, since their ``__init__`` runs first (a module's own packages excepted)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections")
MARKER = "# on demand:"
"""What an import inside a function says, at the end of its line or on the line above (the
comment line may head a run of such imports): why it loads only when the function runs."""

KNOWN_CYCLES: list[set[str]] = []
"""Cycles being removed on other branches (empty once they are merged): never add to it."""

KNOWN_UNMARKED: set[str] = set()
"""Unmarked imports in functions being reworked on other branches: never add to it."""


def module_files() -> dict[str, Path]:
    """Each module's dotted name and its file."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = module_files()


def imported_names(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The dotted names an import statement loads (for ``from x import y``: x, and x.y)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = (
            module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        )
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    yield base
    yield from (f"{base}.{alias.name}" for alias in node.names)


def our_modules(module: str, name: str) -> set[str]:
    """The modules of ours that loading ``name`` runs, except the importer's own packages."""
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    parts = name.split(".")
    loaded = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in loaded if m in MODULES and m not in own and m != module}


def imports(module: str) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def import_graph() -> dict[str, set[str]]:
    """Each module and the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        graph[module] = {
            target
            for node in imports(module)
            for name in imported_names(module, node)
            for target in our_modules(module, name)
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = {stack.pop()}
            while node not in component:
                component.add(stack.pop())
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def imports_in_functions(module: str) -> Iterator[ast.Import | ast.ImportFrom]:
    tree = ast.parse(MODULES[module].read_text())
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def unmarked_imports_in_functions(module: str) -> Iterator[str]:
    """``path: import`` of each import inside a function that does not say why."""
    lines = MODULES[module].read_text().splitlines()
    found = list(imports_in_functions(module))
    import_lines = {n for node in found for n in range(node.lineno, (node.end_lineno or 0) + 1)}
    for node in found:
        above = node.lineno - 1
        while above in import_lines:
            above -= 1
        said = MARKER in lines[node.lineno - 1] or (
            above >= 1 and lines[above - 1].strip().startswith(MARKER)
        )
        if not said:
            path = MODULES[module].relative_to(ROOT).as_posix()
            yield f"{path}: {ast.unparse(node)}"


def test_the_modules_import_each_other_without_a_cycle() -> None:
    found = [component for component in cycles(import_graph()) if component not in KNOWN_CYCLES]
    assert found == [], "import cycles: " + "; ".join(" ↔ ".join(sorted(c)) for c in found)


def test_an_import_inside_a_function_says_why_it_loads_on_demand() -> None:
    found = {line for module in MODULES for line in unmarked_imports_in_functions(module)}
    unmarked = "\n".join(sorted(found - KNOWN_UNMARKED))
    assert not unmarked, f"import at the top, or say why with {MARKER!r}:\n{unmarked}"


def test_the_known_exceptions_still_exist() -> None:
    """An exception that no longer applies is removed from its list, so that it cannot
    come back unnoticed."""
    graph_cycles = cycles(import_graph())
    unmarked = {line for module in MODULES for line in unmarked_imports_in_functions(module)}
    assert [c for c in KNOWN_CYCLES if c not in graph_cycles] == []
    assert sorted(KNOWN_UNMARKED - unmarked) == []


@pytest.mark.parametrize(
    ("source", "cyclic"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [{"a", "b", "c"}]),
    ],
)
def test_a_cycle_is_found_wherever_it_closes(
    source: dict[str, set[str]], cyclic: list[set[str]]
) -> None:
    assert cycles(source) == cyclic
