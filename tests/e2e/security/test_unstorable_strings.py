"""Characters no store can keep — NUL (U+0000) and lone surrogates (U+D800-U+DFFF) — are refused
at the boundary, on every write route and in every batch op, with a 422 naming the field; never
a 5xx, and the views keep following the log to its head (ingested CDEvents and path parameters:
test_unstorable_cdevents_and_paths.py).

The string fields come from the server's own OpenAPI document: a new write route or a new field
is covered as soon as it is published (a write route without an example body here fails).
Each field gets the characters as JSON escapes (``"\\u0000"``, ``"\\ud800"``, ``"\\udfff"``) and
as raw bytes (a raw NUL, the UTF-8-like bytes of a surrogate), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .unstorable import (
    BAD,
    BUILD,
    PATH_VALUES,
    STAGING,
    Api,
    assert_nothing_but_probes_since,
    assert_views_reach_the_head,
    concrete,
    encodings,
    openapi_of,
    refused,
    seed,
)

pytestmark = pytest.mark.e2e

Place = tuple[str | int, ...]  # in a body: member names, list indices, "*" a dict key or value
INSTANCE = {"id": "shop-7d9c-abc", "artifact_digest": "sha256:" + "a" * 64}
EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/apps"): {"name": "fresh"},
    ("POST", "/v1/apps/{app}/builds"): BUILD | {"build_id": "fresh"},
    ("POST", "/v1/apps/{app}/envs/{env}/config"): {"set": {"A": "1"}},
    ("PUT", "/v1/apps/{app}/envs/{env}/flags/{flag}"): {"enabled": True},
    ("POST", "/v1/apps/{app}/envs/{env}/deploys"): {"build_id": "ok"},
    ("POST", "/v1/apps/{app}/envs/{env}/releases/{version}/rollout"): {"percent": 50},
    ("POST", "/v1/apps/{app}/envs/{env}/migrations"): {
        "migration_id": "m-fresh",
        "schema_version": "2",
        "reversible": True,
    },
    ("POST", "/v1/apps/{app}/envs/{env}/rollback"): {"reason": "bad"},
    ("POST", "/v1/apps/{app}/envs/{env}/promote"): {"from_env": "staging"},
    ("POST", "/v1/events:batch"): {},  # its items: test_every_string_field_of_every_batch_op
    ("POST", "/v1/cdevents"): {},  # its fields: test_unstorable_cdevents_and_paths.py
    ("POST", "/v1/webhooks"): {"url": "http://127.0.0.1:9/hook"},
    ("POST", "/v1/webhooks/{id}/resume"): {},  # no body; its path parameter: the paths test
    ("POST", "/v1/runtime/reports"): {
        "reporter": "k8s:staging",
        "env": "staging",
        "workloads": [{"app": "shop", "instances": [INSTANCE]}],
    },
    ("POST", "/v1/apps/{app}/envs/{env}/runtime"): {
        "reporter": "k8s:staging",
        "instances": [INSTANCE],
    },
    ("PUT", "/v1/apps/{app}/envs/{env}/policy"): {"reason": "why", "policy": {}},
    ("POST", "/v1/apps/{app}/builds/{build_id}/evidence"): {"type": "tests", "status": "passed"},
    ("POST", "/v1/requests/{request_id}/approve"): {},
    ("POST", "/v1/requests/{request_id}/reject"): {"reason": "no"},
    ("POST", "/v1/connectors"): {"kind": "github", "name": "fresh"},
    ("POST", "/v1/connectors/{name}/events"): {},  # the tool's payload: each receiver's tests
}
STEPS = "/v1/requests/"
"""Routes that step a change request named by its id: write routes that are no batch op."""


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The schema a $ref names, and the non-null member of an anyOf (an optional field)."""
    while True:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in schema:
            members = [s for s in schema["anyOf"] if s.get("type") != "null"]
            schema = next((m for m in members if _is_text(m, components)), members[0])
        else:
            return schema


def _is_text(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    return resolve(schema, components).get("type") == "string"


def string_fields(
    schema: dict[str, Any], components: dict[str, Any], at: Place = ()
) -> list[Place]:
    """Every place in a body that the schema says holds a string (dict keys included)."""
    schema = resolve(schema, components)
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema and "format" not in schema:
        return [at]
    if kind == "array":
        return string_fields(schema.get("items", {}), components, (*at, 0))
    if kind != "object":
        return []
    found: list[Place] = []
    for name, member in schema.get("properties", {}).items():
        found += string_fields(member, components, (*at, name))
    if isinstance(schema.get("additionalProperties"), dict):
        found.append((*at, "*key"))
        found += string_fields(schema["additionalProperties"], components, (*at, "*"))
    return found


def with_value(body: dict[str, Any], place: Place, bad: str) -> dict[str, Any]:
    """A copy of the body with ``bad`` (inside a plausible value) at the place, made if absent."""
    changed = copy.deepcopy(body)
    node: Any = changed
    for step, following in itertools.pairwise(place):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            node[:] = node or [empty]
            node = node[0]
        else:
            node = node.setdefault("K" if step == "*" else step, empty)
    value = f"x{bad}" + "y" * 16  # long enough for any minimum length
    last = place[-1]
    if last == "*key":
        node[value] = "1"
    elif isinstance(last, int):
        node[:] = [value]
    else:
        node["K" if last == "*" else last] = value
    return changed


def field_named(place: Place) -> str:
    """The field a problem names for the place: the members down to the first list or dict."""
    names: list[str] = []
    for step in place:
        if not isinstance(step, str) or step.startswith("*"):
            break
        names.append(step)
    return ".".join(names)


def write_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch") and path.startswith("/v1/"):
                yield method.upper(), path, operation


@pytest.fixture(scope="module")
def shop(api: Api) -> Api:
    """The module's server with the app ``shop`` running in staging."""
    return seed(api)


@pytest.fixture(scope="module")
def openapi(shop: Api) -> dict[str, Any]:
    return openapi_of(shop)


# --------------------------------------------------------------------------------------------
# Tests


def test_every_string_field_of_every_write_route_refuses_unstorable_characters(
    shop: Api, openapi: dict[str, Any]
) -> None:
    start = shop.last_position
    components = openapi["components"]["schemas"]
    failures: list[str] = []
    cases = 0
    for method, path, operation in write_operations(openapi):
        assert (method, path) in EXAMPLES, f"{method} {path}: a write route with no cases here"
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not EXAMPLES[(method, path)] or body_schema is None:
            continue
        places = string_fields(body_schema["schema"], components)
        assert places, f"{method} {path}: no string field found in its schema"
        for place in places:
            for name, bad in BAD.items():
                body = with_value(EXAMPLES[(method, path)], place, bad)
                for how, raw in encodings(body):
                    cases += 1
                    answer = shop.request(method, concrete(path), raw=raw)
                    why = refused(answer, field_named(place))
                    if why:
                        failures.append(f"{method} {path} {place} {name} {how}: {why}")
    assert failures == [], "\n".join(failures)
    assert cases > 100
    assert_nothing_but_probes_since(shop, start)
    assert_views_reach_the_head(shop)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_string_field_of_every_batch_op_refuses_unstorable_characters(
    shop: Api, openapi: dict[str, Any]
) -> None:
    """Each op of a batch is a write route's command: its fields, path parameters included."""
    start = shop.last_position
    components = openapi["components"]["schemas"]
    ops = {
        schema["title"].removesuffix("Body"): (method, path)
        for method, path, operation in write_operations(openapi)
        if _answers_a_write_result(operation)
        and not path.startswith(STEPS)
        and (schema := _body_component(operation, components)) is not None
    }
    batch = openapi["paths"]["/v1/events:batch"]["post"]["requestBody"]["content"]
    batch_ops = list(batch["application/json"]["schema"]["items"]["discriminator"]["mapping"])
    assert sorted(snake(c) for c in ops) == sorted(batch_ops), "a batch op with no write route"
    failures: list[str] = []
    for command, (method, path) in ops.items():
        params = {p: PATH_VALUES[p] for p in re.findall(r"{(\w+)}", path)}
        example = {"app": "shop"} | params | EXAMPLES[(method, path)]
        example.pop("name", None)
        if "version" in example:
            example["version"] = int(example["version"])
        item = {"op": snake(command)} | example
        for place in [*string_fields(components[command], components), ("idempotency_key",)]:
            for name, bad in BAD.items():
                for how, raw in encodings([with_value(item, place, bad)]):
                    answer = shop.request("POST", "/v1/events:batch", raw=raw)
                    field = field_named(place)
                    why = _batch_refused(answer, field)
                    if why:
                        failures.append(f"{command} {place} {name} {how}: {why}")
    assert failures == [], "\n".join(failures)
    assert_nothing_but_probes_since(shop, start)
    assert_views_reach_the_head(shop)


def _answers_a_write_result(operation: dict[str, Any]) -> bool:
    content = operation["responses"].get("201", {}).get("content", {}).get("application/json")
    return str((content or {}).get("schema", {}).get("$ref", "")).endswith("/WriteResult")


def _body_component(operation: dict[str, Any], components: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    ref = (content or {}).get("schema", {}).get("$ref", "")
    schema = components.get(ref.rsplit("/", 1)[-1]) if ref else None
    return schema if schema and schema.get("title", "").endswith("Body") else None


def _batch_refused(answer: Any, field: str) -> str | None:
    """None when the item is refused with 422 naming the field, or (a body msgspec cannot
    decode) the whole batch is refused with 422 naming the item's field."""
    if answer.status == 422:
        return refused(answer, f"[0].{field}")
    if answer.status != 200:
        return repr(answer)
    result = answer.json["results"][0]
    if result["status"] != 422:
        return repr(answer)
    named = [e["field"] for e in result["problem"].get("errors", [])]
    if not any(n == field or n.startswith((f"{field}.", f"{field}[")) for n in named):
        return f"no error names {field!r}: {answer!r}"
    return None


def test_a_schema_version_with_nul_is_refused_and_the_views_go_on(shop: Api) -> None:
    body = {"migration_id": "m-nul", "schema_version": "v\u00002", "reversible": True}
    shop.request("POST", f"{STAGING}/migrations", body).problem(422, "schema_version")
    assert_views_reach_the_head(shop)
