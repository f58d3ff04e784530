"""Protected environments (default prod, production) take deploys and config changes only
from CI principals, and only of builds with pipeline provenance; with LEDGER_PROMOTION_PATH a
build must have succeeded in the earlier environment first. Every refusal is a 403 recorded as
a ``denied`` history item naming the principal."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

Ledger = StartLedger = Any  # fixtures of conftest.py
Request = tuple[str, str, dict[str, Any]]


def env_path(env: str) -> str:
    return f"/v1/apps/shop/envs/{env}"


STAGING, PROD = env_path("staging"), env_path("prod")


class Protected(NamedTuple):
    kind: str
    scopes: str
    request: Request
    refusal: str | None  # a fragment of the 403's detail; None: allowed (201)


PROTECTED = {
    "ci-deploys-to-prod": Protected(
        "ci", "deploy", ("POST", f"{PROD}/deploys", {"build_id": "b-ci"}), None
    ),
    "human-deploys-to-prod": Protected(
        "human", "deploy", ("POST", f"{PROD}/deploys", {"build_id": "b-ci"}), "only CI"
    ),
    "system-admin-deploys-to-prod": Protected(
        "system", "admin", ("POST", f"{PROD}/deploys", {"build_id": "b-ci"}), "only CI"
    ),
    "human-deploys-to-production": Protected(
        "human",
        "deploy",
        ("POST", f"{env_path('production')}/deploys", {"build_id": "b-ci"}),
        "only CI",
    ),
    "ci-deploys-build-without-provenance": Protected(
        "ci", "deploy", ("POST", f"{PROD}/deploys", {"build_id": "b-manual"}), "provenance"
    ),
    "ci-deploys-build-whose-provenance-a-human-claimed": Protected(
        "ci", "deploy", ("POST", f"{PROD}/deploys", {"build_id": "b-claimed"}), "unproven"
    ),
    "ci-promotes-to-prod": Protected(
        "ci", "deploy", ("POST", f"{PROD}/promote", {"from_env": "staging"}), None
    ),
    "human-promotes-to-prod": Protected(
        "human", "deploy", ("POST", f"{PROD}/promote", {"from_env": "staging"}), "only CI"
    ),
    "ci-changes-prod-config": Protected(
        "ci", "config:write", ("POST", f"{PROD}/config", {"set": {"A": "1"}}), None
    ),
    "human-changes-prod-config": Protected(
        "human", "config:write", ("POST", f"{PROD}/config", {"set": {"A": "1"}}), "only CI"
    ),
    "human-admin-changes-prod-config": Protected(
        "human", "admin", ("POST", f"{PROD}/config", {"set": {"A": "1"}}), "only CI"
    ),
    "human-flips-a-prod-flag": Protected(
        "human", "flag:write", ("PUT", f"{PROD}/flags/beta", {"enabled": True}), None
    ),
    "human-records-a-prod-migration": Protected(
        "human",
        "migration:write",
        (
            "POST",
            f"{PROD}/migrations",
            {"migration_id": "m1", "schema_version": "1", "reversible": True},
        ),
        None,
    ),
    "human-deploys-to-staging-without-provenance": Protected(
        "human", "deploy", ("POST", f"{STAGING}/deploys", {"build_id": "b-manual"}), None
    ),
    "human-changes-staging-config": Protected(
        "human", "config:write", ("POST", f"{STAGING}/config", {"set": {"A": "1"}}), None
    ),
}


@pytest.mark.parametrize("case", list(PROTECTED))
async def test_protected_environments_take_deploys_and_config_from_ci_with_provenance(
    ledger: Ledger, case: str
) -> None:
    kind, scopes, request, refusal = PROTECTED[case]
    await ledger.seeded()
    caller = await ledger.principal("caller", kind, scopes)
    if refusal is not None:
        await ledger.assert_denied(caller, request, refusal)
        return
    done = await caller.write(*request)
    assert await ledger.actor_of(done["position"]) == ("caller", kind)


async def test_the_protected_environments_are_configurable(start: StartLedger) -> None:
    ledger = await start(protected_envs=("live",))
    await ledger.seeded()
    alice = await ledger.principal("alice", "human", "deploy")
    await alice.write("POST", f"{PROD}/deploys", {"build_id": "b-manual"})
    live: Request = ("POST", f"{env_path('live')}/deploys", {"build_id": "b-ci"})
    await ledger.assert_denied(alice, live, "live is protected")


# --------------------------------------------------------------------------------------------
# Promotion path


async def test_a_build_must_succeed_in_staging_before_prod(start: StartLedger) -> None:
    ledger = await start(promotion_path=("staging", "prod"))
    root = await ledger.seeded()  # b-ci runs in staging
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    to_prod: Request = ("POST", f"{PROD}/deploys", {"build_id": "b-two"})

    await ledger.assert_denied(ci, to_prod, "must succeed in staging")
    canary = {"build_id": "b-two", "strategy": "canary", "steps": [10, 100]}
    await root.write("POST", f"{STAGING}/deploys", canary)
    await ledger.assert_denied(ci, to_prod, "must succeed in staging")
    await root.write("POST", f"{STAGING}/releases/2/rollout", {"status": "completed"})
    await ci.write(*to_prod)
    await ci.write("POST", f"{PROD}/deploys", {"build_id": "b-ci"})  # succeeded, superseded since


async def test_a_build_that_failed_in_staging_cannot_reach_prod(start: StartLedger) -> None:
    ledger = await start(promotion_path=("staging", "prod"))
    root = await ledger.seeded()
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    canary = {"build_id": "b-two", "strategy": "canary", "steps": [10, 100]}
    await root.write("POST", f"{STAGING}/deploys", canary)
    await root.write("POST", f"{STAGING}/releases/2/rollout", {"status": "failed"})

    await ledger.assert_denied(ci, ("POST", f"{PROD}/deploys", {"build_id": "b-two"}), "staging")
    await ci.write("POST", f"{PROD}/promote", {"from_env": "staging"})  # b-ci runs there again
