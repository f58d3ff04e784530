"""The project's CDEvents fixtures are real CDEvents: each validates against the v0.5.1 JSON
schema of its type, so what the tests feed the ledger is what a conforming tool sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdevents"
SCHEMAS = Path(__file__).parents[3] / ".." / "shared" / "cdevents" / "v0.5.1" / "schemas"


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


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_each_fixture_is_a_valid_cdevent_of_its_type(path: Path) -> None:
    event = json.loads(path.read_text())
    assert event["context"]["type"].split(".")[2:4] == path.stem.split("_")
    validator(event["context"]["type"]).validate(event)
