"""A GitHub repository as the connector's tests see it: an app of its own in the ledger, a
connector registered for it, and the webhook deliveries GitHub sends (its published example
payloads from tests/fixtures/github, made consistent by changing the loaded JSON), signed
with the connector's secret as GitHub signs them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...answers import Answer
from ..conftest import Api

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"
SECRET = "a-webhook-secret-of-the-repository"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
ADMIN = {"X-Ledger-Actor": "admin"}
_SERIAL = itertools.count(1)


def example(name: str) -> dict[str, Any]:
    """A published example payload (``tests/fixtures/github/<name>.json``), a fresh copy."""
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


_example = example


def signature(body: bytes, secret: str) -> str:
    """``X-Hub-Signature-256`` as GitHub computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Repository:
    """A repository named like its app, with a connector of its own on the ledger."""

    api: Api
    app: str
    connector: str
    mapping: dict[str, Any] = field(default_factory=dict)
    run_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(289782451))
    deployment_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(145988746))
    registered: dict[str, Any] = field(default_factory=dict)  # the answer to registering it

    @classmethod
    def new(cls, api: Api, create_app: bool = True, **mapping: Any) -> Repository:
        serial = next(_SERIAL)
        repo = cls(api, f"octo-repo-{serial}", f"github-{serial}", mapping)
        if create_app:
            api.write("POST", "/v1/apps", {"name": repo.app}, headers=ADMIN)
        repo.registered = repo.register()
        return repo

    def register(self) -> dict[str, Any]:
        body = {"kind": "github", "name": self.connector, "secret": SECRET}
        answer = self.api.request("POST", "/v1/connectors", body | {"mapping": self.mapping})
        assert answer.status == 201, self.api.explain(answer)
        created: dict[str, Any] = answer.json
        return created

    @property
    def path(self) -> str:
        return f"/v1/connectors/{self.connector}/events"

    # The deliveries -------------------------------------------------------------------------

    def send(
        self, event: str, payload: dict[str, Any], *, delivery: str | None = None,
        secret: str = SECRET,
    ) -> Answer:  # fmt: skip
        """POST the payload as GitHub does: JSON, signed, named by event and delivery id."""
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "109948940", "X-Hub-Signature-256": signature(body, secret),
        }  # fmt: skip
        return self.api.request("POST", self.path, raw=body, headers=headers)

    def ours(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as this repository's (its name; GitHub's examples are of others)."""
        payload["repository"] |= {"name": self.app, "full_name": f"octo-org/{self.app}"}
        return payload

    def run(
        self, action: str = "completed", conclusion: str | None = "success", **changes: Any
    ) -> dict[str, Any]:
        """A workflow run of this repository (a new run id unless ``id`` says)."""
        name = "workflow_run.requested" if action != "completed" else "workflow_run.completed"
        payload = self.ours(example(name))
        payload["action"] = action
        run = payload["workflow_run"]
        run |= {"id": next(self.run_ids), "conclusion": conclusion} | changes
        return payload

    def deployment(self, sha: str, environment: str = "staging", **changes: Any) -> dict[str, Any]:
        """A deployment of ``sha`` to ``environment`` created by GitHub Actions."""
        payload = self.ours(example("deployment"))
        deployed = payload["deployment"]
        deployed |= {"id": next(self.deployment_ids), "sha": sha, "environment": environment}
        deployed |= {"creator": deployed["creator"] | BOT} | changes
        return payload

    def status(
        self, deployment: dict[str, Any], state: str, example: str = "deployment_status"
    ) -> dict[str, Any]:
        """A status of that deployment (GitHub's example, in the state given)."""
        payload = self.ours(_example(example))
        payload["deployment"] = copy.deepcopy(deployment["deployment"])
        payload["deployment_status"] |= {"state": state, "creator": BOT}
        return payload

    # What the ledger says -------------------------------------------------------------------

    def build(self, build_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.read(f"/v1/apps/{self.app}/builds/{build_id}")
        return found

    def release(self, env: str = "staging", version: int | None = None) -> dict[str, Any] | None:
        """The release that runs in ``env`` (or release ``version``); None: none yet."""
        path = f"/v1/apps/{self.app}/envs/{env}"
        if version is not None:
            found: dict[str, Any] = self.api.read(f"{path}/releases/{version}")
            return found
        if self.api.get(path, min_position=self.api.last_position or None).status == 404:
            return None  # the environment has no events yet
        release: dict[str, Any] | None = self.api.read(path)["release"]
        return release

    def deliveries(self, outcome: str | None = None) -> list[dict[str, Any]]:
        path = f"/v1/connectors/{self.connector}/deliveries"
        items: list[dict[str, Any]] = self.api.read(path, outcome=outcome)["items"]
        return items

    def counts(self) -> dict[str, int]:
        """The connector's counts as GET /v1/connectors lists them."""
        listed = self.api.read("/v1/connectors")["connectors"]
        [ours] = [c for c in listed if c["name"] == self.connector]
        counts: dict[str, int] = ours["counts"]
        return counts

    def history(self, **query: Any) -> list[dict[str, Any]]:
        return self.api.history(app=self.app, limit=100, **query)


def build_id(payload: dict[str, Any]) -> str:
    """The ledger's id of the build a workflow run payload tells of."""
    run = payload["workflow_run"]
    return f"gh-{run['id']}-{run['run_attempt']}"


def answered(answer: Answer, status: int, outcome: str) -> dict[str, Any]:
    """The receiver's answer, which must have this status and outcome."""
    assert answer.status == status, answer
    body: dict[str, Any] = answer.json
    assert body["outcome"] == outcome, answer
    return body
