"""Places of the gates' tests: an app no other test touches, in one environment, with the
steps that set it up (Given), the requests clients send to change it (When) and the reads that
show what happened (Then); an ``Outcome`` is what a path answered, whatever it was."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...answers import Answer
from ..conftest import Api

Headers = Mapping[str, str]
_SERIAL = itertools.count(1)


def actor(name: str, kind: str = "human") -> dict[str, str]:
    """Who a request comes from in open mode (no tokens)."""
    return {"X-Ledger-Actor": name, "X-Ledger-Actor-Kind": kind}


def bearer(token: str) -> dict[str, str]:
    """Who a request comes from on a ledger with tokens."""
    return {"Authorization": f"Bearer {token}"}


CI = actor("ci-bot", "ci")
ALICE, BOB, CAROL = actor("alice"), actor("bob"), actor("carol")


def digest_hex(build: str) -> str:
    """The artifact digest (hex) of a build name: a CDEvent names a build by its digest."""
    return hashlib.sha256(build.encode()).hexdigest()


def build_id(build: str) -> str:
    """The id the ledger gives the build of an artifact a CDEvent names: its digest's start."""
    return digest_hex(build)[:12]


@dataclass
class Outcome:
    """What one path answered: the status, and the result or problem it carried."""

    status: int
    body: dict[str, Any]
    said: str = ""  # the answer as received, for failure messages

    @classmethod
    def of(cls, answer: Answer) -> Outcome:
        return cls(answer.status, answer.json, repr(answer))

    def refused(self, status: int, gate: str) -> dict[str, Any]:
        """The problem of a refusal by this gate, with the policy that refused it."""
        assert (self.status, self.body.get("status")) == (status, status), self.said
        assert self.body.get("gate") == gate and self.body.get("policy"), self.said
        return self.body

    def waiting(self) -> dict[str, Any]:
        """The change request a change became (202): pending, and no release."""
        assert self.status == 202, self.said
        assert self.body.get("release") is None, self.said
        request: dict[str, Any] = self.body["request"]
        assert request["status"] == "pending", self.said
        assert request["waiting_for"]["approvals"] >= 1, self.said
        return request

    def released(self) -> dict[str, Any]:
        """The release a change made (201)."""
        assert self.status == 201, self.said
        release: dict[str, Any] = self.body["release"]
        return release


@dataclass
class Place:
    """An app of its own in one environment, and the requests that set it up and change it.
    ``admin`` and ``ci`` are the headers of an administrator and of the pipeline."""

    api: Api
    app: str
    env: str
    admin: Headers = field(default_factory=dict)
    ci: Headers = field(default_factory=lambda: CI)

    @classmethod
    def new(cls, api: Api, env: str = "prod", **headers: Headers) -> Place:
        """A new app (``shop-<n>``) in ``env``, created."""
        place = cls(api, f"shop-{next(_SERIAL)}", env, **headers)
        api.write("POST", "/v1/apps", {"name": place.app}, headers=place.admin)
        return place

    def at(self, env: str) -> str:
        return f"/v1/apps/{self.app}/envs/{env}"

    @property
    def path(self) -> str:
        return self.at(self.env)

    # Given ----------------------------------------------------------------------------------

    def build(self, name: str = "b1", **evidence: str) -> str:
        """A build that succeeded in CI (with its pipeline run), with evidence (type=status);
        returns its id."""
        digest = digest_hex(name)
        body = {
            "build_id": build_id(name),
            "commit": digest[:40],
            "artifact": {"digest": f"sha256:{digest}"},
            "status": "succeeded",
            "pipeline": {"name": f"{self.app}-ci", "run_id": name},
        }
        self.api.write("POST", f"/v1/apps/{self.app}/builds", body, headers=self.ci)
        for kind, status in evidence.items():
            self.evidence(build_id(name), kind, status)
        return build_id(name)

    def evidence(self, build: str, kind: str, status: str) -> Any:
        body = {"type": kind, "status": status, "url": f"https://ci.example/{build}/{kind}"}
        path = f"/v1/apps/{self.app}/builds/{build}/evidence"
        return self.api.write("POST", path, body, headers=self.ci)

    def policy(self, *, app: str | None = None, env: str | None = None, **document: Any) -> Any:
        """Set a level's policy (this app's, or ``app="*"`` for every app) in the place's env."""
        path = f"/v1/apps/{app or self.app}/envs/{env or self.env}/policy"
        body = {"reason": "gates under test", "policy": document}
        return self.api.write("PUT", path, body, headers=self.admin)

    def released(self, build: str, env: str | None = None) -> dict[str, Any]:
        """A deploy by the pipeline that must make its release."""
        path = f"{self.at(env or self.env)}/deploys"
        release: dict[str, Any] = self.api.write(
            "POST", path, {"build_id": build}, headers=self.ci
        )["release"]
        return release

    # When -----------------------------------------------------------------------------------

    def send(self, method: str, path: str, body: object, by: Headers) -> Answer:
        return self.api.request(method, path, body, headers=by)

    def deploy(self, build: str, by: Headers | None = None, **body: Any) -> Answer:
        return self.send("POST", f"{self.path}/deploys", {"build_id": build, **body}, by or self.ci)

    def promote(self, from_env: str, by: Headers | None = None, **body: Any) -> Answer:
        body = {"from_env": from_env, **body}
        return self.send("POST", f"{self.path}/promote", body, by or self.ci)

    def configure(self, by: Headers | None = None, **body: Any) -> Answer:
        body = {"set": {"FEATURE": "on"}} | body
        return self.send("POST", f"{self.path}/config", body, by or self.ci)

    def rollback(self, by: Headers | None = None, **body: Any) -> Answer:
        body = {"reason": "errors after the release"} | body
        return self.send("POST", f"{self.path}/rollback", body, by or self.ci)

    def approve(self, request: str, by: Headers, **body: Any) -> Answer:
        return self.send("POST", f"/v1/requests/{request}/approve", body, by)

    # Then -----------------------------------------------------------------------------------

    def request(self, request: str) -> dict[str, Any]:
        """A change request as GET /v1/requests/{id} shows it."""
        view: dict[str, Any] = self.api.read(f"/v1/requests/{request}", min_position=None)
        return view

    def current(self, env: str | None = None) -> dict[str, Any] | None:
        """The release that runs in the environment now (None: none yet)."""
        answer = self.api.get(self.at(env or self.env))
        if answer.status == 404:
            return None
        assert answer.status == 200, answer
        release: dict[str, Any] | None = answer.json["release"]
        return release

    def version(self, env: str | None = None) -> int:
        """The version of the release that runs now (0: none yet)."""
        release = self.current(env)
        return release["version"] if release else 0

    def history(self, **query: Any) -> list[dict[str, Any]]:
        """This place's history, newest first."""
        return self.api.history(app=self.app, env=self.env, limit=100, **query)

    def denied(self) -> dict[str, Any]:
        """The newest refusal recorded here (history kind ``denied``)."""
        denials = self.history(kind="denied")
        assert denials, "no refusal recorded"
        return denials[0]

    def assessment(self, by: Headers | None = None, **query: str) -> dict[str, Any]:
        """What GET …/gates (``ledger assert``) says of a change."""
        answer = self.api.request("GET", f"{self.path}/gates", headers=by or self.ci, query=query)
        assert answer.status == 200, answer
        assessment: dict[str, Any] = answer.json
        return assessment


def requested(answer: Answer) -> str:
    """The id of the change request a change became."""
    return Outcome.of(answer).waiting()["id"]
