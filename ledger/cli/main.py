"""Entry point of the `ledger` command."""

from __future__ import annotations

from typing import Any

import click

from ledger import __version__
from ledger.cli.admin import key, token
from ledger.cli.audit import checkpoint, proof, verify
from ledger.cli.audit_export import audit
from ledger.cli.bench import bench
from ledger.cli.builds import build
from ledger.cli.change_requests import approve, reject, requests
from ledger.cli.config_changes import config
from ledger.cli.diff import diff
from ledger.cli.dora import dora
from ledger.cli.drift import drift
from ledger.cli.export import export
from ledger.cli.failures import explain
from ledger.cli.feed import feed
from ledger.cli.flags import flag
from ledger.cli.importer import import_file
from ledger.cli.migrations import migration
from ledger.cli.natscli import nats_group
from ledger.cli.pipeline import assert_gates, evidence
from ledger.cli.policies import policy
from ledger.cli.reads import history, releases, state
from ledger.cli.rebuild import projections
from ledger.cli.releasing import deploy, rollout
from ledger.cli.report import report
from ledger.cli.rollback import rollback
from ledger.cli.serve import serve
from ledger.cli.storage import backup, migrate_store
from ledger.cli.witness import witness

VERBOSE = "ledger.verbose"


class LedgerGroup(click.Group):
    """The commands, whose failures are one line saying what to do (the traceback with -v)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            if ctx.meta.get(VERBOSE):
                raise
            raise click.ClickException(explain(error)) from None


@click.group(
    cls=LedgerGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="ledger")
@click.option("-v", "--verbose", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """The release ledger: every build, config change, flag flip, deploy, rollout, migration and
    rollback of every app in every environment, as immutable events.

    Client commands talk to the server at LEDGER_URL (default http://127.0.0.1:8080), sending
    LEDGER_TOKEN as a bearer token and LEDGER_ACTOR as the actor when they are set. `serve` and
    `projections` use the same LEDGER_* variables as the server. Commands that open the store
    themselves name it on stderr first. Write commands run in GitHub Actions or GitLab CI
    send the run's id as correlation id and an idempotency key made from the run and the
    command, so that a repeat is recorded once. A failure is one line saying what is wrong
    and what to do; `ledger -v COMMAND …` shows its traceback.
    """
    ctx.meta[VERBOSE] = verbose


for command in (
    serve,
    state,
    history,
    feed,
    releases,
    diff,
    export,
    dora,
    drift,
    build,
    deploy,
    rollout,
    config,
    flag,
    migration,
    rollback,
    policy,
    evidence,
    assert_gates,
    requests,
    approve,
    reject,
    report,
    projections,
    token,
    key,
    nats_group,
    import_file,
    verify,
    checkpoint,
    proof,
    witness,
    audit,
    bench,
    backup,
    migrate_store,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="ledger")


if __name__ == "__main__":
    main()
