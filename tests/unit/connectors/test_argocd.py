"""The Argo CD receiver's own rules, on bodies built from the real Application: the secret it
accepts, the delivery id, the names it maps to, and the images that name builds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.connectors.argocd import ArgoCD
from ledger.connectors.argocd_notification import Image, decode, names_of, pinned
from ledger.connectors.models import Mapping
from ledger.connectors.translation import BadSignature, Delivery, Malformed

from ...argocd import REVISION, application, body_of, synced

SECRET = "s3cret-of-the-connector-0123456789"
DIGEST = "sha256:" + "ab" * 32


def delivery(body: dict[str, Any] | bytes, **headers: str) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Delivery(
        connector="argocd", headers={k.lower(): v for k, v in headers.items()}, body=raw,
        received_at=datetime.now(UTC),
    )  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SECRET}"},
        {"Authorization": f"bearer  {SECRET} "},
        {"X-Ledger-Connector-Secret": SECRET},
    ],
)
def test_the_connector_secret_is_accepted_as_a_bearer_token_or_in_its_header(
    headers: dict[str, str],
) -> None:
    ArgoCD().verify(SECRET, delivery(body_of(application()), **headers))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-secret"},
        {"Authorization": f"Basic {SECRET}"},
        {"X-Ledger-Connector-Secret": SECRET[:-1]},
        {"Authorization": "Bearer wrong", "X-Ledger-Connector-Secret": SECRET},
    ],
)
def test_anything_but_the_connector_secret_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(BadSignature):
        ArgoCD().verify(SECRET, delivery(body_of(application()), **headers))


def test_the_delivery_id_is_the_id_the_template_renders() -> None:
    app = application()
    expected = f"{app['metadata']['uid']}/deployed/{REVISION}/2024-03-05T07:33:04Z"
    assert ArgoCD().delivery_id(delivery(body_of(app))) == expected


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": "", "event": "deployed"}'])
def test_a_body_the_template_does_not_render_is_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        ArgoCD().delivery_id(delivery(body))


def test_the_real_application_is_read_as_argo_cd_tells_it() -> None:
    notification = decode(json.dumps(body_of(application())).encode())
    assert (notification.event, notification.app.name) == ("deployed", "velero-test")
    assert notification.commits() == [REVISION]  # sync.revision "rev1" is no commit
    assert notification.operation.initiated_by is not None
    assert notification.operation.initiated_by.username == "foo@example.com"
    assert notification.finished_at() == datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)
    assert pinned(notification.images) == []  # nginx:latest names no digest


def names(mapping: Mapping | None = None, labels: dict[str, str] | None = None) -> Any:
    app = synced(application(), labels=labels)
    return names_of(decode(json.dumps(body_of(app)).encode()), mapping or Mapping())


def test_by_default_the_app_is_the_applications_name_and_the_env_its_destination_namespace() -> (
    None
):
    assert names()[:2] == ("velero-test", "test-lla")


def test_the_ledger_release_labels_name_the_app_and_env() -> None:
    labels = {"ledger.release/app": "velero", "ledger.release/env": "staging"}
    assert names(labels=labels)[:2] == ("velero", "staging")


def test_the_mappings_labels_pick_labels_or_annotations_and_its_renames_apply() -> None:
    mapping = Mapping(
        app_label="project", env_label="argocd.argoproj.io/compare-options",
        apps={"sre": "platform"}, envs={"ServerSideDiff=true": "prod"},
    )  # fmt: skip
    assert names(mapping)[:2] == ("platform", "prod")


def test_a_label_the_mapping_names_must_be_there() -> None:
    app, env, why = names(Mapping(app_label="team.example.com/app"))
    assert (app, env) == (None, "test-lla")
    assert why is not None and "'team.example.com/app'" in why and "velero-test" in why


def test_a_name_mapped_to_none_or_no_ledger_name_is_unmapped() -> None:
    assert names(Mapping(apps={"velero-test": ""})).why is not None
    _, env, why = names(Mapping(env_label="cluster_name"), {"cluster_name": "GKE_alpha"})
    assert env is None and why is not None and "'GKE_alpha'" in why


def test_images_pinned_by_digest_name_their_repository_and_digest() -> None:
    images = [
        "nginx:latest",
        f"ghcr.io/acme/shop@{DIGEST}",
        f"registry.example.com:5000/team/api:1.2.3@{DIGEST}",
        f"redis@sha256:{'0' * 63}",
    ]
    assert pinned(images) == [
        Image("ghcr.io/acme/shop", DIGEST),
        Image("registry.example.com:5000/team/api", DIGEST),
    ]
