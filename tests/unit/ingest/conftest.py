"""CDEvents to ingest: the project's fixtures (one realistic event per accepted type, written
from the CDEvents v0.5.1 conformance examples), the spec's own examples, and the three ways a
CloudEvent can carry them (structured mode, binary mode, the CDEvent alone)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cloudevents.v1.conversion import to_binary, to_structured
from cloudevents.v1.http import CloudEvent

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdevents"
SPEC = Path(__file__).parents[3] / ".." / "shared" / "cdevents" / "v0.5.1"
Event = dict[str, Any]
Wrap = Callable[[Event, str], tuple[dict[str, str], bytes]]


@cache
def _read(path: Path) -> Event:
    data: Event = json.loads(path.read_text())
    return data


@pytest.fixture
def cdevent() -> Callable[[str], Event]:
    """A fresh copy of one of the project's fixtures, by name (e.g. ``service_deployed``)."""
    return lambda name: copy.deepcopy(_read(FIXTURES / f"{name}.json"))


@pytest.fixture
def spec_example() -> Callable[[str], Event]:
    """A fresh copy of the CDEvents specification's conformance example of a type."""
    return lambda name: copy.deepcopy(_read(SPEC / "conformance" / f"{name}.json"))


def wrap(event: Event, mode: str) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body of the CDEvent sent in ``mode``, made by the CloudEvents SDK."""
    if mode == "plain":
        return {"Content-Type": "application/json"}, json.dumps(event).encode()
    context = event["context"]
    attributes = {
        "id": context["id"],
        "source": context["source"],
        "type": context["type"],
        "datacontenttype": "application/json",
    }
    cloudevent = CloudEvent(attributes, event)
    headers, body = to_structured(cloudevent) if mode == "structured" else to_binary(cloudevent)
    return {k.title(): v for k, v in headers.items()}, body


@pytest.fixture
def wrapped() -> Wrap:
    return wrap
