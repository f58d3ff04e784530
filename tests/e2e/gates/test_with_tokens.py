"""The gates on a ledger with tokens, started with LEDGER_PROTECTED_ENVS and
LEDGER_PROMOTION_PATH as an operator sets them: the defaults they give hold as before (a human
may not deploy to prod, a build runs in staging first), only an admin's force goes through a
freeze, and an approved change is made with its requester's rights."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..conftest import running
from .places import Outcome, Place, requested
from .secured import Secured, store_of, tokens

pytestmark = pytest.mark.e2e

PRINCIPALS = {
    "root": ("system", "admin"),
    "ci-bot": ("ci", "read,build:write,deploy,config:write,rollback"),
    "alice": ("human", "read,deploy,config:write,approve"),
    "bob": ("human", "read,approve"),
}
ALWAYS = {"name": "always", "cron": "* * * * *", "duration": "1h"}


@pytest.fixture(scope="module")
def ledger(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Secured]:
    workdir = tmp_path_factory.mktemp(f"ledger-{backend}")
    settings = {"LEDGER_PROTECTED_ENVS": "prod", "LEDGER_PROMOTION_PATH": "staging,prod"}
    with store_of(backend, request, workdir, **settings) as env:
        principals = tokens(env, **PRINCIPALS)
        with running(env, workdir) as server:
            yield Secured(server, principals)


@pytest.fixture
def prod(ledger: Secured) -> Place:
    return ledger.place("prod", admin="root", ci="ci-bot")


@pytest.fixture
def qa(ledger: Secured) -> Place:
    """A place in an environment neither protected nor on the promotion path."""
    return ledger.place("qa", admin="root", ci="ci-bot")


def test_a_humans_deploy_to_prod_is_refused_by_protection_as_the_settings_say(
    prod: Place, ledger: Secured
) -> None:
    build = prod.build()
    prod.released(build, "staging")

    assessment = prod.assessment(ledger["alice"], build=build)
    problem = Outcome.of(prod.deploy(build, ledger["alice"])).refused(403, "protection")

    assert problem["policy"] == "defaults", problem
    assert [r["gate"] for r in assessment["reasons"]] == ["protection"], assessment
    assert prod.denied()["actor"] == "alice"
    assert Outcome.of(prod.deploy(build)).released()["actor"] == "ci-bot"


def test_ci_deploys_to_prod_only_a_build_that_ran_in_staging_first(prod: Place) -> None:
    build = prod.build()

    assessment = prod.assessment(build=build)
    problem = Outcome.of(prod.deploy(build)).refused(403, "promotion")

    assert problem["policy"] == "defaults" and "staging" in problem["detail"], problem
    assert [r["gate"] for r in assessment["reasons"]] == ["promotion"], assessment
    prod.released(build, "staging")
    assert prod.assessment(build=build)["allowed"] is True
    Outcome.of(prod.deploy(build)).released()


def test_only_an_admins_force_goes_through_a_freeze(qa: Place, ledger: Secured) -> None:
    build = qa.build()
    qa.policy(freeze=[ALWAYS])
    forced = {"force": True, "reason": "hotfix for the checkout outage"}

    for principal in ("ci-bot", "alice"):
        Outcome.of(qa.deploy(build, ledger[principal], **forced)).refused(423, "freeze")
    release = Outcome.of(qa.deploy(build, ledger["root"], **forced)).released()

    [deploy] = qa.history(kind="deploy")
    assert (deploy["actor"], release["actor"]) == ("root", "root"), deploy
    assert "overriding freeze 'always'" in deploy["summary"], deploy
    assert release["gates"]["overrode"] == ["always"], release


def test_approvals_come_from_another_principal_with_the_approve_scope(
    qa: Place, ledger: Secured
) -> None:
    build = qa.build()
    qa.policy(approvals={"required": 1})
    request = requested(qa.deploy(build, ledger["alice"]))

    Outcome.of(qa.approve(request, ledger["alice"])).refused(403, "approval")
    assert qa.approve(request, ledger["ci-bot"]).problem(403)["gate"] == "scope"
    release = Outcome.of(qa.approve(request, ledger["bob"])).released()

    assert release["actor"] == "alice", release
    assert release["gates"]["approved_by"] == ["bob"], release


def test_an_approved_change_to_prod_is_made_with_its_requesters_rights(
    prod: Place, ledger: Secured
) -> None:
    build = prod.build()
    prod.released(build, "staging")
    prod.policy(approvals={"required": 1})
    Outcome.of(prod.deploy(build, ledger["alice"])).refused(403, "protection")
    request = requested(prod.deploy(build))

    release = Outcome.of(prod.approve(request, ledger["bob"])).released()

    assert (release["actor"], release["build_id"]) == ("ci-bot", build), release
    assert release["gates"]["policy"] == f"{prod.app}/prod v1", release
