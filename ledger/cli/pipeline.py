"""What a pipeline runs before it deploys: record evidence on its build, then ask the ledger
whether the change would pass the gates (`ledger assert`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ledger.cli import gate_text, writes
from ledger.cli.client import LedgerClient, env_path, segment
from ledger.cli.options import NAME, TEXT, json_option, print_json

ALLOWED, REFUSED, WAITS_FOR_APPROVAL = 0, 1, 3
ACTIONS = ("deploy", "promote", "rollback", "config")


class _AddByDefault(click.Group):
    """A group whose first argument, when it names none of its commands, is the start of
    the arguments of ``add``: `ledger evidence APP BUILD …` is `ledger evidence add APP …`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["add", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_AddByDefault)
def evidence() -> None:
    """Record evidence on builds: tests passed, a scan failed, … (`ledger evidence APP BUILD
    …` is short for `ledger evidence add APP BUILD …`)."""


@evidence.command("add")
@click.argument("app", type=NAME)
@click.argument("build", type=TEXT)
@click.option("--type", "kind", type=TEXT, required=True, help="What: tests, scan, sbom, review, …")
@click.option("--status", type=click.Choice(["passed", "failed"]), required=True)
@click.option("--url", type=TEXT, help="Where the details are (the CI job, the report).")
@click.option("--digest", type=TEXT, help="Digest of the report or attestation document.")
@click.option("--summary", type=TEXT, help="One line, e.g. '412 tests, 0 failed'.")
@writes.write_options
def add_evidence(
    app: str,
    build: str,
    kind: str,
    status: str,
    url: str | None,
    digest: str | None,
    summary: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Record evidence on BUILD of APP: tests passed, a scan failed, … (build:write scope).

    The newest evidence of a type counts: a later `passed` replaces an earlier `failed`.

    \b
    Examples:
      ledger evidence add shop b42 --type tests --status passed --url "$CI_JOB_URL"
      ledger evidence shop b42 --type scan --status failed --summary "2 critical CVEs"
    """
    body: dict[str, Any] = {"type": kind, "status": status}
    given = {"url": url, "digest": digest, "summary": summary}
    body |= {k: v for k, v in given.items() if v is not None}
    path = f"/v1/apps/{segment(app)}/builds/{segment(build)}/evidence"
    said = f"recorded {kind} {status} on build {build} of {app}"
    writes.report(writes.send(writes.Write("POST", path, body), idempotency_key), as_json,
                  lambda _: said)  # fmt: skip


@click.command("assert")
@click.argument("app", type=NAME)
@click.argument("env", type=NAME)
@click.option("--build", type=TEXT, help="The build a deploy would bring.")
@click.option("--from-env", type=NAME, help="A promotion: the environment whose build it brings.")
@click.option(
    "--action",
    type=click.Choice(ACTIONS),
    help="The change (default: deploy with --build, promote with --from-env).",
)
@click.option("--to", "to_version", type=click.IntRange(min=1), help="A rollback's target release.")
@json_option
def assert_gates(
    app: str,
    env: str,
    build: str | None,
    from_env: str | None,
    action: str | None,
    to_version: int | None,
    as_json: bool,
) -> None:
    """Ask whether a change to APP's ENV would pass its gates now, for this principal.

    Prints "allowed", or every reason it would not be, one a line (gate: detail (policy …)).
    Nothing is recorded.

    \b
    Exit codes:
      0  allowed: the change would make its release now
      3  the only reason is approval: the change would wait as a change request
      1  refused for any other reason (protection, promotion, freeze, evidence, scope,
         or the command itself: unknown build, nothing to roll back to, …),
         or the ledger could not be asked (unreachable, a refused request)
      2  usage error

    \b
    Examples:
      ledger assert shop prod --build b42
      ledger assert shop prod --from-env staging
      ledger assert shop prod --action rollback --to 41
    """
    query = _query(build, from_env, action, to_version)
    reply = LedgerClient.from_env().get(env_path(app, env) + "/gates", query)
    assessment = reply.json()
    if as_json:
        print_json(reply.text)
    else:
        _print(assessment)
    raise click.exceptions.Exit(exit_code(assessment))


def _query(
    build: str | None, from_env: str | None, action: str | None, to_version: int | None
) -> dict[str, str | None]:
    """The assessment's query; a change that names the wrong things is a usage error."""
    action = action or ("promote" if from_env else "deploy")
    if to_version is not None and action != "rollback":
        raise click.UsageError("--to names a rollback's target: give --action rollback")
    if action == "deploy" and (build is None or from_env is not None):
        raise click.UsageError("a deploy needs --build (and no --from-env)")
    if action == "promote" and (from_env is None or build is not None):
        raise click.UsageError("a promotion needs --from-env (and no --build)")
    if action in ("rollback", "config") and (build or from_env):
        raise click.UsageError(f"--action {action} takes neither --build nor --from-env")
    target = str(to_version) if to_version is not None else None
    return {"build": build, "from_env": from_env, "action": action, "to_version": target}


def exit_code(assessment: Mapping[str, Any]) -> int:
    """0 allowed; 3 when approval is all it waits for; 1 for any other refusal."""
    if assessment.get("allowed"):
        return ALLOWED
    gates = {str(r.get("gate")) for r in assessment.get("reasons") or []}
    return WAITS_FOR_APPROVAL if gates == {"approval"} else REFUSED


def _print(assessment: Mapping[str, Any]) -> None:
    if assessment.get("allowed"):
        click.echo(f"allowed (policy {assessment.get('policy')})")
        return
    for reason in assessment.get("reasons") or []:
        click.echo(gate_text.reason_line(reason))
