"""Rich renderings of the API's shapes (state, releases, history). Values are user data, so
they are always wrapped in Text and never parsed as rich markup."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def _console() -> Console:
    """Stdout; when it is not a terminal (a pipe, a file) tables get room instead of 80 columns."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=160)
    return console


console = _console()


def _text(value: object) -> Text:
    return Text("" if value is None else str(value))


def _table(*columns: str, title: str | None = None, wrap: str = "") -> Table:
    """A compact table; only the column named ``wrap`` may wrap, the others never do."""
    table = Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for column in columns:
        table.add_column(column, no_wrap=column != wrap, min_width=len(column))
    return table


def when(value: object) -> str:
    """A timestamp to the second, marked Z when the server gave UTC."""
    if not isinstance(value, str):
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    suffix = "Z" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + suffix


def short(commit: object) -> str:
    return str(commit)[:7] if commit else "-"


def build_of(release: Mapping[str, Any]) -> str:
    build = release.get("build_id")
    return f"{build} ({short(release.get('commit'))})" if build else "-"


def status_of(release: Mapping[str, Any]) -> str:
    status = str(release.get("status"))
    return f"{status} {release.get('rollout_percent')}%" if status == "rolling_out" else status


def release_line(release: Mapping[str, Any] | None) -> str:
    """One line on a release: version, build, commit, config, status, who and when."""
    if not release:
        return "no release yet"
    parts = [
        f"v{release.get('version')}",
        f"build {build_of(release)}",
        f"config v{release.get('config_version')}",
        status_of(release),
    ]
    if release.get("rollback_of") is not None:
        parts.append(f"rollback of v{release['rollback_of']}")
    parts.append(f"by {release.get('actor')} at {when(release.get('created_at'))}")
    return " · ".join(parts)


def state(data: Mapping[str, Any]) -> None:
    console.print(_text(f"{data.get('app')}/{data.get('env')}"), style="bold")
    console.print(_facts(data))
    config = _table("KEY", "VALUE", title="config", wrap="VALUE")
    for key, value in sorted((data.get("config") or {}).items()):
        config.add_row(_text(key), _text(value))
    flags = _table("FLAG", "ENABLED", "ROLLOUT %", title="flags")
    for name, flag in sorted((data.get("flags") or {}).items()):
        percent = flag.get("rollout_percent")
        flags.add_row(
            _text(name),
            _text("on" if flag.get("enabled") else "off"),
            _text("-" if percent is None else percent),
        )
    console.print(config, flags)


def _facts(data: Mapping[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    release = data.get("release")
    if release:
        rows = [("release", f"v{release.get('version')}"), ("build", build_of(release))]
        rows += [("config", f"v{release.get('config_version')}"), ("status", status_of(release))]
        if release.get("rollback_of") is not None:
            rows.append(("rollback of", f"v{release['rollback_of']}"))
        rows.append(("by", f"{release.get('actor')} at {when(release.get('created_at'))}"))
        if release.get("description"):
            rows.append(("description", str(release["description"])))
    else:
        rows = [("release", "none yet")]
    rows += [
        ("schema", str(data.get("schema_version") or "-")),
        ("position", str(data.get("position"))),
    ]
    for key, value in rows:
        grid.add_row(_text(key), _text(value))
    return grid


def releases(items: Sequence[Mapping[str, Any]]) -> None:
    table = _table("VERSION", "STATUS", "BUILD", "CONFIG", "ACTOR", "CREATED", "NOTE", wrap="NOTE")
    for r in sorted(items, key=lambda r: int(r.get("version") or 0), reverse=True):
        note = str(r.get("description") or "")
        if r.get("rollback_of") is not None and f"v{r['rollback_of']}" not in note:
            note = f"rollback of v{r['rollback_of']} {note}".strip()
        table.add_row(
            _text(f"v{r.get('version')}"),
            _text(status_of(r)),
            _text(build_of(r)),
            _text(f"v{r.get('config_version')}"),
            _text(r.get("actor")),
            _text(when(r.get("created_at"))),
            _text(note),
        )
    console.print(table)


def history(items: Sequence[Mapping[str, Any]]) -> None:
    table = _table("POSITION", "TIME", "KIND", "ACTOR", "SUMMARY", wrap="SUMMARY")
    for item in items:
        table.add_row(
            _text(item.get("position")),
            _text(when(item.get("recorded_at"))),
            _text(item.get("kind")),
            _text(item.get("actor")),
            _text(item.get("summary")),
        )
    console.print(table)
