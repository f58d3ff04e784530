"""`ledger report`: tell the ledger what actually runs, from Kubernetes or by hand."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ledger.cli.client import LedgerClient
from ledger.cli.options import DURATION, NAME, TEXT
from ledger.logs import configure_logging
from ledger.reporters.kubernetes import APP_LABEL, Reading, Skipped, parse_pod_list, read_pods
from ledger.reporters.kubernetes_api import list_pods
from ledger.reporters.posting import post_report, repeat
from ledger.reporters.report import Instance, RuntimeReport, Workload, is_digest, now

log = logging.getLogger("ledger.reporters")


@click.group()
def report() -> None:
    """Tell the ledger what actually runs in an environment (POST /v1/runtime/reports).

    Needs LEDGER_TOKEN with the runtime:write scope.
    """


@report.command()
@click.option("--env", required=True, type=NAME, help="The environment the pods run in.")
@click.option("--namespace", "-n", type=TEXT, help="Only this namespace (default: all).")
@click.option("--selector", "-l", type=TEXT, help="Only pods matching this label selector.")
@click.option(
    "--app-label",
    default=APP_LABEL,
    show_default=True,
    type=TEXT,
    help="The pod label whose value is the ledger's app name.",
)
@click.option("--reporter", type=TEXT, help="This reporter's name (default: k8s:ENV).")
@click.option("--every", type=DURATION, help="Report again every 60s, 5m, …, until stopped.")
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Read `kubectl get pods -o json` output from FILE (again each round with --every) "
    "or - (stdin, read once), not the API.",
)
@click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Kubeconfig file to use.")
@click.option("--dry-run", is_flag=True, help="Print the report as JSON; send nothing.")
def kubernetes(
    env: str,
    namespace: str | None,
    selector: str | None,
    app_label: str,
    reporter: str | None,
    every: float | None,
    source: str | None,
    kubeconfig: str | None,
    dry_run: bool,
) -> None:
    """Report the pods of a Kubernetes cluster: one instance per pod, by app label.

    Pods are read through the Kubernetes API (the pod's service account in a cluster, else
    KUBECONFIG or ~/.kube/config), or from --from. The app's container is the one named like
    the app, else the pod's first; its digest comes from its status's imageID. Pods without a
    digest yet (Pending, pulling), finished pods and pods without the label are skipped and
    listed. The report is complete: an app left out runs nowhere this reporter sees.

    \b
    Examples:
      ledger report kubernetes --env prod --namespace shop --every 60s
      kubectl get pods -A -o json | ledger report kubernetes --env prod --from -
    """
    name = reporter or f"k8s:{env}"
    stdin = sys.stdin.read() if source == "-" else None

    def reading() -> Reading:
        if stdin is not None:
            pods = _parsed(stdin)
        elif source is not None:
            pods = _parsed(_read(source))
        else:
            pods = asyncio.run(list_pods(namespace, selector, kubeconfig))
        return read_pods(pods, env=env, reporter=name, app_label=app_label)

    _send(reading, every=every, dry_run=dry_run)


@report.command()
@click.option("--env", required=True, type=NAME, help="The environment it runs in.")
@click.option("--app", required=True, type=NAME, help="The app that runs.")
@click.option(
    "--digest",
    "digests",
    required=True,
    multiple=True,
    help="Digest of the artifact that runs (sha256:<64 hex>); repeat for several.",
)
@click.option(
    "--instance",
    "instances",
    multiple=True,
    type=TEXT,
    help="An instance's id (VM, function version, …); repeat, one per --digest or all of one.",
)
@click.option("--reporter", type=TEXT, help="This reporter's name (default: static:APP).")
@click.option("--complete", is_flag=True, help="This is everything that runs in ENV.")
@click.option("--dry-run", is_flag=True, help="Print the report as JSON; send nothing.")
def static(
    env: str,
    app: str,
    digests: tuple[str, ...],
    instances: tuple[str, ...],
    reporter: str | None,
    complete: bool,
    dry_run: bool,
) -> None:
    """Report what runs of one app anywhere else: VMs, serverless, a box under a desk.

    The report is partial (it says nothing of other apps) unless --complete is given.

    \b
    Examples:
      ledger report static --env prod --app shop --digest sha256:… --instance vm-1 --instance vm-2
    """
    for digest in digests:
        if not is_digest(digest):
            raise click.BadParameter(f"{digest!r} is not sha256:<64 hex>", param_hint="--digest")
    found = _static_instances(app, digests, instances)
    workload = Workload(app=app, instances=found)
    report = RuntimeReport(
        reporter=reporter or f"static:{app}",
        env=env,
        observed_at=now(),
        complete=complete,
        workloads=(workload,),
    )
    _send(lambda: Reading(report=report, skipped=()), every=None, dry_run=dry_run)


def _static_instances(
    app: str, digests: tuple[str, ...], ids: tuple[str, ...]
) -> tuple[Instance, ...]:
    """Instances paired with digests in order; one digest is shared by every instance."""
    if not ids:
        return tuple(Instance(id=f"{app}-{d[7:19]}", artifact_digest=d) for d in digests)
    if len(digests) == 1:
        return tuple(Instance(id=i, artifact_digest=digests[0]) for i in ids)
    if len(ids) != len(digests):
        raise click.UsageError(
            f"{len(ids)} --instance for {len(digests)} --digest: give one --digest for all, "
            "or one --digest per --instance"
        )
    return tuple(Instance(id=i, artifact_digest=d) for i, d in zip(ids, digests, strict=True))


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as error:
        raise click.ClickException(f"--from {path}: {error.strerror or error}") from None


def _parsed(text: str) -> list[Any]:
    try:
        return parse_pod_list(text)
    except ValueError as error:
        raise click.ClickException(f"--from: {error}") from None


def _send(reading: Callable[[], Reading], *, every: float | None, dry_run: bool) -> None:
    """Make and send one report (or print it); with ``every``, again until SIGINT/SIGTERM."""
    client = None if dry_run else LedgerClient.from_env()

    def once() -> Reading:
        made = reading()
        if client is None:
            click.echo(_json(made.report))
        else:
            post_report(client, made.report)
        return made

    if every is None:
        _describe(once())
        return
    configure_logging()
    with _stopped_by_signals() as stop:
        repeat(every, lambda: _log(once()), stop)


def _describe(made: Reading) -> None:
    report = made.report
    apps, count = len(report.workloads), report.instance_count
    click.echo(
        f"reported {count} instance(s) of {apps} app(s) in {report.env} as {report.reporter}",
        err=True,
    )
    for skipped in made.skipped:
        click.echo(f"skipped {skipped.pod}: {skipped.reason}", err=True)


def _log(made: Reading) -> None:
    report = made.report
    log.info(
        "report sent",
        extra={
            "reporter": report.reporter,
            "env": report.env,
            "apps": len(report.workloads),
            "instances": report.instance_count,
            "skipped": [_skip(s) for s in made.skipped],
        },
    )


def _skip(skipped: Skipped) -> dict[str, str]:
    return {"pod": skipped.pod, "reason": skipped.reason}


def _json(report: RuntimeReport) -> str:
    return json.dumps(report.body(), indent=2)


@contextmanager
def _stopped_by_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM, so the current round ends and the loop stops."""
    stop = threading.Event()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.stderr.flush()
