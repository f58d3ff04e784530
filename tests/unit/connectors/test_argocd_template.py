"""deploy/argocd: the argocd-notifications ConfigMap and Secret are valid Kubernetes objects,
the webhook service sends the connector's secret, the triggers are the catalog's, and the
template reads exactly the Application paths the tests build deliveries from (tests/argocd.py),
each of which the real Application of tests/fixtures/argocd has."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from ...argocd import (
    COMPUTED,
    FIELDS,
    LAST_APPLIED,
    SECRET,
    AppPath,
    application,
    config_map,
    read,
    template_body,
)

DIRECT = re.compile(r"\.app((?:\.[A-Za-z]+)+)")
DIG = re.compile(r'dig((?:\s+"[^"]+")+)\s+(""|\(dict\)|\(list\))\s+\.app\b')
DEFAULTS = {'""': "", "(dict)": {}, "(list)": []}
JSON_KEY = re.compile(r'"([A-Za-z]+)":')
TRIGGERS = ("on-deployed", "on-sync-failed", "on-health-degraded")
CATALOG = {
    "on-deployed": "app.status.operationState != nil and app.status.operationState.phase in "
    "['Succeeded'] and app.status.health.status == 'Healthy' and (!time.Parse(app.status.health"
    ".lastTransitionTime).Add(1 * time.Minute).Before(time.Parse(app.status.operationState."
    "finishedAt)) or time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app."
    "status.operationState.startedAt)))",
    "on-sync-failed": "app.status.operationState != nil and app.status.operationState.phase in "
    "['Error', 'Failed']",
    "on-health-degraded": "app.status.health.status == 'Degraded'",
}
"""The conditions of Argo CD's notifications catalog (notifications_catalog/triggers)."""


def paths_read(body: str) -> dict[AppPath, Any]:
    """Each path of ``.app`` the template reads, with its default (None where it reads the
    path directly: a missing value renders as toJson's null)."""
    found: dict[AppPath, Any] = {}
    for match in DIG.finditer(body):
        keys = tuple(re.findall(r'"([^"]+)"', match.group(1)))
        found[keys] = DEFAULTS[match.group(2)]
    for match in DIRECT.finditer(body):
        found.setdefault(tuple(match.group(1).strip(".").split(".")), None)
    return found


def test_the_template_reads_the_paths_the_tests_build_deliveries_from() -> None:
    read_by_template = paths_read(template_body())
    assert read_by_template == {path: default for path, default in FIELDS.values()}


def test_every_path_the_template_reads_is_in_the_real_application() -> None:
    app = application()
    missing = object()
    for path in paths_read(template_body()):
        assert read(app, path, missing) is not missing, ".app." + ".".join(path)


def test_the_template_renders_the_fields_of_the_body_and_no_others() -> None:
    keys = set(JSON_KEY.findall(template_body()))
    named = {part for name in FIELDS for part in name.split(".")} | set(COMPUTED)
    assert keys == named


def test_the_template_escapes_every_value_as_json_and_leaves_out_kubectls_copy() -> None:
    body = template_body()
    values = re.findall(r'":\s*(.*?)\s*,?\s*$', body, flags=re.MULTILINE)
    rendered = [v for v in values if v.startswith("{{")]
    assert rendered and all(v.endswith("| toJson }}") for v in rendered), rendered
    assert f'"{LAST_APPLIED}"' in body


def test_the_webhook_posts_with_the_connector_secret_from_the_notifications_secret() -> None:
    data = config_map()["data"]
    service = yaml.safe_load(data["service.webhook.release-ledger"])
    headers = {h["name"]: h["value"] for h in service["headers"]}
    assert headers == {
        "Content-Type": "application/json",
        "Authorization": "Bearer $release-ledger-secret",
    }
    assert service["url"].endswith("/v1/connectors/argocd/events")
    template = yaml.safe_load(data["template.release-ledger"])
    assert template["webhook"]["release-ledger"]["method"] == "POST"
    secret = yaml.safe_load(SECRET.read_text())
    assert set(secret["stringData"]) == {"release-ledger-secret"}


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_trigger_is_the_catalogs_sending_the_release_ledger_template(trigger: str) -> None:
    data = config_map()["data"]
    [condition] = yaml.safe_load(data[f"trigger.release-ledger-{trigger}"])
    assert condition["when"] == CATALOG[trigger]
    assert condition["send"] == ["release-ledger"]
    assert condition["oncePer"] == "app.status.operationState?.syncResult?.revision"
    defaults = yaml.safe_load(data["defaultTriggers.release-ledger"])
    assert f"release-ledger-{trigger}" in defaults


def test_the_config_map_and_secret_are_valid_kubernetes_objects() -> None:
    for document in (config_map(), yaml.safe_load(SECRET.read_text())):
        kubernetes_validate.validate(document, latest_version(), strict=True)
