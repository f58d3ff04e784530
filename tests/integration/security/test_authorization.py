"""Who may do what, where: tokens, scopes, protected environments and the promotion path.

Every refusal is a problem (401 or 403); a 403 is also recorded as a ``denied`` history item
naming the principal, and nothing else is appended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest

from ledger.domain.policy import SCOPES
from ledger.tokens import open_tokens

Ledger = Caller = StartLedger = Any  # fixtures of conftest.py (a running ledger, its clients)
SHOP = "/v1/apps/shop"


def env_path(env: str) -> str:
    return f"{SHOP}/envs/{env}"


def build_body(build_id: str) -> dict[str, Any]:
    commit = (build_id.encode().hex() + "0a1b2c3d" * 8)[:40]
    return {
        "build_id": build_id,
        "commit": commit,
        "status": "succeeded",
        "artifact": {"digest": f"sha256:{commit:0<64}"},
        "pipeline": {"name": "main", "run_id": f"run-{build_id}"},
    }


STAGING, QA, PROD = env_path("staging"), env_path("qa"), env_path("prod")
Request = tuple[str, str, dict[str, Any]]


class WriteCase(NamedTuple):
    """A write route, the scope it needs, the kind of principal that holds it in the test, what
    must exist first (done by an admin), and the request of attempt ``n``."""

    scope: str
    kind: str
    given: Callable[[Caller], Awaitable[Any]] | None
    request: Callable[[int], Request]


async def _canary_in_qa(admin: Caller) -> Any:
    body = {"build_id": "b-two", "strategy": "canary", "steps": [10, 50, 100]}
    return await admin.write("POST", f"{QA}/deploys", body)


async def _second_release_in_staging(admin: Caller) -> Any:
    return await admin.write("POST", f"{STAGING}/deploys", {"build_id": "b-two"})


WRITES = {
    "create-app": WriteCase(
        "admin", "system", None, lambda n: ("POST", "/v1/apps", {"name": f"app-{n}"})
    ),
    "build": WriteCase(
        "build:write", "ci", None, lambda n: ("POST", f"{SHOP}/builds", build_body(f"x-{n}"))
    ),
    "config": WriteCase(
        "config:write",
        "human",
        None,
        lambda n: ("POST", f"{STAGING}/config", {"set": {"LEVEL": str(n)}}),
    ),
    "flag": WriteCase(
        "flag:write",
        "human",
        None,
        lambda n: ("PUT", f"{STAGING}/flags/beta", {"enabled": n % 2 == 0}),
    ),
    "deploy": WriteCase(
        "deploy",
        "human",
        None,
        lambda n: ("POST", f"{STAGING}/deploys", {"build_id": ("b-two", "b-ci")[n % 2]}),
    ),
    "rollout": WriteCase(
        "deploy",
        "system",
        _canary_in_qa,
        lambda n: ("POST", f"{QA}/releases/1/rollout", {"percent": (20, 30, 40)[n]}),
    ),
    "migration": WriteCase(
        "migration:write",
        "ci",
        None,
        lambda n: (
            "POST",
            f"{STAGING}/migrations",
            {"migration_id": f"m-{n}", "schema_version": str(n + 1), "reversible": True},
        ),
    ),
    "rollback": WriteCase(
        "rollback",
        "human",
        _second_release_in_staging,
        lambda n: ("POST", f"{STAGING}/rollback", {"reason": f"attempt {n}"}),
    ),
    "promote": WriteCase(
        "deploy", "ci", None, lambda n: ("POST", f"{QA}/promote", {"from_env": "staging"})
    ),
}


def all_scopes_but(*left_out: str) -> str:
    return ",".join(s for s in SCOPES if s not in left_out)


async def given_seeded(ledger: Ledger) -> Caller:
    root = await ledger.secure()
    await ledger.seed(root)
    return root


async def assert_denied(ledger: Ledger, caller: Caller, request: Request, *fragments: str) -> None:
    """403 naming the fragments, recorded as exactly one ``denied`` item with the actor."""
    head = await ledger.head()
    answer = await caller.request(*request)
    detail = answer.problem(403)["detail"]
    for fragment in fragments:
        assert fragment in detail, answer
    assert await ledger.head() == head + 1, "a refusal appends exactly its denied event"
    [denial] = await ledger.history(after=head)
    assert denial["kind"] == "denied", denial
    assert denial["actor"] == caller.name, denial
    assert denial["app"] == "shop" or request[1] == "/v1/apps", denial
    assert denial in await ledger.denials()


async def actor_of(ledger: Ledger, position: int) -> tuple[str, str]:
    [item] = [i for i in await ledger.history(limit=500) if i["position"] == position]
    return item["actor"], item["actor_kind"]


# --------------------------------------------------------------------------------------------
# Scopes


@pytest.mark.parametrize("route", list(WRITES))
async def test_each_write_needs_its_scope_and_admin_implies_every_scope(
    ledger: Ledger, route: str
) -> None:
    case = WRITES[route]
    root = await given_seeded(ledger)
    if case.given is not None:
        await case.given(root)
    lacking = await ledger.principal("lacking", "ci", all_scopes_but(case.scope, "admin"))
    holder = await ledger.principal("holder", case.kind, case.scope)

    await assert_denied(ledger, lacking, case.request(0), "lacking", repr(case.scope))

    done = await holder.write(*case.request(0))
    assert await actor_of(ledger, done["position"]) == ("holder", case.kind)
    by_admin = await root.write(*case.request(1))
    assert await actor_of(ledger, by_admin["position"]) == ("root", "system")


async def read_paths(ledger: Ledger) -> list[str]:
    paths = [
        "/v1/apps",
        SHOP,
        STAGING,
        f"{STAGING}/releases",
        f"{STAGING}/releases/1",
        "/v1/history",
    ]
    if (await ledger.reader.get("/v1/events")).status != 404:
        paths.append("/v1/events")
    return paths


async def test_every_read_needs_the_read_scope(ledger: Ledger) -> None:
    root = await given_seeded(ledger)
    await ledger.history()  # the views have caught up
    writer = await ledger.principal("writer", "ci", all_scopes_but("read", "admin"))
    for path in await read_paths(ledger):
        answer = await writer.get(path)
        assert "'read'" in answer.problem(403)["detail"], answer
        assert (await ledger.reader.get(path)).status == 200, path
        assert (await root.get(path)).status == 200, path


async def test_public_paths_need_no_token(ledger: Ledger) -> None:
    await ledger.secure()
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert (await ledger.anonymous.get(path)).status == 200, path


# --------------------------------------------------------------------------------------------
# Authentication


BAD_CREDENTIALS = {
    "no-header": {},
    "empty-bearer": {"Authorization": "Bearer "},
    "basic": {"Authorization": "Basic cm9vdDpyb290"},
    "unknown-token": {"Authorization": "Bearer ledger_not-a-token-at-all"},
    "token-without-scheme": {"Authorization": "ledger_not-a-token-at-all"},
}


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS))
async def test_without_a_valid_token_every_route_is_401(ledger: Ledger, credentials: str) -> None:
    await given_seeded(ledger)
    stranger = ledger.caller(BAD_CREDENTIALS[credentials], "stranger")
    head = await ledger.head()
    requests: list[Request] = [WRITES[r].request(5) for r in ("deploy", "flag", "create-app")]
    requests += [("GET", path, {}) for path in await read_paths(ledger)]
    for method, path, body in requests:
        answer = await stranger.request(method, path, body or None)
        answer.problem(401)
        assert answer.headers["www-authenticate"].startswith("Bearer"), answer
    await ledger.assert_nothing_appended(head)


async def test_a_revoked_token_is_refused_at_once_without_a_restart(ledger: Ledger) -> None:
    await given_seeded(ledger)
    alice = await ledger.principal("alice", "human", "read,flag:write")
    await alice.write("PUT", f"{STAGING}/flags/beta", {"enabled": True})

    async with open_tokens(ledger.settings) as tokens:  # another connection, as the CLI has
        await tokens.revoke("alice")
    head = await ledger.head()

    assert (await alice.request("PUT", f"{STAGING}/flags/beta", {"enabled": False})).status == 401
    assert (await alice.get(STAGING)).status == 401
    await ledger.assert_nothing_appended(head)
    again = await ledger.principal("alice", "human", "flag:write")
    await again.write("PUT", f"{STAGING}/flags/beta", {"enabled": False})
    assert (await alice.request("PUT", f"{STAGING}/flags/beta", {"enabled": True})).status == 401


async def test_the_actor_is_always_the_tokens_principal(ledger: Ledger) -> None:
    await given_seeded(ledger)
    alice = await ledger.principal("alice", "human", "deploy,read")
    posing = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}

    done = await alice.write("POST", f"{STAGING}/deploys", {"build_id": "b-two"}, headers=posing)
    assert done["release"]["actor"] == "alice"
    assert await actor_of(ledger, done["position"]) == ("alice", "human")
    alice.headers |= posing
    await assert_denied(ledger, alice, ("POST", f"{PROD}/deploys", {"build_id": "b-ci"}), "CI")


REPEATS = {
    "idempotency-key": {"Idempotency-Key": "deploy-b-two-once"},
    "ci-run-id": {"X-Ledger-Correlation-Id": "pipeline-run-7"},
}


@pytest.mark.parametrize("repeat", list(REPEATS))
async def test_a_repeated_write_is_not_replayed_to_a_principal_without_its_scope(
    ledger: Ledger, repeat: str
) -> None:
    """A replayed answer is still an answer to a write: the scope is checked first."""
    await given_seeded(ledger)
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    other = await ledger.principal("ci-flags", "ci", "flag:write")
    request: Request = ("POST", f"{STAGING}/deploys", {"build_id": "b-two"})
    await ci.write(*request, headers=REPEATS[repeat])

    replay = await other.request(*request, headers=REPEATS[repeat])

    assert replay.status == 403, replay
    assert "'deploy'" in replay.problem(403)["detail"]


# --------------------------------------------------------------------------------------------
# Protected environments


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
    await given_seeded(ledger)
    caller = await ledger.principal("caller", kind, scopes)
    if refusal is not None:
        await assert_denied(ledger, caller, request, refusal)
        return
    done = await caller.write(*request)
    assert await actor_of(ledger, done["position"]) == ("caller", kind)


async def test_the_protected_environments_are_configurable(start: StartLedger) -> None:
    ledger = await start(protected_envs=("live",))
    await given_seeded(ledger)
    alice = await ledger.principal("alice", "human", "deploy")
    await alice.write("POST", f"{PROD}/deploys", {"build_id": "b-manual"})
    live: Request = ("POST", f"{env_path('live')}/deploys", {"build_id": "b-ci"})
    await assert_denied(ledger, alice, live, "live is protected")


# --------------------------------------------------------------------------------------------
# Promotion path


async def test_a_build_must_succeed_in_staging_before_prod(start: StartLedger) -> None:
    ledger = await start(promotion_path=("staging", "prod"))
    root = await given_seeded(ledger)  # b-ci runs in staging
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    to_prod: Request = ("POST", f"{PROD}/deploys", {"build_id": "b-two"})

    await assert_denied(ledger, ci, to_prod, "must succeed in staging")
    canary = {"build_id": "b-two", "strategy": "canary", "steps": [10, 100]}
    await root.write("POST", f"{STAGING}/deploys", canary)
    await assert_denied(ledger, ci, to_prod, "must succeed in staging")
    await root.write("POST", f"{STAGING}/releases/2/rollout", {"status": "completed"})
    await ci.write(*to_prod)
    await ci.write("POST", f"{PROD}/deploys", {"build_id": "b-ci"})  # succeeded, superseded since


async def test_a_build_that_failed_in_staging_cannot_reach_prod(start: StartLedger) -> None:
    ledger = await start(promotion_path=("staging", "prod"))
    root = await given_seeded(ledger)
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    canary = {"build_id": "b-two", "strategy": "canary", "steps": [10, 100]}
    await root.write("POST", f"{STAGING}/deploys", canary)
    await root.write("POST", f"{STAGING}/releases/2/rollout", {"status": "failed"})

    await assert_denied(ledger, ci, ("POST", f"{PROD}/deploys", {"build_id": "b-two"}), "staging")
    await ci.write("POST", f"{PROD}/promote", {"from_env": "staging"})  # b-ci runs there again


# --------------------------------------------------------------------------------------------
# Other write channels: batches and webhooks


async def test_each_item_of_a_batch_needs_its_scope_and_obeys_protection(ledger: Ledger) -> None:
    await given_seeded(ledger)
    alice = await ledger.principal("alice", "human", "flag:write,deploy")
    items = [
        {"op": "set_flag", "app": "shop", "env": "staging", "flag": "beta", "enabled": True},
        {"op": "change_config", "app": "shop", "env": "staging", "set": {"A": "1"}},
        {"op": "deploy", "app": "shop", "env": "prod", "build_id": "b-ci"},
        {"op": "deploy", "app": "shop", "env": "staging", "build_id": "b-two"},
    ]
    head = await ledger.head()

    answer = await alice.request("POST", "/v1/events:batch", items)

    assert answer.status == 200, answer
    statuses = [r["status"] for r in answer.json["results"]]
    assert statuses == [201, 403, 403, 201], answer
    details = [r["problem"]["detail"] for r in answer.json["results"] if r["status"] == 403]
    assert "'config:write'" in details[0] and "only CI" in details[1], details
    denials = [i for i in await ledger.history(after=head) if i["kind"] == "denied"]
    assert [(d["actor"], d["env"]) for d in denials] == [("alice", "staging"), ("alice", "prod")]


WEBHOOK_REQUESTS: list[Request] = [
    ("POST", "/v1/webhooks", {"url": "https://hooks.example.invalid/ledger"}),
    ("GET", "/v1/webhooks", {}),
    ("DELETE", "/v1/webhooks/wh_0123456789abcdef", {}),
    ("POST", "/v1/webhooks/wh_0123456789abcdef/resume", {}),
]


async def test_webhooks_are_for_admins_only(ledger: Ledger) -> None:
    """A webhook sends the whole feed anywhere: every scope but admin is not enough."""
    root = await given_seeded(ledger)
    everything_else = await ledger.principal("almost", "ci", all_scopes_but("admin"))
    for method, path, body in WEBHOOK_REQUESTS:
        answer = await everything_else.request(method, path, body or None)
        assert "'admin'" in answer.problem(403)["detail"], answer
    created = await root.write(*WEBHOOK_REQUESTS[0])
    assert created["id"].startswith("wh_"), created
