"""Flag services' webhooks over HTTP, on each backend: a connector of each kind (Unleash,
Flagsmith, LaunchDarkly) registered with curl-like requests, then the tool's published payload
delivered to its receiver URL as the tool sends it. A delivery the tool proved it sent flips the
flag (state and history, via the tool, by the tool's actor); a forged one is refused and
recorded as denied; a repeat is answered as the first and appended once; names the connector
cannot map, and apps the ledger does not have, are listed with the connector's deliveries."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from ..answers import Answer
from ..flag_payloads import LD_ENV, LD_FLAG, LD_PROJECT, body, launchdarkly_flag_entry, raw
from ..flag_payloads import headers as signed
from .conftest import Api

pytestmark = pytest.mark.e2e
SECRET = "shared-secret-of-the-webhook-0123"
_SERIAL = itertools.count(1)


@dataclass(frozen=True)
class Tool:
    """A tool's delivery of a flag turned on, and the names and actor it carries."""

    kind: str
    sent: bytes
    project: str
    environment: str
    flag: str
    actor: str
    rollout_percent: int | None = None


TOOLS = [
    Tool("unleash", raw("unleash", "feature-environment-enabled"), "my-other-project",
         "development", "new-feature", "user@company.com"),
    Tool("flagsmith", raw("flagsmith", "flag-updated"), "Flagsmith Website", "Development",
         "butter_bar", "user@domain.com"),
    Tool("launchdarkly",
         body(launchdarkly_flag_entry(rollout=[{"variation": 0, "weight": 15000},
                                               {"variation": 1, "weight": 85000}])),
         LD_PROJECT, LD_ENV, LD_FLAG, "ariel@acme.com", rollout_percent=15),
]  # fmt: skip


@pytest.fixture(params=TOOLS, ids=[t.kind for t in TOOLS])
def tool(request: pytest.FixtureRequest) -> Tool:
    chosen: Tool = request.param
    return chosen


@dataclass
class Connector:
    """A connector of this test's own, for an app of its own (``app``/``env`` fixed unless
    the mapping given says otherwise)."""

    api: Api
    tool: Tool
    name: str
    app: str
    env: str = "prod"

    @classmethod
    def registered(cls, api: Api, tool: Tool, **mapping: Any) -> Connector:
        serial = next(_SERIAL)
        made = cls(api, tool, f"{tool.kind}-{serial}", f"{tool.kind}-app-{serial}")
        api.write("POST", "/v1/apps", {"name": made.app})
        fixed = {"app": made.app, "env": made.env} | mapping
        new = {"kind": tool.kind, "name": made.name, "secret": SECRET, "mapping": fixed}
        answer = api.request("POST", "/v1/connectors", new)
        assert answer.status == 201, api.explain(answer)
        assert answer.json["receiver_url"].endswith(f"/v1/connectors/{made.name}/events")
        return made

    def deliver(self, sent: bytes | None = None, secret: str = SECRET) -> Answer:
        sent = self.tool.sent if sent is None else sent
        path = f"/v1/connectors/{self.name}/events"
        return self.api.request(
            "POST", path, raw=sent, headers=signed(self.tool.kind, secret, sent)
        )

    def deliveries(self, outcome: str) -> list[dict[str, Any]]:
        path = f"/v1/connectors/{self.name}/deliveries"
        items: list[dict[str, Any]] = self.api.read(path, outcome=outcome)["items"]
        return items

    def flag_history(self) -> list[dict[str, Any]]:
        return self.api.history(app=self.app, kind="flag")


def test_a_delivery_the_tool_signed_flips_the_flag_by_the_tools_actor(api: Api, tool: Tool) -> None:
    connector = Connector.registered(api, tool)
    answer = connector.deliver()
    assert answer.status == 201, api.explain(answer)
    assert answer.json["outcome"] == "recorded" and answer.json["results"][0]["op"] == "set_flag"
    state = api.read(f"/v1/apps/{connector.app}/envs/prod")
    assert state["flags"] == {tool.flag: {"enabled": True, "rollout_percent": tool.rollout_percent}}
    [item] = connector.flag_history()
    assert (item["actor"], item["actor_kind"], item["via"]) == (tool.actor, "human", tool.kind)
    assert item["reason"], item


def test_a_forged_delivery_is_refused_and_recorded_as_denied(api: Api, tool: Tool) -> None:
    connector = Connector.registered(api, tool)
    answer = connector.deliver(secret="not-the-connectors-secret")
    answer.problem(401)
    [denied] = api.history(app=connector.app, kind="denied")
    assert denied["data"]["gate"] == "signature" and denied["via"] == tool.kind, denied
    assert connector.flag_history() == []
    assert [d["outcome"] for d in connector.deliveries("rejected")] == ["rejected"]


def test_a_repeated_delivery_gets_the_first_answer_and_is_appended_once(
    api: Api, tool: Tool
) -> None:
    connector = Connector.registered(api, tool)
    first = connector.deliver()
    assert first.status == 201, api.explain(first)
    again = connector.deliver()
    assert again.status == 201 and again.json == first.json | {"replayed": True}, again
    assert len(connector.flag_history()) == 1
    [recorded] = connector.deliveries("recorded")
    assert recorded["delivery_id"] == first.json["delivery_id"]


def test_names_the_mapping_unmaps_are_listed_as_unmapped(api: Api, tool: Tool) -> None:
    connector = Connector.registered(api, tool, env=None, envs={tool.environment: ""})
    answer = connector.deliver()
    assert answer.status == 202 and answer.json["outcome"] == "unmapped", answer
    [unmapped] = connector.deliveries("unmapped")
    assert unmapped["detail"] == answer.json["detail"] and tool.environment in unmapped["detail"]
    assert connector.flag_history() == []


def test_a_project_renamed_to_an_app_the_ledger_lacks_is_refused(api: Api, tool: Tool) -> None:
    """The app must exist: the command is refused as any write for an unknown app (404)."""
    connector = Connector.registered(api, tool, app=None, apps={tool.project: "no-such-app"})
    answer = connector.deliver()
    assert answer.status == 404 and answer.json["outcome"] == "refused", answer
    assert answer.json["results"][0]["problem"]["status"] == 404
    [refused] = connector.deliveries("refused")
    assert "no-such-app" in refused["detail"]
