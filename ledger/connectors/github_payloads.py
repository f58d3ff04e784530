"""The parts of GitHub's webhook payloads the ledger reads, typed (GitHub sends much more;
what is not named here is left unread)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta, Struct

from ledger.connectors.translation import Malformed

Sha = Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{40,64}$")]
P = TypeVar("P", bound=Struct)


class Account(Struct, frozen=True, kw_only=True):
    login: str
    type: str = "User"  # "Bot" for apps such as github-actions[bot]


class Repository(Struct, frozen=True, kw_only=True):
    name: str
    full_name: str = ""


class Payload(Struct, frozen=True, kw_only=True):
    """What every delivery of the events the ledger reads carries."""

    action: str = ""
    repository: Repository
    sender: Account | None = None


class HeadCommit(Struct, frozen=True, kw_only=True):
    timestamp: datetime | None = None


class WorkflowRun(Struct, frozen=True, kw_only=True):
    id: int
    head_sha: Sha
    name: str | None = None
    path: str = ""
    head_branch: str | None = None
    run_attempt: int = 1
    conclusion: str | None = None
    html_url: str | None = None
    updated_at: datetime | None = None
    head_commit: HeadCommit | None = None
    actor: Account | None = None
    triggering_actor: Account | None = None


class Workflow(Struct, frozen=True, kw_only=True):
    name: str = ""
    path: str = ""


class WorkflowRunEvent(Payload, frozen=True, kw_only=True):
    workflow_run: WorkflowRun
    workflow: Workflow | None = None


class Deployment(Struct, frozen=True, kw_only=True):
    id: int
    sha: Sha
    environment: str
    ref: str = ""
    description: str | None = None
    creator: Account | None = None
    payload: dict[str, Any] | str | None = None


class DeploymentEvent(Payload, frozen=True, kw_only=True):
    deployment: Deployment


class DeploymentStatus(Struct, frozen=True, kw_only=True):
    state: str
    description: str | None = None
    creator: Account | None = None


class DeploymentStatusEvent(Payload, frozen=True, kw_only=True):
    deployment_status: DeploymentStatus
    deployment: Deployment


class Release(Struct, frozen=True, kw_only=True):
    tag_name: str
    target_commitish: str
    html_url: str | None = None
    author: Account | None = None


class ReleaseEvent(Payload, frozen=True, kw_only=True):
    release: Release


def decoded(body: bytes, shape: type[P], event: str) -> P:
    """The payload of a delivery of ``event``, or Malformed saying what is wrong with it."""
    try:
        return msgspec.json.decode(body, type=shape)
    except msgspec.DecodeError as error:
        raise Malformed(
            f"the {event} delivery is no JSON (set the webhook's content type to "
            f"application/json): {error}"
        ) from None
    except msgspec.ValidationError as error:
        raise Malformed(f"the {event} delivery is not as GitHub sends it: {error}") from None
