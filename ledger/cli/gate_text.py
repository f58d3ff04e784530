"""The gates as the commands print them: a policy, its freeze windows, change requests and
the reasons a change may not be made. Values are user data: always Text, never markup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from ledger.cli.render import console, table, when

NONE = "none"


def reason_line(reason: Mapping[str, Any]) -> str:
    """``gate: detail (policy …)``, one reason a change may not be made now."""
    policy = f" (policy {reason['policy']})" if reason.get("policy") else ""
    return f"{reason.get('gate')}: {reason.get('detail')}{policy}"


def plural(count: object, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def waiting(request: Mapping[str, Any]) -> str:
    """What a request still waits for, or how it ended."""
    status = str(request.get("status"))
    if status == "pending":
        return plural((request.get("waiting_for") or {}).get("approvals"), "approval")
    if status == "released" and request.get("release_version") is not None:
        return f"released as v{request['release_version']}"
    return status


def subject(request: Mapping[str, Any]) -> str:
    """``deploy b42 to shop/prod``: what the request would do, and where."""
    where = f"{request.get('app')}/{request.get('env')}"
    command = request.get("command") or {}
    action = request.get("action")
    if action == "config":
        return f"config change in {where}"
    if action == "rollback":
        target = f" to v{command['to_version']}" if command.get("to_version") else ""
        return f"rollback of {where}{target}"
    build = f" {request['build_id']}" if request.get("build_id") else ""
    source = f" from {command['from_env']}" if command.get("from_env") else ""
    return f"{action}{build}{source} to {where}"


def request_line(request: Mapping[str, Any]) -> str:
    """One line on a change request: id, what it would do, who asked, what it waits for."""
    line = f"request {request.get('id')} ({subject(request)}, requested by "
    line += f"{request.get('requested_by')})"
    if request.get("status") == "pending":
        return f"{line} waits for {waiting(request)} until {when(request.get('expires_at'))}"
    detail = f": {request['detail']}" if request.get("detail") else ""
    return f"{line} is {waiting(request)}{detail}"


def requests(items: Sequence[Mapping[str, Any]], *, with_status: bool) -> None:
    columns = ["ID", "APP", "ENV", "ACTION", "BUILD", "REQUESTED BY", "WAITING FOR", "EXPIRES"]
    listed = table(*columns, *(["STATUS"] if with_status else []))
    for r in items:
        row = [str(r.get("id"))[:8], r.get("app"), r.get("env"), r.get("action")]
        row += [r.get("build_id") or "-", r.get("requested_by")]
        row += [waiting(r) if r.get("status") == "pending" else "-", when(r.get("expires_at"))]
        if with_status:
            row.append(r.get("status") if r.get("status") == "pending" else waiting(r))
        listed.add_row(*(Text(str(v)) for v in row))
    console.print(listed if items else Text("no change requests"))


def policy(view: Mapping[str, Any]) -> None:
    """The policy in force (every field, resolved), then what this level records."""
    resolved = view.get("policy") or {}
    where = f"{view.get('app')}/{view.get('env')}"
    at = f" at {when(view['at'])}" if view.get("at") else ""
    console.print(Text(f"{where}: policy {resolved.get('version')}{at}"), style="bold")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column()
    for name, value in _fields(resolved, view.get("frozen"), bool(view.get("at"))):
        grid.add_row(Text(name), Text(value))
    console.print(grid)
    console.print(Text(_level(view)))


def _fields(
    p: Mapping[str, Any], frozen: Mapping[str, Any] | None, past: bool
) -> list[tuple[str, str]]:
    approvals = p.get("approvals") or {}
    required = int(approvals.get("required") or 0)
    who = "the requester may approve" if approvals.get("allow_self") else "not by the requester"
    windows = [_window(w) for w in p.get("freeze") or []]
    rows = [
        ("protected", "yes: deploys and config changes by CI only" if p.get("protected") else "no"),
        ("promotion from", str(p.get("promotion_from") or NONE)),
        ("approvals", f"{required}, {who}" if required else NONE),
        ("rollback approval", "needed" if p.get("rollback_needs_approval") else "not needed"),
        ("required evidence", ", ".join(p.get("required_evidence") or []) or NONE),
        ("unrecorded artifacts", str(p.get("unrecorded"))),
        ("freeze windows", windows[0] if windows else NONE),
        *(("", line) for line in windows[1:]),
    ]
    until = f"{frozen.get('name')} until {when(frozen.get('end'))}" if frozen else "no"
    return [*rows, ("frozen then" if past else "frozen now", until)]


def _window(w: Mapping[str, Any]) -> str:
    reason = f" — {w['reason']}" if w.get("reason") else ""
    if w.get("cron"):
        zone = w.get("timezone") or "UTC"
        return f"{w.get('name')}: cron {w['cron']!r} for {w.get('duration')} ({zone}){reason}"
    return f"{w.get('name')}: {when(w.get('start'))} → {when(w.get('end'))}{reason}"


def _level(view: Mapping[str, Any]) -> str:
    level = f"{view.get('app')}/{view.get('env')}"
    recorded = view.get("recorded")
    if recorded is None:
        return f"{level} records no policy of its own: every field is inherited"
    fields = ", ".join(recorded) or "no field (all inherited)"
    changed = f"by {view.get('changed_by')} at {when(view.get('changed_at'))}"
    return f"{level} v{view.get('level_version')} ({changed}) sets: {fields}"


def windows(data: Mapping[str, Any]) -> None:
    span = f"{when(data.get('since'))} → {when(data.get('until'))}"
    console.print(Text(f"{data.get('app')}/{data.get('env')}: freezes {span}"), style="bold")
    items = data.get("items") or []
    listed = table("NAME", "START", "END", "REASON", wrap="REASON")
    for w in items:
        row = (w.get("name"), when(w.get("start")), when(w.get("end")), w.get("reason") or "")
        listed.add_row(*(Text(str(v)) for v in row))
    console.print(listed if items else Text("no freeze window in this time"))
