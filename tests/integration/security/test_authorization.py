"""Who may do what: bearer tokens (401 without a valid one, revocation without a restart),
the scope each route needs (admin implies every scope), the actor (always the token's
principal), and the other write channels (batches, webhooks). Protected environments and the
promotion path: test_protected_environments.py.

Every refusal is a problem (401 or 403); a 403 is also recorded as a ``denied`` history item
naming the principal, and nothing else is appended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import pytest

from ledger.service.tokens import open_tokens

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


# --------------------------------------------------------------------------------------------
# Scopes


@pytest.mark.parametrize("route", list(WRITES))
async def test_each_write_needs_its_scope_and_admin_implies_every_scope(
    ledger: Ledger, route: str
) -> None:
    case = WRITES[route]
    root = await ledger.seeded()
    if case.given is not None:
        await case.given(root)
    lacking = await ledger.principal("lacking", "ci", ledger.all_scopes_but(case.scope, "admin"))
    holder = await ledger.principal("holder", case.kind, case.scope)

    await ledger.assert_denied(lacking, case.request(0), "lacking", repr(case.scope))

    done = await holder.write(*case.request(0))
    assert await ledger.actor_of(done["position"]) == ("holder", case.kind)
    by_admin = await root.write(*case.request(1))
    assert await ledger.actor_of(by_admin["position"]) == ("root", "system")


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
    root = await ledger.seeded()
    await ledger.history()  # the views have caught up
    writer = await ledger.principal("writer", "ci", ledger.all_scopes_but("read", "admin"))
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
    await ledger.seeded()
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
    await ledger.seeded()
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
    await ledger.seeded()
    alice = await ledger.principal("alice", "human", "deploy,read")
    posing = {"X-Ledger-Actor": "ci-bot", "X-Ledger-Actor-Kind": "ci"}

    done = await alice.write("POST", f"{STAGING}/deploys", {"build_id": "b-two"}, headers=posing)
    assert done["release"]["actor"] == "alice"
    assert await ledger.actor_of(done["position"]) == ("alice", "human")
    alice.headers |= posing
    await ledger.assert_denied(alice, ("POST", f"{PROD}/deploys", {"build_id": "b-ci"}), "CI")


REPEATS = {
    "idempotency-key": {"Idempotency-Key": "deploy-b-two-once"},
    "ci-run-id": {"X-Ledger-Correlation-Id": "pipeline-run-7"},
}


@pytest.mark.parametrize("repeat", list(REPEATS))
async def test_a_repeated_write_is_not_replayed_to_a_principal_without_its_scope(
    ledger: Ledger, repeat: str
) -> None:
    """A replayed answer is still an answer to a write: the scope is checked first."""
    await ledger.seeded()
    ci = await ledger.principal("ci-bot", "ci", "deploy")
    other = await ledger.principal("ci-flags", "ci", "flag:write")
    request: Request = ("POST", f"{STAGING}/deploys", {"build_id": "b-two"})
    await ci.write(*request, headers=REPEATS[repeat])

    replay = await other.request(*request, headers=REPEATS[repeat])

    assert replay.status == 403, replay
    assert "'deploy'" in replay.problem(403)["detail"]


# --------------------------------------------------------------------------------------------
# Other write channels: batches and webhooks


async def test_each_item_of_a_batch_needs_its_scope_and_obeys_protection(ledger: Ledger) -> None:
    await ledger.seeded()
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
    root = await ledger.seeded()
    everything_else = await ledger.principal("almost", "ci", ledger.all_scopes_but("admin"))
    for method, path, body in WEBHOOK_REQUESTS:
        answer = await everything_else.request(method, path, body or None)
        assert "'admin'" in answer.problem(403)["detail"], answer
    created = await root.write(*WEBHOOK_REQUESTS[0])
    assert created["id"].startswith("wh_"), created
