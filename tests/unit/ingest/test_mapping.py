"""Each accepted CDEvent type maps onto the ledger's commands: the app from the artifact's
package URL, the environment from the event's environment id, the build from the digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from ledger.domain import commands as c
from ledger.domain.events import Artifact, Pipeline
from ledger.ingest.cdevents import (
    ConfigPlan,
    DeployPlan,
    NothingToRecord,
    Plan,
    RecordBuildPlan,
    RollbackPlan,
    idempotency_key,
    ingest_context,
    plan_of,
)
from ledger.ingest.problems import Malformed, UnknownType, Unmappable
from ledger.ingest.schema import CDEvent

D1 = "1f04c1cf8c648ef4a03c3da4077550b138fe05e0b2bd15a9b610730e57734fca"
D2 = "867d848fca6fc5b214b1a7d033720452b95b422764aecf313e828e19ca45ed2a"
PURL1 = f"pkg:oci/checkout@sha256%3A{D1}?repository_url=ghcr.io/acme/checkout"
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"
CHAIN = "8066e4de-c0bc-4237-b511-f5e67a2a4681"
ARGO = "/argocd/acme/checkout-staging"
Event = dict[str, Any]
Fixture = Callable[[str], Event]


def plan(event: Event) -> Plan:
    return plan_of(msgspec.convert(event, CDEvent))


def unmappable(event: Event) -> Unmappable:
    """The refusal of an event the ledger cannot map (it must refuse it)."""
    with pytest.raises(Unmappable) as refused:
        plan(event)
    return refused.value


def test_build_finished_records_the_build_of_the_artifact(cdevent: Fixture) -> None:
    assert plan(cdevent("build_finished")) == RecordBuildPlan(
        build=c.RecordBuild(
            app="checkout",
            build_id=D1[:12],
            commit=COMMIT,
            branch="main",
            artifact=Artifact(digest=f"sha256:{D1}", url=PURL1),
            status="succeeded",
            pipeline=Pipeline(name="/github-actions/acme/checkout", run_id=CHAIN),
            finished_at=datetime(2025, 3, 4, 14, 2, 11, 120000, tzinfo=UTC),
        )
    )


def test_artifact_published_without_a_commit_takes_the_digest_as_placeholder(
    cdevent: Fixture,
) -> None:
    planned = plan(cdevent("artifact_published"))
    assert isinstance(planned, RecordBuildPlan)
    build = planned.build
    assert (build.app, build.build_id, build.commit) == ("checkout", D1[:12], D1[:12])
    assert build.artifact == Artifact(digest=f"sha256:{D1}", url=PURL1)
    assert build.pipeline == Pipeline(name="/github-actions/acme/checkout", run_id=CHAIN)
    assert build.finished_at is None


@pytest.mark.parametrize(
    ("name", "digest", "reason"),
    [
        ("service_deployed", D1, f"deployed by {ARGO}"),
        ("service_upgraded", D2, f"upgraded by {ARGO}"),
    ],
)
def test_a_deployed_or_upgraded_service_deploys_the_artifacts_build(
    name: str, digest: str, reason: str, cdevent: Fixture
) -> None:
    planned = plan(cdevent(name))
    assert isinstance(planned, DeployPlan)
    assert planned.deploy == c.Deploy(
        app="checkout", env="staging", build_id=digest[:12], reason=reason
    )
    assert planned.build.build_id == digest[:12]
    assert planned.build.artifact.digest == f"sha256:{digest}"
    assert planned.build.pipeline is None  # a deploy tool is no CI provenance


def test_a_rolled_back_service_rolls_back_to_the_artifact(cdevent: Fixture) -> None:
    assert plan(cdevent("service_rolledback")) == RollbackPlan(
        app="checkout", env="staging", digest=f"sha256:{D1}", reason=f"rolled back by {ARGO}"
    )


def test_a_modified_environment_without_config_asks_nothing(cdevent: Fixture) -> None:
    assert isinstance(plan(cdevent("environment_modified")), NothingToRecord)


def test_a_modified_environment_with_config_in_custom_data_changes_config(
    cdevent: Fixture,
) -> None:
    event = cdevent("environment_modified")
    event["customData"] = {
        "app": "checkout",
        "config": {"set": {"PAYMENT_TIMEOUT": "30"}, "unset": ["LEGACY_API"], "secret": []},
    }
    assert plan(event) == ConfigPlan(
        change=c.ChangeConfig(
            app="checkout",
            env="staging",
            set={"PAYMENT_TIMEOUT": "30"},
            unset=["LEGACY_API"],
            reason="environment modified by /terraform/acme/environments",
        )
    )


@pytest.mark.parametrize(
    ("name", "kind", "app", "build_or_env"),
    [
        ("build_finished", RecordBuildPlan, "myapp", "0b31b1c02ff4"),
        ("artifact_published", RecordBuildPlan, "myapp", "234fd47e07d1004f0aed9c"),
        ("service_deployed", DeployPlan, "myapp", "test123"),
        ("service_upgraded", DeployPlan, "myapp", "test123"),
        ("service_rolledback", RollbackPlan, "myapp", "test123"),
        ("environment_modified", NothingToRecord, None, None),
    ],
)
def test_every_conformance_example_of_an_accepted_type_is_accepted(
    name: str, kind: type, app: str | None, build_or_env: str | None, spec_example: Fixture
) -> None:
    planned = plan(spec_example(name))
    assert isinstance(planned, kind)
    if isinstance(planned, RecordBuildPlan):
        assert (planned.build.app, planned.build.build_id) == (app, build_or_env)
    if isinstance(planned, DeployPlan):
        assert (planned.deploy.app, planned.deploy.env) == (app, build_or_env)
    if isinstance(planned, RollbackPlan):
        assert (planned.app, planned.env) == (app, build_or_env)


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.4.1", "0.5.0-draft"])
def test_any_0x_version_of_an_accepted_type_is_accepted(version: str, cdevent: Fixture) -> None:
    event = cdevent("service_deployed")
    event["context"]["type"] = f"dev.cdevents.service.deployed.{version}"
    assert isinstance(plan(event), DeployPlan)


@pytest.mark.parametrize(
    "cd_type",
    [
        "dev.cdevents.pipelinerun.finished.0.2.0",
        "dev.cdevents.service.removed.0.3.0",
        "dev.cdevents.testcaserun.started.0.3.0",
        "dev.cdevents.ticket.created.1.0.0",
    ],
)
def test_a_cdevents_type_the_ledger_does_not_record_asks_nothing(
    cd_type: str, cdevent: Fixture
) -> None:
    event = cdevent("service_deployed")
    event["context"]["type"] = cd_type
    planned = plan(event)
    assert isinstance(planned, NothingToRecord)
    assert cd_type in planned.note


@pytest.mark.parametrize(
    "cd_type",
    ["dev.cdevents.service.deployed.1.0.0", "com.acme.deployment.done", "dev.cdevents.deployed"],
)
def test_other_types_are_refused_naming_the_type(cd_type: str, cdevent: Fixture) -> None:
    event = cdevent("service_deployed")
    event["context"]["type"] = cd_type
    with pytest.raises(UnknownType) as refused:
        plan(event)
    assert cd_type in refused.value.detail
    assert (refused.value.status, refused.value.field) == (422, "type")


@pytest.mark.parametrize(
    ("name", "env", "expected"),
    [
        ("Checkout_Service", "EU.Prod", ("checkout-service", "eu-prod")),
        ("api2", "qa-1", ("api2", "qa-1")),
    ],
)
def test_names_are_normalised_to_the_ledgers_rule(
    name: str, env: str, expected: tuple[str, str], cdevent: Fixture
) -> None:
    event = cdevent("service_deployed")
    event["subject"]["content"]["artifactId"] = f"pkg:oci/{name}@sha256%3A{D1}"
    event["subject"]["content"]["environment"]["id"] = env
    planned = plan(event)
    assert isinstance(planned, DeployPlan)
    assert (planned.deploy.app, planned.deploy.env) == expected


@pytest.mark.parametrize(
    ("artifact", "env", "field"),
    [
        (f"pkg:oci/-checkout@sha256%3A{D1}", "staging", "subject.content.artifactId"),
        (f"pkg:oci/kassen%C3%BCbersicht@sha256%3A{D1}", "staging", "subject.content.artifactId"),
        (f"pkg:oci/{'a' * 64}@sha256%3A{D1}", "staging", "subject.content.artifactId"),
        (f"pkg:oci/checkout@sha256%3A{D1}", "eu/prod", "subject.content.environment.id"),
        ("ghcr.io/acme/checkout:1.4.0", "staging", "subject.content.artifactId"),
        ("pkg:oci/checkout", "staging", "subject.content.artifactId"),
        ("pkg:oci/checkout@1.4.0+build.7", "staging", "subject.content.artifactId"),
    ],
)
def test_what_does_not_fit_the_ledger_is_refused_naming_the_field(
    artifact: str, env: str, field: str, cdevent: Fixture
) -> None:
    event = cdevent("service_deployed")
    event["subject"]["content"]["artifactId"] = artifact
    event["subject"]["content"]["environment"]["id"] = env
    refused = unmappable(event)
    assert (refused.status, refused.field) == (422, field)


@pytest.mark.parametrize(
    ("artifact", "custom", "commit"),
    [
        (PURL1, {"commit": COMMIT.upper()}, COMMIT),
        (f"{PURL1}&vcs_url=git%2Bhttps://github.com/acme/checkout@{COMMIT}", {}, COMMIT),
        ("pkg:golang/github.com/acme/checkout@3f786850e387", {}, "3f786850e387"),
        (PURL1, {}, D1[:12]),
        ("pkg:maven/com.acme/checkout@1.4.0", {"commit": COMMIT}, COMMIT),
    ],
    ids=["custom-data", "vcs-url", "hex-version", "digest-placeholder", "version-and-commit"],
)
def test_the_commit_comes_from_the_best_source_there_is(
    artifact: str, custom: Event, commit: str, cdevent: Fixture
) -> None:
    event = cdevent("build_finished")
    event["subject"]["content"]["artifactId"] = artifact
    event["customData"] = custom
    planned = plan(event)
    assert isinstance(planned, RecordBuildPlan)
    assert planned.build.commit == commit


@pytest.mark.parametrize("version", ["1.4.0", "20250304"])
def test_a_version_that_is_no_digest_needs_a_commit(version: str, cdevent: Fixture) -> None:
    event = cdevent("build_finished")
    event["subject"]["content"]["artifactId"] = f"pkg:maven/com.acme/checkout@{version}"
    del event["customData"]
    with pytest.raises(Unmappable, match=r"customData\.commit") as refused:
        plan(event)
    assert refused.value.field == "customData.commit"


def test_a_field_that_does_not_fit_is_named_as_the_event_names_it(cdevent: Fixture) -> None:
    event = cdevent("build_finished")
    event["customData"] = {"branch": "b" * 5000}
    refused = unmappable(event)
    assert refused.field == "customData.branch"
    assert "`customData.branch`" in refused.detail and "$." not in refused.detail


def test_a_version_names_the_build_when_there_is_no_digest(cdevent: Fixture) -> None:
    event = cdevent("build_finished")
    event["subject"]["content"]["artifactId"] = "pkg:maven/com.acme/checkout@1.4.0"
    planned = plan(event)
    assert isinstance(planned, RecordBuildPlan)
    assert (planned.build.build_id, planned.build.artifact.digest) == ("1.4.0", "1.4.0")


@pytest.mark.parametrize(
    ("custom", "field"),
    [
        ({"commit": "not-a-sha"}, "customData.commit"),
        ({"branch": ""}, "customData.branch"),
        ({"pipeline": {"name": "release"}}, "customData.pipeline"),
    ],
)
def test_custom_data_the_ledger_reads_must_be_valid(
    custom: Event, field: str, cdevent: Fixture
) -> None:
    event = cdevent("build_finished")
    event["customData"] = custom
    assert unmappable(event).field == field


def test_custom_data_the_ledger_does_not_read_is_left_alone(cdevent: Fixture) -> None:
    event = cdevent("service_deployed")
    event["customData"] = {"argocd": {"revision": 7}, "pipeline": {"name": "cd", "run_id": "7"}}
    planned = plan(event)
    assert isinstance(planned, DeployPlan)
    assert planned.build.pipeline == Pipeline(name="cd", run_id="7")


def test_a_build_finished_event_without_an_artifact_names_no_app(cdevent: Fixture) -> None:
    event = cdevent("build_finished")
    event["subject"]["content"] = {}
    with pytest.raises(Unmappable, match="names no artifact") as refused:
        plan(event)
    assert refused.value.field == "subject.content.artifactId"


def test_a_service_event_without_its_environment_is_malformed(cdevent: Fixture) -> None:
    event = cdevent("service_deployed")
    del event["subject"]["content"]["environment"]
    with pytest.raises(Malformed, match="environment"):
        plan(event)


@pytest.mark.parametrize(
    ("custom", "field"),
    [
        ({"config": {"set": {"A": "1"}}}, "customData.app"),
        ({"app": "checkout", "config": {}}, "customData.config"),
        ({"app": "checkout", "config": {"set": {"1BAD": "x"}}}, "customData.config.set"),
    ],
)
def test_a_config_change_needs_an_app_and_a_change(
    custom: Event, field: str, cdevent: Fixture
) -> None:
    event = cdevent("environment_modified")
    event["customData"] = custom
    assert unmappable(event).field == field


def test_the_context_says_cdevents_when_and_which_chain(cdevent: Fixture) -> None:
    event = msgspec.convert(cdevent("service_deployed"), CDEvent)
    sender = c.Context(actor="argocd", actor_kind="ci", idempotency_key="from-a-header")
    context = ingest_context(sender, event)
    assert (context.via, context.actor, context.correlation_id) == ("cdevents", "argocd", CHAIN)
    assert context.occurred_at == datetime(2025, 3, 4, 14, 5, 2, 310000, tzinfo=UTC)
    assert context.idempotency_key is None  # only the last command carries the event's key
    assert idempotency_key(event) == f"cloudevent:{ARGO}:d6c551e9-8bc3-460e-9e5b-409a7307c32d"


def test_a_correlation_id_the_sender_gave_wins_over_the_chain(cdevent: Fixture) -> None:
    event = msgspec.convert(cdevent("service_deployed"), CDEvent)
    context = ingest_context(c.Context(correlation_id="run-42"), event)
    assert context.correlation_id == "run-42"
