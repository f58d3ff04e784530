"""The OpenAPI 3.1 document, generated from the route table and the msgspec types."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ledger import __version__
from ledger.connectors.models import CONNECTOR_NAME_PATTERN
from ledger.domain.commands import REQUEST_ID_PATTERN
from ledger.domain.names import BUILD_ID_PATTERN, FLAG_PATTERN, NAME_PATTERN
from ledger.http.consistency import CONSISTENCY, LATEST
from ledger.http.routing import Route
from ledger.webhooks.registry import ID_PATTERN as WEBHOOK_ID_PATTERN
from ledger.wire.shapes import Problem

REF = "#/components/schemas/{name}"


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    types = [t for r in routes for t in (r.body, r.response) if t is not None] + [Problem]
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    by_type = dict(zip(types, schemas, strict=True))
    for route in routes:
        if isinstance(route.body, type) and issubclass(route.body, msgspec.Struct):
            by_type[route.body] = _body_schema(route, components)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, by_type)
    return {
        "openapi": "3.1.0",
        "info": {"title": "release-ledger", "version": __version__},
        "paths": paths,
        "components": {"schemas": components},
    }


def _operation(route: Route, by_type: dict[Any, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": by_type[Problem]}}
    path_params = re.findall(r"{(\w+)}", route.path)
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.method.lower() + re.sub(r"\W+", "_", route.path),
        "parameters": [_param(p, "path", route.path_schemas) for p in path_params]
        + [_param(q, "query") for q in route.query],
        "responses": {
            **{str(status): _success(route, by_type) for status in (route.status, *route.also)},
            "default": {"description": "A problem", "content": problem},
        },
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": by_type[route.body]}},
        }
    return op


def _success(route: Route, by_type: dict[Any, Any]) -> dict[str, Any]:
    if route.response is None:
        return {"description": "Done, no content"}
    content: dict[str, Any] = {route.content_type: {"schema": by_type[route.response]}}
    if route.text is not None:
        content["text/plain"] = {"schema": {"type": "string", "description": route.text}}
    return {"description": "OK", "content": content}


INTEGER_PARAMETERS = frozenset(
    {"version", "limit", "after", "min_position", "a", "b", "release", "position", "days"}
    | {"weeks"}  # a DORA series' length
    | {"tree_size", "first", "second"}  # checkpoints: sizes of the log's Merkle tree
    | {"to_version"}  # an assessed rollback's target
)


PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "app": {"type": "string", "pattern": NAME_PATTERN},
    "env": {"type": "string", "pattern": NAME_PATTERN},
    "flag": {"type": "string", "pattern": FLAG_PATTERN},
    "event_id": {"type": "string", "format": "uuid"},
    "id": {"type": "string", "pattern": WEBHOOK_ID_PATTERN},
    "build_id": {"type": "string", "pattern": BUILD_ID_PATTERN},
    "name": {"type": "string", "pattern": CONNECTOR_NAME_PATTERN},
    "request_id": {"type": "string", "pattern": REQUEST_ID_PATTERN},
    "a": {"type": "integer", "minimum": 1},  # the releases compared
    "b": {"type": "integer", "minimum": 1},
}
"""Path parameters as the handlers check them (the others are integers, see above)."""

CONSISTENCY_PARAMETER = {
    "description": "latest (the default): the read includes every write acknowledged before "
    "it began, waiting up to LEDGER_READ_WAIT_SECONDS for the views (503 past that); "
    "eventual: the views as they are now, without a wait (for dashboards and pollers)",
    "schema": {"type": "string", "enum": list(CONSISTENCY), "default": LATEST},
}


def _param(name: str, where: str, own: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    integer = name in INTEGER_PARAMETERS
    schema = {"type": "integer", "minimum": 0} if integer else {"type": "string"}
    if where == "path":
        schema = (own or {}).get(name) or PATH_SCHEMAS.get(name, schema)
    param = {"name": name, "in": where, "required": where == "path", "schema": schema}
    return param | CONSISTENCY_PARAMETER if name == "consistency" else param


def _body_schema(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    """The command's schema as a request body: path parameters dropped, renamed fields."""
    name = route.body.__name__
    source = components[name] = _untagged(components[name], route.body)
    in_path = set(re.findall(r"{(\w+)}", route.path))
    inverse = {inner: outer for outer, inner in route.renames.items()}
    props = {inverse.get(k, k): v for k, v in source["properties"].items() if k not in in_path}
    required = [inverse.get(k, k) for k in source.get("required", []) if k not in in_path]
    body = {**source, "title": f"{name}Body", "properties": props, "required": required}
    components[f"{name}Body"] = body
    return {"$ref": REF.format(name=f"{name}Body")}


def _untagged(schema: dict[str, Any], command: type[msgspec.Struct]) -> dict[str, Any]:
    """The command without its ``op`` tag: a route names its command (a batch item needs it)."""
    tag = command.__struct_config__.tag_field
    props = {k: v for k, v in schema["properties"].items() if k != tag}
    required = [k for k in schema.get("required", []) if k != tag]
    return {**schema, "properties": props, "required": required}
