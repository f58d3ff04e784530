"""`ledger deploy` and `ledger rollout`: a release of a recorded build, and its way out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import click

from ledger.cli import writes
from ledger.cli.client import env_path
from ledger.cli.options import NAME, TEXT

DEFAULT_STEPS = "1,10,50,100"


class StepsType(click.ParamType[list[int]]):
    """Canary steps: increasing percentages, e.g. ``10,50,100``."""

    name = "steps"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> list[int]:
        if isinstance(value, list):
            return value
        text = str(value).replace(" ", "")
        if not re.fullmatch(r"\d{1,3}(,\d{1,3})*", text):
            self.fail(f"{value!r} is not a list of percentages such as 10,50,100", param, ctx)
        return [int(step) for step in text.split(",")]


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option("--build", "build_id", type=TEXT, required=True, help="The recorded build.")
@click.option("--canary", is_flag=True, help="Roll out in steps rather than to all at once.")
@click.option(
    "--steps", type=StepsType(), help=f"The canary's percent steps. [default: {DEFAULT_STEPS}]"
)
@click.option("--description", type=TEXT, help="What the release brings; shown with it.")
@writes.write_options
def deploy(
    app: str,
    env: str,
    build_id: str,
    canary: bool,
    steps: list[int] | None,
    description: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Deploy BUILD of APP to ENV: a new release (the deploy scope).

    Only a build recorded as succeeded can be deployed. A canary release starts at its first
    step; `ledger rollout` moves it on. Where the policy wants approvals the deploy waits as a
    change request: its id is printed (exit code 0), and the last approval makes the release.
    A refusal (an unknown build, a gate) is one line, exit code 1.

    \b
    Examples:
      ledger deploy shop prod --build b42
      ledger deploy shop prod --build b42 --canary --steps 10,50,100 --description "new cart"
    """
    if steps is not None and not canary:
        raise click.UsageError("--steps are the steps of a canary: add --canary")
    body: dict[str, Any] = {"build_id": build_id}
    if canary:
        body["strategy"] = "canary"
    if steps is not None:
        body["steps"] = steps
    if description is not None:
        body["description"] = description
    write = writes.Write("POST", env_path(app, env) + "/deploys", body)
    writes.report(writes.send(write, idempotency_key), as_json, lambda w: _deployed(app, env, w))


def _deployed(app: str, env: str, written: Mapping[str, Any]) -> str:
    """``deployed shop v42 (b42) to prod``, with the canary's first step."""
    release = written.get("release") or {}
    line = f"deployed {app} v{release.get('version')} ({release.get('build_id')}) to {env}"
    if release.get("status") == "rolling_out":
        line += f" — canary {release.get('rollout_percent')}%"
    return line


@click.command()
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.argument("version", type=click.IntRange(min=1))
@click.option("--percent", type=click.IntRange(1, 100), help="Move the rollout to N percent.")
@click.option("--complete", is_flag=True, help="The release runs everywhere: succeeded.")
@click.option("--abort", is_flag=True, help="Stop the rollout: the release is aborted.")
@click.option("--fail", is_flag=True, help="The rollout failed: the release is failed.")
@click.option("--reason", type=TEXT, help="Why; recorded with the step.")
@writes.write_options
def rollout(
    app: str,
    env: str,
    version: int,
    percent: int | None,
    complete: bool,
    abort: bool,
    fail: bool,
    reason: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Move the rollout of release VERSION of APP in ENV on: to --percent N, or end it with
    --complete, --abort or --fail (the deploy scope).

    \b
    Examples:
      ledger rollout shop prod 42 --percent 50
      ledger rollout shop prod 42 --complete
      ledger rollout shop prod 42 --abort --reason "error rate up"
    """
    body = _step(percent, complete, abort, fail)
    if reason is not None:
        body["reason"] = reason
    write = writes.Write("POST", env_path(app, env) + f"/releases/{version}/rollout", body)
    step = f"{percent}%" if percent is not None else body["status"]
    said = f"rollout of {app} v{version} in {env}: {step}"
    writes.report(writes.send(write, idempotency_key), as_json, lambda _: said)


def _step(percent: int | None, complete: bool, abort: bool, fail: bool) -> dict[str, Any]:
    """The body of one rollout step; exactly one of the options says which."""
    ends = {"completed": complete, "aborted": abort, "failed": fail}
    given = [status for status, flag in ends.items() if flag]
    if len(given) + (percent is not None) != 1:
        raise click.UsageError("give one of --percent N, --complete, --abort or --fail")
    return {"percent": percent} if percent is not None else {"status": given[0]}
