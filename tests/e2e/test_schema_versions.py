"""A migration's schema version may be a string or a number (Flyway, Alembic, Rails and
golang-migrate number theirs): either way it is stored and returned as a string, and the state,
the history's summary and the release diff show it."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SHOP = "/v1/apps/shop"
PROD = f"{SHOP}/envs/prod"
RAILS = 20240507140300


def build(build_id: str) -> dict[str, Any]:
    digest = "sha256:" + build_id.encode().hex().ljust(64, "0")
    return {"build_id": build_id, "commit": "0123abcd", "artifact": {"digest": digest},
            "status": "succeeded"}  # fmt: skip


@pytest.fixture(scope="module")
def shop(api: Any) -> Any:
    """The app ``shop`` with release v1 in prod."""
    api.write("POST", "/v1/apps", {"name": "shop"})
    for build_id in ("b1", "b2"):
        api.write("POST", f"{SHOP}/builds", build(build_id))
    api.write("POST", f"{PROD}/deploys", {"build_id": "b1"})
    return api


def migration(migration_id: str, schema_version: object) -> dict[str, Any]:
    return {"migration_id": migration_id, "schema_version": schema_version, "reversible": True}


def test_a_numeric_schema_version_is_stored_and_returned_as_its_digits(shop: Any) -> None:
    shop.write("POST", f"{PROD}/migrations", migration("m42", 42))
    assert shop.read(PROD)["schema_version"] == "42"
    item = shop.history(app="shop", kind="migration")[0]
    assert item["data"]["schema_version"] == "42"
    assert "(schema 42, reversible)" in item["summary"]


def test_a_batch_takes_a_numeric_schema_version_too(shop: Any) -> None:
    item = {"op": "apply_migration", "app": "shop", "env": "prod"} | migration("rails", RAILS)
    answer = shop.request("POST", "/v1/events:batch", [item])
    assert answer.status == 200, answer
    [result] = answer.json["results"]
    assert result["status"] == 201, answer
    shop.last_position = result["result"]["position"]
    assert shop.read(PROD)["schema_version"] == str(RAILS)


def test_a_string_schema_version_is_kept_as_given(shop: Any) -> None:
    shop.write("POST", f"{PROD}/migrations", migration("alembic", "ae1027a6acf"))
    assert shop.read(PROD)["schema_version"] == "ae1027a6acf"


def test_the_release_diff_shows_numeric_schema_versions_as_strings(shop: Any) -> None:
    shop.write("POST", f"{PROD}/deploys", {"build_id": "b2"})
    diff = shop.read(f"{PROD}/releases/1/diff/2")
    versions = {m["migration_id"]: m["schema_version"] for m in diff["migrations"]}
    assert versions == {"m42": "42", "rails": str(RAILS), "alembic": "ae1027a6acf"}


@pytest.mark.parametrize("schema_version", [1.5, -1, True, 2**63, "", None, [1]])
def test_a_schema_version_neither_a_string_nor_a_count_is_422(
    shop: Any, schema_version: object
) -> None:
    answer = shop.request("POST", f"{PROD}/migrations", migration("odd", schema_version))
    answer.problem(422, "schema_version")
    shop.assert_nothing_appended()
