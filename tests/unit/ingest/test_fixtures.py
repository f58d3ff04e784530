"""The project's CDEvents fixtures are real CDEvents: each validates against the v0.5.1 JSON
schema of its type, so what the tests feed the ledger is what a conforming tool sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ...cdevents import FIXTURES, validator


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_each_fixture_is_a_valid_cdevent_of_its_type(path: Path) -> None:
    event = json.loads(path.read_text())
    assert event["context"]["type"].split(".")[2:4] == path.stem.split("_")
    validator(event["context"]["type"]).validate(event)
