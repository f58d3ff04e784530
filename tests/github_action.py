"""A step of the GitHub composite action deploy/github-action/action.yml, run on this machine
as a runner runs it: its ``env`` resolved (the action's inputs with their defaults, the outputs
of the steps before it, ``github.action_path``), its script in bash with the runner's flags and
files (GITHUB_OUTPUT, GITHUB_PATH, RUNNER_TEMP), and the outputs it wrote read back.

Only the expressions the action uses are understood; any other makes the run fail, so the
action stays as simple as this runner."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION_DIR = ROOT / "deploy" / "github-action"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def action() -> dict[str, Any]:
    """action.yml, parsed."""
    loaded: dict[str, Any] = yaml.safe_load((ACTION_DIR / "action.yml").read_text())
    return loaded


def step(step_id: str) -> dict[str, Any]:
    [found] = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    return found


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    path: list[str]


def resolve(value: str, inputs: Mapping[str, str], earlier: Mapping[str, Mapping[str, str]]) -> str:
    """``${{ inputs.X }}``, ``${{ steps.ID.outputs.X }}`` and ``${{ github.action_path }}``."""

    def one(found: re.Match[str]) -> str:
        parts = found.group(1).split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return inputs[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return earlier[parts[1]][parts[3]]
        if parts == ["github", "action_path"]:
            return str(ACTION_DIR)
        raise ValueError(f"an expression this runner does not know: {found.group(0)}")

    return EXPRESSION.sub(one, str(value))


def with_defaults(inputs: Mapping[str, str]) -> dict[str, str]:
    """The inputs as the step sees them: those given, the defaults of the others."""
    declared = action()["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"the action has no input {sorted(unknown)}"
    return {name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}


def run_step(
    step_id: str,
    inputs: Mapping[str, str],
    *,
    environ: Mapping[str, str],
    workdir: Path,
    earlier: Mapping[str, Mapping[str, str]] | None = None,
) -> StepRun:
    """Run the step ``step_id`` with these inputs in ``environ`` (the job's variables)."""
    declared = step(step_id)
    given = with_defaults(inputs)
    env = dict(environ)
    for name, value in declared.get("env", {}).items():
        env[name] = resolve(value, given, earlier or {})
    files = {name: workdir / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_PATH")}
    for path in files.values():
        path.write_text("")
    env |= {name: str(path) for name, path in files.items()} | {"RUNNER_TEMP": str(workdir)}
    script = workdir / f"{step_id}.sh"
    script.write_text(declared["run"])
    assert declared["shell"] == "bash"
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env, cwd=workdir, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    print(f"--- step {step_id} → {done.returncode}\n{done.stdout}{done.stderr}")
    outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
    path = files["GITHUB_PATH"].read_text().splitlines()
    return StepRun(done.returncode, done.stdout, done.stderr, outputs, path)


def stub_ledger(workdir: Path, answer: str) -> tuple[Path, Path]:
    """A `ledger` that writes its arguments (one a line) to a file and prints ``answer``;
    the command and the file."""
    argv = workdir / "argv"
    command = workdir / "ledger-stub"
    command.write_text(f"#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > {argv}\necho '{answer}'\n")
    command.chmod(0o755)
    return command, argv
