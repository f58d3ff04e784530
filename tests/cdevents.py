"""CDEvents for the tests: the project's fixtures (tests/fixtures/cdevents, one realistic event
per accepted type), the CDEvents v0.5.1 specification's conformance examples and JSON schemas
(tests/fixtures/cdevents/spec, Apache-2.0), and the three ways a CloudEvent carries a CDEvent."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from cloudevents.v1.conversion import to_binary, to_structured
from cloudevents.v1.http import CloudEvent
from referencing import Registry, Resource

FIXTURES = Path(__file__).parent / "fixtures" / "cdevents"
SPEC = FIXTURES / "spec" / "v0.5.1"
SCHEMAS = SPEC / "schemas"
ACCEPTED = (
    "build_finished",
    "artifact_published",
    "service_deployed",
    "service_upgraded",
    "service_rolledback",
    "environment_modified",
)
"""The fixtures of the types the ledger accepts, in the order a delivery tells them."""
UNMAPPED = tuple(
    p.stem for p in sorted((SPEC / "conformance").glob("*.json")) if p.stem not in ACCEPTED
)
"""The conformance examples of the types the ledger does not record (acknowledged, 202)."""
Event = dict[str, Any]


@cache
def _read(path: Path) -> Event:
    data: Event = json.loads(path.read_text())
    return data


def fixture(name: str) -> Event:
    """A fresh copy of one of the project's fixtures, by name (e.g. ``service_deployed``)."""
    return copy.deepcopy(_read(FIXTURES / f"{name}.json"))


def spec_example(name: str) -> Event:
    """A fresh copy of the CDEvents specification's conformance example of a type."""
    return copy.deepcopy(_read(SPEC / "conformance" / f"{name}.json"))


def wrap(event: Event, mode: str) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body of the CDEvent sent in ``mode``: ``structured`` or ``binary``
    (made by the CloudEvents SDK), or ``plain`` (the CDEvent alone)."""
    if mode == "plain":
        return {"Content-Type": "application/json"}, json.dumps(event).encode()
    context = event["context"]
    attributes = {k: context[k] for k in ("id", "source", "type")}
    cloudevent = CloudEvent(attributes | {"datacontenttype": "application/json"}, event)
    headers, body = to_structured(cloudevent) if mode == "structured" else to_binary(cloudevent)
    return {k.title(): v for k, v in headers.items()}, body


def validator(cd_type: str) -> jsonschema.Draft202012Validator:
    """The schema of a type (dev.cdevents.service.deployed.0.3.0 → servicedeployed.json)."""
    subject, predicate = cd_type.split(".")[2:4]
    schema = json.loads((SCHEMAS / f"{subject}{predicate}.json").read_text())
    resources = [
        (f"links/{p.stem}", Resource.from_contents(json.loads(p.read_text())))
        for p in (SCHEMAS / "links").glob("*.json")
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    return jsonschema.Draft202012Validator(schema, registry=registry)
