"""/openapi.json says what the server does: a path parameter carries the pattern the server
enforces (a value outside it is refused naming the parameter, one inside it is looked up), and
a method a path does not take is 405 with the methods it does take in ``Allow``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient

from ledger.domain.commands import POLICY_APP_PATTERN
from ledger.domain.names import FLAG_PATTERN, NAME_PATTERN
from ledger.settings import Settings

from .conftest import app_clients

Client = TestClient[Any, Any]
GOOD = {"app": "shop", "env": "prod", "flag": "beta"}
BAD = {"app": "Shop_1", "env": "-prod", "flag": "beta flag"}


@pytest.fixture
async def client(data_dir: Path) -> AsyncIterator[Client]:
    async with app_clients() as start:
        yield await start(Settings(data_dir=data_dir))


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    async with client.get("/openapi.json") as answer:
        assert answer.status == 200
        body: dict[str, Any] = await answer.json()
        return body


def path_parameters(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, parameter) of every path parameter of every operation."""
    return [
        (method, path, p)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for p in operation["parameters"]
        if p["in"] == "path"
    ]


def test_names_carry_the_patterns_the_ledger_names_things_by(document: dict[str, Any]) -> None:
    expected = {"app": NAME_PATTERN, "env": NAME_PATTERN, "flag": FLAG_PATTERN}
    found = [
        (path, p["name"], p["schema"].get("pattern")) for _, path, p in path_parameters(document)
    ]
    assert {name for _, name, _ in found} >= set(expected)
    for path, name, pattern in found:
        if path.endswith(("/policy", "/policy/windows")) and name == "app":
            assert pattern == POLICY_APP_PATTERN, path  # an app, or * for every app
        elif name in expected:
            assert pattern == expected[name], name


def test_every_path_parameter_is_constrained(document: dict[str, Any]) -> None:
    for method, path, p in path_parameters(document):
        schema = p["schema"]
        constrained = {"pattern", "minimum", "format"} & set(schema)
        assert constrained, f"{method} {path}: {p['name']} is any string"


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values.get(m[1], "1"), path)


async def test_a_name_outside_its_pattern_is_refused_naming_it_and_one_inside_is_looked_up(
    client: Client, document: dict[str, Any]
) -> None:
    for method, path, p in path_parameters(document):
        name = p["name"]
        if name not in BAD:
            continue
        pattern = p["schema"]["pattern"]
        assert re.fullmatch(pattern, GOOD[name]) and not re.fullmatch(pattern, BAD[name])
        body = {"enabled": True} if method == "put" else {}
        if path.endswith("/policy"):
            body = {"reason": "r", "policy": {}}
        async with client.request(method, _fill(path, GOOD | {name: BAD[name]}), json=body) as r:
            problem = await r.json()
            assert r.status == 422, (method, path, problem)
            assert problem["errors"][0]["field"] == name, (method, path, problem)
        if method == "get":
            async with client.get(_fill(path, GOOD)) as r:
                refused = (await r.json()).get("errors", [{}])[0].get("field")
                assert r.status in (200, 404) or refused not in GOOD, (path, refused)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/apps", {"GET", "POST"}),
        ("POST", "/v1/history", {"GET"}),
        ("GET", "/v1/events:batch", {"POST"}),
    ],
)
async def test_a_method_a_path_does_not_take_is_405_with_allow(
    method: str, path: str, allowed: set[str], client: Client, document: dict[str, Any]
) -> None:
    async with client.request(method, path) as answer:
        assert answer.status == 405
        assert answer.content_type == "application/problem+json"
        methods = {m.strip() for m in answer.headers["Allow"].split(",")}
    documented = {m.upper() for m in document["paths"][path]}
    assert methods - {"HEAD"} == allowed == documented


EXAMPLES = [
    {"op": "create_app", "app": "shop", "idempotency_key": "import-1"},
    {"op": "record_build", "app": "shop", "build_id": "b1", "commit": "abc1234",
     "status": "succeeded", "artifact": {"digest": "sha256:aa"}},
    {"op": "change_config", "app": "shop", "env": "qa", "set": {"A": "1"}},
    {"op": "deploy", "app": "shop", "env": "qa", "build_id": "b1"},
    {"op": "set_flag", "app": "shop", "env": "qa", "flag": "beta", "enabled": True},
    {"op": "apply_migration", "app": "shop", "env": "qa", "migration_id": "m1",
     "schema_version": "1", "reversible": True},
    {"op": "deploy", "app": "shop", "env": "prod", "build_id": "b1", "strategy": "canary",
     "steps": [10, 100]},
    {"op": "progress_rollout", "app": "shop", "env": "prod", "version": 1, "status": "completed"},
    {"op": "promote", "app": "shop", "env": "staging", "from_env": "qa"},
    {"op": "rollback", "app": "shop", "env": "qa", "reason": "bad config"},
    {"op": "report_runtime", "app": "shop", "env": "qa", "reporter": "k8s:qa",
     "instances": [{"id": "shop-7d9c-abc", "artifact_digest": "sha256:" + "b" * 64}]},
    {"op": "record_evidence", "app": "shop", "build_id": "b1", "type": "tests",
     "status": "passed"},
    {"op": "set_policy", "app": "*", "env": "qa", "reason": "tested first",
     "policy": {"required_evidence": ["tests"]}},
]  # fmt: skip


def test_the_batch_body_is_one_operation_per_op(document: dict[str, Any]) -> None:
    from ledger.domain.commands import BATCHED as OPS

    body = document["paths"]["/v1/events:batch"]["post"]["requestBody"]
    items = body["content"]["application/json"]["schema"]["items"]
    assert items["discriminator"]["propertyName"] == "op"
    mapping = items["discriminator"]["mapping"]
    assert set(mapping) == set(OPS) == {e["op"] for e in EXAMPLES}
    for op, ref in mapping.items():
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert schema["properties"]["op"] == {"enum": [op]}
        fields = {"op", "idempotency_key", *OPS[op].__struct_fields__}
        assert set(schema["properties"]) == fields and schema["additionalProperties"] is False


async def test_items_as_documented_are_each_accepted(
    client: Client, document: dict[str, Any]
) -> None:
    body = document["paths"]["/v1/events:batch"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    jsonschema.validate(EXAMPLES, schema | {"components": document["components"]})
    async with client.post("/v1/events:batch", json=EXAMPLES) as answer:
        results = (await answer.json())["results"]
    assert [r["status"] for r in results] == [201] * len(EXAMPLES), results
