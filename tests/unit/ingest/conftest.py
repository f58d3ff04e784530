"""CDEvents to ingest: the project's fixtures (one realistic event per accepted type, written
from the CDEvents v0.5.1 conformance examples), the spec's own examples, and the three ways a
CloudEvent can carry them (structured mode, binary mode, the CDEvent alone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ... import cdevents

Event = dict[str, Any]
Wrap = Callable[[Event, str], tuple[dict[str, str], bytes]]


@pytest.fixture
def cdevent() -> Callable[[str], Event]:
    """A fresh copy of one of the project's fixtures, by name (e.g. ``service_deployed``)."""
    return cdevents.fixture


@pytest.fixture
def spec_example() -> Callable[[str], Event]:
    """A fresh copy of the CDEvents specification's conformance example of a type."""
    return cdevents.spec_example


@pytest.fixture
def wrapped() -> Wrap:
    return cdevents.wrap
