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

from ledger.cli.runtime_text import runtime_line


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


table = _table  # for the commands that print their own tables alike


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
        ("runtime", runtime_line(data.get("runtime"))),
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


MARKS = {"added": "+", "removed": "-", "changed": "~"}


def diff(data: Mapping[str, Any]) -> None:
    """A diff: both sides, then what changes from old to new (secret values never shown)."""
    old, new = data.get("old") or {}, data.get("new") or {}
    versions = [
        f"v{side['release']['version']}" if side.get("release") else "-" for side in (old, new)
    ]
    title = f"{data.get('app')}/{old.get('env')}: {versions[0]} → {versions[1]}"
    if data.get("direction") == "across":
        title = f"{data.get('app')}: {old.get('env')} → {new.get('env')}"
    console.print(_text(f"{title} ({data.get('direction')})"), style="bold")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    for name, side in (("old", old), ("new", new)):
        schema = f" · schema {side['schema_version']}" if side.get("schema_version") else ""
        grid.add_row(_text(name), _text(release_line(side.get("release")) + schema))
    console.print(grid)
    build = data.get("build")
    if build:
        before = f"{build.get('old_build_id') or '-'} ({short(build.get('old_commit'))})"
        after = f"{build.get('new_build_id') or '-'} ({short(build.get('new_commit'))})"
        console.print(_text(f"build: {before} → {after}"))
    else:
        console.print(_text("build: unchanged"))
    _diff_tables(data)


def _diff_tables(data: Mapping[str, Any]) -> None:
    config, flags, migrations = (data.get(k) or [] for k in ("config", "flags", "migrations"))
    if not (config or flags or migrations):
        console.print(_text("config, flags and migrations: no differences"))
    for table in (_config_table(config), _flag_table(flags), _migration_table(migrations)):
        if table.row_count:
            console.print(table)


def _config_table(changes: Sequence[Mapping[str, Any]]) -> Table:
    table = _table(" ", "KEY", "OLD", "NEW", title="config", wrap="NEW")
    for c in changes:
        old, new = ("(secret)", "(secret)") if c.get("secret") else (c.get("old"), c.get("new"))
        if c.get("change") == "added":
            old = "-"
        elif c.get("change") == "removed":
            new = "-"
        table.add_row(_mark(c), _text(c.get("key")), _text(old), _text(new))
    return table


def _flag_table(changes: Sequence[Mapping[str, Any]]) -> Table:
    table = _table(" ", "FLAG", "OLD", "NEW", title="flags")
    for f in changes:
        old, new = _flag(f.get("old")), _flag(f.get("new"))
        table.add_row(_mark(f), _text(f.get("flag")), _text(old), _text(new))
    return table


def _migration_table(changes: Sequence[Mapping[str, Any]]) -> Table:
    table = _table(" ", "MIGRATION", "SCHEMA", "REVERSIBLE", title="migrations")
    for m in changes:
        reversible = "yes" if m.get("reversible") else "no"
        row = (m.get("migration_id"), m.get("schema_version"), reversible)
        table.add_row(_mark(m), *(_text(v) for v in row))
    return table


def _mark(change: Mapping[str, Any]) -> Text:
    return _text(MARKS.get(str(change.get("change")), "?"))


def _flag(flag: Mapping[str, Any] | None) -> str:
    if not flag:
        return "-"
    if not flag.get("enabled"):
        return "off"
    percent = flag.get("rollout_percent")
    return "on" if percent is None else f"on {percent}%"


def dora(data: Mapping[str, Any]) -> None:
    """DORA metrics: the pooled numbers, then one row per environment when broken down."""
    scope = "/".join(str(data[k]) for k in ("app", "env") if data.get(k)) or "all apps"
    window = f"{when(data.get('since'))} → {when(data.get('until'))} ({data.get('days')} days)"
    console.print(_text(f"{scope}: {window}"), style="bold")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    for name, value in _dora_lines(data.get("metrics") or {}):
        grid.add_row(_text(name), _text(value))
    console.print(grid)
    rows = data.get("environments") or []
    if rows:
        table = _table("APP", "ENV", "DEPLOYS", "PER DAY", "LEAD TIME", "CFR", "RESTORE")
        for row in rows:
            m = row.get("metrics") or {}
            table.add_row(*(_text(v) for v in (row.get("app"), row.get("env"),
                m.get("deployments"), f"{m.get('deployment_frequency', 0):.2f}",
                _duration((m.get("lead_time") or {}).get("median_seconds")),
                _rate(m.get("change_failure_rate")),
                _duration((m.get("time_to_restore") or {}).get("median_seconds")))))  # fmt: skip
        console.print(table)


def _dora_lines(m: Mapping[str, Any]) -> list[tuple[str, str]]:
    lead, restore = m.get("lead_time") or {}, m.get("time_to_restore") or {}
    wait, rest = (
        m.get("lead_time_approval_wait") or {},
        m.get("lead_time_excluding_approval_wait") or {},
    )
    return [
        ("deployments", f"{m.get('deployments')} ({m.get('deployment_frequency', 0):.2f} a day)"),
        ("flag changes", str(m.get("flag_changes"))),
        ("rollbacks", str(m.get("rollbacks"))),
        ("lead time", f"median {_duration(lead.get('median_seconds'))}, "
                      f"p90 {_duration(lead.get('p90_seconds'))} ({lead.get('count')} builds, "
                      f"{m.get('lead_time_unknown')} without commit time)"),
        ("change failure rate", f"{_rate(m.get('change_failure_rate'))} "
                                f"({m.get('failed_deployments')} failed)"),
        ("time to restore", f"median {_duration(restore.get('median_seconds'))}, "
                            f"p90 {_duration(restore.get('p90_seconds'))} "
                            f"({m.get('unrestored')} not restored)"),
        ("waiting for approval", f"median {_duration(wait.get('median_seconds'))}, "
                                 f"p90 {_duration(wait.get('p90_seconds'))} "
                                 f"({wait.get('count', 0)} changes); the rest of the lead time: "
                                 f"median {_duration(rest.get('median_seconds'))}"),
        ("gates", f"{m.get('refused_changes', 0)} refused, "
                  f"{m.get('overridden_changes', 0)} overridden, "
                  f"{m.get('expired_requests', 0)} requests expired"),
    ]  # fmt: skip


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


def _rate(rate: object) -> str:
    return f"{100 * rate:.0f}%" if isinstance(rate, int | float) else "-"
