"""NUL and lone surrogates in every string of an ingested CDEvent (each accepted type, every
field, as JSON escapes and raw bytes) are refused with 422 naming the field; in the path
parameters of every route (from the OpenAPI document) they are a 4xx. Never a 5xx, nothing is
appended, and the views reach the head, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ...cdevents import ACCEPTED, fixture
from .unstorable import (
    BAD,
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

BAD_IN_PATHS = ("%00", "a%00b", "%ED%A0%80", "%ED%BF%BF", "%C0%80")


@pytest.fixture(scope="module")
def shop(api: Api) -> Api:
    """The module's server with the app ``shop`` running in staging."""
    return seed(api)


@pytest.fixture(scope="module")
def openapi(shop: Api) -> dict[str, Any]:
    return openapi_of(shop)


def leaves(value: Any, at: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every string of a JSON value, by its place."""
    if isinstance(value, str):
        yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*at, index))


def dotted(place: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in place).lstrip(".")


def cdevents() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in ACCEPTED:
        event = fixture(name)
        if name == "environment_modified":
            config = {"set": {"A": "1"}, "unset": ["B"], "secret": ["A"]}
            event["customData"] = {"app": "shop", "config": config, "reason": "r"}
        yield name, event


def test_every_field_of_an_ingested_cdevent_refuses_unstorable_characters(shop: Api) -> None:
    start = shop.last_position
    failures: list[str] = []
    for name, event in cdevents():
        for place in leaves(event):
            for label, bad in BAD.items():
                changed = copy.deepcopy(event)
                node: Any = changed
                for step in place[:-1]:
                    node = node[step]
                node[place[-1]] = f"x{bad}y"
                for how, raw in encodings(changed):
                    headers = {"Content-Type": "application/json"}
                    answer = shop.request("POST", "/v1/cdevents", raw=raw, headers=headers)
                    why = refused(answer, dotted(place))
                    if why:
                        failures.append(f"{name} {dotted(place)} {label} {how}: {why}")
    assert failures == [], "\n".join(failures)
    assert_nothing_but_probes_since(shop, start)
    assert_views_reach_the_head(shop)


def test_unstorable_characters_in_path_parameters_are_4xx(
    shop: Api, openapi: dict[str, Any]
) -> None:
    start = shop.last_position
    failures: list[str] = []
    for path, operations in openapi["paths"].items():
        for param in re.findall(r"{(\w+)}", path):
            for method in operations:
                for bad in BAD_IN_PATHS:
                    url = concrete(path, **{param: bad})
                    body = None if method == "get" else {}
                    answer = shop.request(method.upper(), url, body)
                    if not 400 <= answer.status < 500:
                        failures.append(f"{method.upper()} {url}: {shop.explain(answer)}")
    assert failures == [], "\n".join(failures)
    assert_nothing_but_probes_since(shop, start)
    assert_views_reach_the_head(shop)
