"""`ledger build record`: what CI built, from which commit, in which run — the pipeline's facts
read from the CI's own variables when it runs in one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ledger.cli import ci_env, render, writes
from ledger.cli.client import segment
from ledger.cli.options import NAME, TEXT, TIMESTAMP

STATUSES = ("succeeded", "failed")


@click.group()
def build() -> None:
    """Record the builds CI makes (in GitHub Actions and GitLab CI, from the CI's variables)."""


@build.command("record")
@click.argument("app", type=NAME)
@click.option("--digest", type=TEXT, required=True, help="The artifact's digest: sha256:….")
@click.option("--commit", type=TEXT, help="The commit built. [CI: GITHUB_SHA, CI_COMMIT_SHA]")
@click.option(
    "--build-id", type=TEXT, help="The build's id. [default: the digest's first 12 hex digits]"
)
@click.option(
    "--branch", type=TEXT, help="The branch built. [CI: GITHUB_REF_NAME, CI_COMMIT_REF_NAME]"
)
@click.option("--url", type=TEXT, help="Where the artifact is: an image reference, a URL.")
@click.option("--status", type=click.Choice(STATUSES), default="succeeded", show_default=True)
@click.option(
    "--committed-at", type=TIMESTAMP, help="When the commit was made. [CI: CI_COMMIT_TIMESTAMP]"
)
@click.option(
    "--pipeline", "pipeline_name", type=TEXT,
    help="The pipeline's name. [CI: GITHUB_WORKFLOW, CI_PIPELINE_NAME or CI_PROJECT_PATH]",
)  # fmt: skip
@click.option("--run-id", type=TEXT, help="The run's id. [CI: GITHUB_RUN_ID, CI_PIPELINE_ID]")
@click.option(
    "--run-url", type=TEXT,
    help="The run's page. [CI: the GitHub Actions run's page, CI_PIPELINE_URL]",
)  # fmt: skip
@writes.write_options
def record(
    app: str,
    digest: str,
    commit: str | None,
    build_id: str | None,
    branch: str | None,
    url: str | None,
    status: str,
    committed_at: str | None,
    pipeline_name: str | None,
    run_id: str | None,
    run_url: str | None,
    idempotency_key: str | None,
    as_json: bool,
) -> None:
    """Record a build of APP: its commit, its artifact, and the run that made it (build:write).

    In GitHub Actions and GitLab CI the options marked [CI: …] default to the variables named
    (an option given wins); outside CI --commit is required, and the pipeline is recorded
    when --pipeline and --run-id are given. Recording the same build again with the same
    facts records nothing new.

    \b
    Examples:
      ledger build record shop --digest "$DIGEST" --build-id b42
      ledger build record shop --commit a1b2c3d --digest sha256:9f86d08… \\
        --pipeline shop-ci --run-id 1234 --run-url https://ci.example/1234
    """
    run = ci_env.detect()
    facts = {"commit": commit, "branch": branch, "committed_at": committed_at}
    pipeline = {"name": pipeline_name, "run_id": run_id, "url": run_url}
    body = _body(run, facts, pipeline) | {"artifact": _artifact(digest, url), "status": status}
    if build_id is not None:
        body["build_id"] = build_id
    write = writes.Write("POST", f"/v1/apps/{segment(app)}/builds", body)
    writes.report(writes.send(write, idempotency_key), as_json, lambda w: _recorded(app, w))


def _body(
    run: ci_env.CiRun | None, facts: dict[str, str | None], pipeline: dict[str, str | None]
) -> dict[str, Any]:
    """The build's facts and pipeline: each as given, else the CI run's."""
    if run is not None:
        ci_facts = {"commit": run.commit, "branch": run.branch, "committed_at": run.committed_at}
        facts = {k: v or ci_facts[k] for k, v in facts.items()}
        ci_pipeline = {"name": run.pipeline, "run_id": run.run_id, "url": run.run_url}
        pipeline = {k: v or ci_pipeline[k] for k, v in pipeline.items()}
    if facts["commit"] is None:
        raise click.UsageError("give --commit (in CI it is GITHUB_SHA or CI_COMMIT_SHA)")
    body: dict[str, Any] = {k: v for k, v in facts.items() if v is not None}
    if pipeline["name"] is None or pipeline["run_id"] is None:
        if any(pipeline.values()):
            raise click.UsageError("a pipeline is recorded with both --pipeline and --run-id")
        return body
    body["pipeline"] = {k: v for k, v in pipeline.items() if v is not None}
    return body


def _artifact(digest: str, url: str | None) -> dict[str, str]:
    return {"digest": digest} if url is None else {"digest": digest, "url": url}


def _recorded(app: str, written: Mapping[str, Any]) -> str:
    """``recorded build b42 of shop (a1b2c3d, succeeded)``."""
    made = written.get("build") or {}
    facts = f"{render.short(made.get('commit'))}, {made.get('status')}"
    return f"recorded build {made.get('build_id')} of {app} ({facts})"
