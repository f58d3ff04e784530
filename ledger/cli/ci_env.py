"""The CI run a command runs in, read from the variables GitHub Actions and GitLab CI set: the
facts of its pipeline, the correlation id of its writes, and their default idempotency keys."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SUPPORTED = "GitHub Actions (GITHUB_ACTIONS=true) and GitLab CI (GITLAB_CI=true)"
KEY_DIGEST_LENGTH = 32
HEADER_VALUE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,127}")
"""What the ledger takes in an Idempotency-Key or X-Ledger-Correlation-Id header."""


@dataclass(frozen=True)
class CiRun:
    """One run of a pipeline, as its CI names it."""

    provider: str
    run_id: str
    """GITHUB_RUN_ID or CI_PIPELINE_ID: every write of the run carries it as correlation id."""
    attempt: str
    """GITHUB_RUN_ATTEMPT or CI_JOB_ID: a re-run (a retried job) is a new attempt."""
    pipeline: str
    run_url: str | None = None
    commit: str | None = None
    branch: str | None = None
    committed_at: str | None = None

    @property
    def correlation_id(self) -> str | None:
        """The run id, when a header can carry it (CI run ids are numbers)."""
        return self.run_id if HEADER_VALUE.fullmatch(self.run_id) else None

    def idempotency_key(self, command: str, request: Mapping[str, Any]) -> str:
        """``github:<run>.<attempt>:<command>:<digest>``: the same command with the same
        request in the same attempt of a run is one write, however often it is sent."""
        run = f"{self.run_id}.{self.attempt}"
        key = f"{self.provider}:{run}:{command}:{request_digest(request)}"
        if HEADER_VALUE.fullmatch(key):
            return key
        return f"{self.provider}:{request_digest({'run': run})}:{command}:{request_digest(request)}"


def request_digest(request: Mapping[str, Any]) -> str:
    """A short digest of a request (sorted JSON), telling the commands of one run apart."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:KEY_DIGEST_LENGTH]


def detect(environ: Mapping[str, str] | None = None) -> CiRun | None:
    """The run of GitHub Actions or GitLab CI this process is part of, or None outside CI."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_RUN_ID"):
        return _github(env)
    if env.get("GITLAB_CI") == "true" and env.get("CI_PIPELINE_ID"):
        return _gitlab(env)
    return None


def _github(env: Mapping[str, str]) -> CiRun:
    run_id = env["GITHUB_RUN_ID"]
    server, repository = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if server and repository else None
    return CiRun(
        provider="github",
        run_id=run_id,
        attempt=env.get("GITHUB_RUN_ATTEMPT") or "1",
        pipeline=env.get("GITHUB_WORKFLOW") or "github-actions",
        run_url=run_url,
        commit=env.get("GITHUB_SHA") or None,
        branch=env.get("GITHUB_REF_NAME") or None,
    )


def _gitlab(env: Mapping[str, str]) -> CiRun:
    return CiRun(
        provider="gitlab",
        run_id=env["CI_PIPELINE_ID"],
        attempt=env.get("CI_JOB_ID") or "0",
        pipeline=env.get("CI_PIPELINE_NAME") or env.get("CI_PROJECT_PATH") or "gitlab-ci",
        run_url=env.get("CI_PIPELINE_URL") or None,
        commit=env.get("CI_COMMIT_SHA") or None,
        branch=env.get("CI_COMMIT_REF_NAME") or None,
        committed_at=env.get("CI_COMMIT_TIMESTAMP") or None,
    )
