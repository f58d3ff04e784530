"""Hostile runtime reports, on each backend: malformed digests, unstorable characters, too many
instances and huge bodies are refused naming the field (or 413) before anything is recorded."""

from __future__ import annotations

import pytest

from .conftest import Api

pytestmark = pytest.mark.e2e

UNRECORDED = "sha256:" + "e" * 64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"artifact_digest": "sha256:abc"}, "workloads[0].instances[0].artifact_digest"),
        ({"artifact_digest": "md5:" + "a" * 32}, "workloads[0].instances[0].artifact_digest"),
        ({"id": "pod\u0000x"}, "workloads[0].instances[0].id"),
    ],
)
def test_hostile_instances_are_refused_naming_the_field(
    api: Api, change: dict[str, str], field: str
) -> None:
    instance = {"id": "p-1", "artifact_digest": UNRECORDED} | change
    body = {
        "reporter": "k8s:x",
        "env": "prod",
        "workloads": [{"app": "a", "instances": [instance]}],
    }
    api.request("POST", "/v1/runtime/reports", body).problem(422, field)


def test_a_nul_in_the_reporter_name_is_refused(api: Api) -> None:
    body = {"reporter": "k8s\u0000x", "env": "prod", "workloads": []}
    api.request("POST", "/v1/runtime/reports", body).problem(422, "reporter")


def test_too_many_instances_are_refused(api: Api) -> None:
    instances = [{"id": f"p-{n}", "artifact_digest": UNRECORDED} for n in range(3000)]
    body = {
        "reporter": "k8s:x",
        "env": "prod",
        "workloads": [{"app": "a", "instances": instances}, {"app": "b", "instances": instances}],
    }
    api.request("POST", "/v1/runtime/reports", body).problem(422, "workloads")


def test_a_huge_report_is_refused_before_it_is_read(api: Api) -> None:
    raw = b'{"reporter": "k8s:x", "env": "prod", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    answer = api.request("POST", "/v1/runtime/reports", raw=raw)
    assert answer.status == 413, answer
