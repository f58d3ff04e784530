"""GET …/releases/{a}/diff/{b} and …/diff?against_env=: what changes, never a secret's value."""

from __future__ import annotations

from typing import Any

from ledger.domain import commands as c

from .conftest import ALICE, ENV, T0, ProdStory, hours


def changes(diff: dict[str, Any], part: str) -> list[tuple[Any, ...]]:
    return [tuple(item.values()) for item in diff[part]]


async def test_a_config_release_diff_names_keys_values_and_secrets(
    read: Any, prod_story: ProdStory
) -> None:
    reader = await read()
    diff = await reader.ok(f"{ENV}/releases/2/diff/3")
    assert diff["direction"] == "forward" and diff["build"] is None
    assert changes(diff, "config") == [
        ("A", "changed", False, "1", "2"),
        ("LICENSE", "added", True, None, None),
    ]
    assert changes(diff, "flags") == [
        ("beta", "added", None, {"enabled": True, "rollout_percent": 25})
    ]
    assert diff["migrations"] == []
    old, new = diff["old"], diff["new"]
    assert (old["release"]["version"], old["release"]["actor"]) == (2, "ci-bot")
    assert old["release"]["created_at"] == "2025-03-01T11:00:00Z"
    assert (new["release"]["version"], new["position"]) == (3, prod_story.pos["v3"])
    assert "lic-1" not in str(diff) and "hunter2" not in str(diff)


async def test_a_deploy_changes_build_and_commit(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    diff = await reader.ok(f"{ENV}/releases/3/diff/4")
    build = diff["build"]
    assert (build["old_build_id"], build["new_build_id"]) == ("b1", "b2")
    assert build["old_commit"] != build["new_commit"]
    assert [m["migration_id"] for m in diff["migrations"]] == ["m1"]
    assert diff["new"]["release"]["status"] == "superseded"  # as it stands now
    assert diff["new"]["schema_version"] == "2" and diff["old"]["schema_version"] is None


async def test_across_a_rollback_in_either_order(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    restored = await reader.ok(f"{ENV}/releases/3/diff/5")
    assert (restored["build"], restored["config"], restored["flags"]) == (None, [], [])
    assert changes(restored, "migrations") == [("m1", "2", False, "added")]
    assert restored["new"]["release"]["rollback_of"] == 3
    assert restored["new"]["release"]["actor"] == "alice"
    backward = await reader.ok(f"{ENV}/releases/5/diff/2")
    assert backward["direction"] == "backward"
    assert changes(backward, "config") == [
        ("A", "changed", False, "2", "1"),
        ("LICENSE", "removed", True, None, None),
    ]
    assert changes(backward, "migrations") == [("m1", "2", False, "removed")]
    assert changes(backward, "flags")[0][:2] == ("beta", "removed")


async def test_each_release_against_the_one_before_it(read: Any, prod_story: ProdStory) -> None:
    """What a release page shows: a rollback takes the build and config back to its target's,
    even to a release that had no build; a first deploy after config alone brings a build."""
    back = c.Rollback(app="shop", env="prod", to_version=1, force=True, reason="start over")
    prod_story.story.at(T0 + hours(10), back, ALICE)  # v6: v1 had config and no build
    reader = await read()
    first = await reader.ok(f"{ENV}/releases/1/diff/2")
    assert (first["build"]["old_build_id"], first["build"]["new_build_id"]) == (None, "b1")
    assert first["config"] == []
    to_v3 = await reader.ok(f"{ENV}/releases/4/diff/5")
    old, new = to_v3["old"]["release"], to_v3["new"]["release"]
    assert (to_v3["build"]["old_build_id"], to_v3["build"]["new_build_id"]) == ("b2", "b1")
    assert (to_v3["build"]["old_commit"], to_v3["build"]["new_commit"]) == (
        old["commit"],
        new["commit"],
    )
    assert old["commit"] != new["commit"] and to_v3["config"] == []
    assert (new["rollback_of"], new["description"]) == (3, "rollback to v3")
    to_v1 = await reader.ok(f"{ENV}/releases/5/diff/6")
    assert (to_v1["build"]["old_build_id"], to_v1["build"]["new_build_id"]) == ("b1", None)
    assert changes(to_v1, "config") == [
        ("A", "changed", False, "2", "1"),
        ("LICENSE", "removed", True, None, None),
    ]
    assert to_v1["new"]["release"]["rollback_of"] == 1


async def test_two_environments_now(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    diff = await reader.ok(f"{ENV}/diff", against_env="staging")
    assert diff["direction"] == "across"
    assert (diff["old"]["env"], diff["new"]["env"]) == ("prod", "staging")
    assert (diff["build"]["old_build_id"], diff["build"]["new_build_id"]) == ("b1", "b2")
    assert changes(diff, "config") == [
        ("A", "changed", False, "2", "1"),
        ("DB_PASSWORD", "removed", True, None, None),
        ("LICENSE", "removed", True, None, None),
        ("ONLY_STAGING", "added", False, None, "x"),
    ]
    assert changes(diff, "migrations") == [("m1", "2", False, "removed")]


async def test_unknown_releases_and_environments_are_404(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    missing = await reader.problem(404, f"{ENV}/releases/2/diff/9")
    assert "v9" in missing["detail"] and missing["errors"][0]["field"] == "b"
    await reader.problem(404, "/v1/apps/shop/envs/qa/releases/1/diff/2")
    await reader.problem(404, f"{ENV}/diff", against_env="qa")


async def test_bad_diff_parameters_are_422(read: Any, prod_story: ProdStory) -> None:
    reader = await read()
    for path, field in ((f"{ENV}/releases/x/diff/2", "a"), (f"{ENV}/releases/1/diff/0", "b")):
        problem = await reader.problem(422, path)
        assert problem["errors"][0]["field"] == field
    for query in ({}, {"against_env": "prod"}, {"against_env": "Not A Name"}):
        problem = await reader.problem(422, f"{ENV}/diff", **query)
        assert problem["errors"][0]["field"] == "against_env"
