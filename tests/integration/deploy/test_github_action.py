"""deploy/github-action: valid under GitHub's schema for actions, its scripts lint clean, and
every input it passes lands on an option the `ledger` command really has, so that the action
cannot drift from the CLI. Its README's workflow is a valid workflow using only its inputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ledger.cli.main import cli as ledger_cli

from ...github_action import ACTION_DIR, action, run_step, stub_ledger
from ...servers import free_port

PLUMBING = {"ledger-url", "token", "command", "version", "repository", "python-version"}
"""The inputs that say where and how to run the CLI, not what it records."""
SAMPLES = {
    "app": "shop",
    "env": "prod",
    "build-id": "b42",
    "digest": "sha256:" + "9f86d081" * 8,
    "artifact-url": "registry.example/shop@sha256:9f86",
    "commit": "a1b2c3d4e5",
    "branch": "release/42",
    "status": "failed",
    "committed-at": "2030-05-07T14:03:00Z",
    "pipeline": "nightly",
    "canary": "true",
    "steps": "10,50,100",
    "description": "the new cart",
    "idempotency-key": "shop-b42-prod",
}
"""A value for each input that is not plumbing, valid for the option it becomes."""
COMMANDS = {"build": ("build", "record"), "deploy": ("deploy",)}
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4711", "GITHUB_WORKFLOW": "ship"}
"""Some of what GitHub Actions sets in every step: the commands run in a run of it."""
ANSWER = '{"position": 7, "build": {"build_id": "b42"}, "replayed": true}'


def validate(schema: str, path: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_action_is_valid_under_githubs_schema() -> None:
    validate("vendor.github-actions", ACTION_DIR / "action.yml")


@pytest.mark.parametrize("step_id", ["install", "ledger"])
def test_the_steps_scripts_pass_shellcheck(
    step_id: str, tool: Callable[[str], Path], tmp_path: Path
) -> None:
    [step] = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    script = tmp_path / f"{step_id}.sh"
    script.write_text("#!/usr/bin/env bash\n" + step["run"])
    checked = subprocess.run([str(tool("shellcheck")), str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_samples_name_every_input_but_the_plumbing() -> None:
    assert set(SAMPLES) | PLUMBING == set(action()["inputs"])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_input_becomes_an_option_the_cli_accepts(command: str, tmp_path: Path) -> None:
    argv = passed(command, SAMPLES, tmp_path)
    assert tuple(argv[: len(COMMANDS[command])]) == COMMANDS[command]
    unreachable = f"http://127.0.0.1:{free_port()}"
    env = {"LEDGER_URL": unreachable, "GITLAB_CI": None} | GITHUB
    done = CliRunner().invoke(ledger_cli, argv, prog_name="ledger", env=env)
    assert done.exit_code == 1, done.output  # parsed and sent: 2 would be a usage error
    assert f"cannot reach the ledger at {unreachable}" in done.output


def test_each_input_reaches_the_command_line_of_a_command(tmp_path: Path) -> None:
    reached: set[str] = set()
    for command in COMMANDS:
        argv = passed(command, SAMPLES, tmp_path)
        reached |= {name for name, value in SAMPLES.items() if value in argv}
        if "--canary" in argv:
            reached.add("canary")
    assert reached == set(SAMPLES)


def test_inputs_left_empty_leave_the_clis_defaults(tmp_path: Path) -> None:
    argv = passed("build", {"app": "shop", "digest": SAMPLES["digest"]}, tmp_path)
    assert argv == ["build", "record", "shop", "--digest", SAMPLES["digest"], "--json"]
    argv = passed("deploy", {"app": "shop", "env": "prod", "build-id": "b42"}, tmp_path)
    assert argv == ["deploy", "shop", "prod", "--build", "b42", "--json"]


def test_the_answer_becomes_the_steps_outputs(tmp_path: Path) -> None:
    ledger, _ = stub_ledger(tmp_path, ANSWER)
    ran = run_step(
        "ledger", {"command": "build", "app": "shop", "digest": SAMPLES["digest"]},
        environ=job_environ(), workdir=tmp_path,
        earlier={"install": {"ledger": str(ledger), "python": sys.executable}},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.outputs == {
        "build-id": "b42", "release": "", "request-id": "", "position": "7",
        "replayed": "true", "answer": ANSWER,
    }  # fmt: skip


def test_an_unknown_command_is_an_error_annotation(tmp_path: Path) -> None:
    ledger, argv = stub_ledger(tmp_path, ANSWER)
    earlier = {"install": {"ledger": str(ledger), "python": sys.executable}}
    inputs = {"command": "promote", "app": "shop"}
    ran = run_step("ledger", inputs, environ=job_environ(), workdir=tmp_path, earlier=earlier)
    assert ran.returncode == 2 and not argv.exists()
    assert "::error title=release ledger::the command input is build or deploy" in ran.stdout


def test_a_version_needs_the_repository_it_is_a_ref_of(tmp_path: Path) -> None:
    earlier = {"python": {"python-path": sys.executable}}
    ran = run_step(
        "install", {"version": "v0.1.0"}, environ=job_environ(), workdir=tmp_path, earlier=earlier
    )
    assert ran.returncode == 2 and "needs the repository input" in ran.stdout
    assert not (tmp_path / "release-ledger").exists()


def test_the_readme_workflow_is_valid_and_uses_the_actions_inputs(tmp_path: Path) -> None:
    text = (ACTION_DIR / "README.md").read_text()
    [workflow] = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    path = tmp_path / "workflow.yml"
    path.write_text(workflow)
    validate("vendor.github-workflows", path)
    declared = action()["inputs"]
    required = {name for name, spec in declared.items() if spec.get("required")}
    uses = [
        s for job in yaml.safe_load(workflow)["jobs"].values() for s in job["steps"]
        if "deploy/github-action" in s.get("uses", "")
    ]  # fmt: skip
    assert {s["with"]["command"] for s in uses} == set(COMMANDS)
    for used in uses:
        assert required <= set(used["with"]) <= set(declared), used


def passed(command: str, inputs: dict[str, str], workdir: Path) -> list[str]:
    """The arguments the action's step runs `ledger` with, for these inputs."""
    ledger, argv = stub_ledger(workdir, ANSWER)
    ran = run_step(
        "ledger", inputs | {"command": command, "ledger-url": "http://ledger.example"},
        environ=job_environ(), workdir=workdir,
        earlier={"install": {"ledger": str(ledger), "python": sys.executable}},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return argv.read_text().splitlines()


def job_environ() -> dict[str, str]:
    """What a job's step finds: PATH, HOME and the run's variables (no GITHUB_SHA: no commit
    to read the time of), none of a CI running these tests."""
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | GITHUB
