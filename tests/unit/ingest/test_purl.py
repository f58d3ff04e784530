"""Package URLs, the artifact ids CDEvents carry, read as the purl specification says: the app is
the purl's name whatever its namespace, the build its (percent-decoded) version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from ledger.domain.events import Artifact
from ledger.ingest.cdevents import RecordBuildPlan, plan_of
from ledger.ingest.problems import Unmappable
from ledger.ingest.schema import CDEvent

DIGEST = "sha256:1f04c1cf8c648ef4a03c3da4077550b138fe05e0b2bd15a9b610730e57734fca"
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"
Fixture = Callable[[str], dict[str, Any]]


def built(cdevent: Fixture, purl: str) -> RecordBuildPlan:
    """The build a build.finished event of the artifact ``purl`` records."""
    event = cdevent("build_finished")
    event["subject"]["content"]["artifactId"] = purl
    event["customData"] = {"commit": COMMIT}
    planned = plan_of(msgspec.convert(event, CDEvent))
    assert isinstance(planned, RecordBuildPlan)
    return planned


def test_an_oci_image_by_digest_with_its_repository(cdevent: Fixture) -> None:
    purl = f"pkg:oci/checkout@{DIGEST.replace(':', '%3A')}?repository_url=ghcr.io/acme/checkout"
    build = built(cdevent, purl).build
    assert (build.app, build.build_id) == ("checkout", DIGEST[7:19])
    assert build.artifact == Artifact(digest=DIGEST, url=purl)


def test_an_oci_digest_is_read_lowercase_as_the_spec_normalises_it(cdevent: Fixture) -> None:
    build = built(cdevent, f"pkg:oci/checkout@{DIGEST.upper()}").build
    assert (build.build_id, build.artifact.digest) == (DIGEST[7:19], DIGEST)


@pytest.mark.parametrize(
    ("value", "app", "version"),
    [
        (
            "pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c",
            "myapp",
            "234fd47e07d1004f0aed9c",
        ),
        ("pkg:npm/%40acme/checkout-ui@2.1.0", "checkout-ui", "2.1.0"),
        ("pkg:maven/com.acme/checkout@1.4.0?type=jar#lib", "checkout", "1.4.0"),
        ("pkg:Maven/com.acme/checkout@1.4.0#docs/api", "checkout", "1.4.0"),
        ("pkg://oci/checkout@v1", "checkout", "v1"),
    ],
)
def test_the_app_is_the_name_and_the_build_the_version(
    value: str, app: str, version: str, cdevent: Fixture
) -> None:
    build = built(cdevent, value).build
    assert (build.app, build.build_id, build.artifact.digest) == (app, version, version)


@pytest.mark.parametrize(
    "value",
    [
        "checkout@1.0",
        "https://ghcr.io/acme/checkout",
        "pkg:oci",
        "pkg:/@1",
        "pkg:oci/@1",
        "pkg:1oci/checkout@1",
    ],
)
def test_what_is_not_a_package_url_is_refused_naming_the_field(
    value: str, cdevent: Fixture
) -> None:
    with pytest.raises(Unmappable, match="pkg:type/name") as refused:
        built(cdevent, value)
    assert refused.value.field == "subject.content.artifactId"


def test_a_package_url_without_a_version_is_refused(cdevent: Fixture) -> None:
    with pytest.raises(Unmappable, match="has no version") as refused:
        built(cdevent, "pkg:OCI/checkout")
    assert refused.value.field == "subject.content.artifactId"
