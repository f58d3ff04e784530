"""deploy/compose.yaml and the Helm chart deploy/helm/release-ledger: valid under their
specifications, and wired as README "Deployment" says (roles, health, tokens, secrets)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

CHART = Path(__file__).resolve().parents[3] / "deploy" / "helm" / "release-ledger"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
LEDGER_SERVICES = ("init", "api-1", "api-2", "worker")
SECRET_KEYS = {"LEDGER_DATABASE_URL", "LEDGER_CIPHER_KEY", "LEDGER_SIGNING_KEY"}


def oldest_kubernetes() -> str:
    """The oldest Kubernetes version the chart supports (Chart.yaml kubeVersion: >=X)."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    found = re.match(r">=\s*v?(\d+\.\d+\.\d+)", chart["kubeVersion"])
    assert found, chart["kubeVersion"]
    return found.group(1)


KUBE_VERSIONS = [oldest_kubernetes(), latest_version()]


# ---------------------------------------------------------------------------------------------
# compose


def test_compose_file_is_valid_under_the_compose_specification(deploy: Path) -> None:
    schema = ["--builtin-schema", "vendor.compose-spec"]
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, str(deploy / "compose.yaml")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_runs_postgres_nats_two_apis_a_worker_and_a_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "nats", "proxy", *LEDGER_SERVICES}
    assert re.fullmatch(r"postgres:16([.-].*)?", services["postgres"]["image"])
    assert services["nats"]["image"].startswith("nats:")
    assert services["proxy"]["image"].startswith("nginx:")
    for name in LEDGER_SERVICES:
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}


ROLES = [("api-1", "api"), ("api-2", "api"), ("worker", "worker")]


@pytest.mark.parametrize(("service", "role"), ROLES)
def test_each_ledger_server_has_its_role_and_listens_beyond_loopback(
    compose: dict[str, Any], service: str, role: str
) -> None:
    command = compose["services"][service]["command"]
    assert command[0] == "serve"
    assert command[command.index("--role") + 1] == role
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_servers_start_once_the_stores_are_healthy_and_the_admin_token_exists(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["init"]["entrypoint"] == ["ledger-bootstrap", "admin-token"]
    assert services["init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api-1", "api-2", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "nats": {"condition": "service_healthy"},
            "init": {"condition": "service_completed_successfully"},
        }
    assert services["proxy"]["depends_on"] == {
        "api-1": {"condition": "service_healthy"},
        "api-2": {"condition": "service_healthy"},
    }


def test_every_service_waited_for_as_healthy_has_a_healthcheck(
    compose: dict[str, Any], deploy: Path
) -> None:
    image_checks = "HEALTHCHECK" in (deploy / "Dockerfile").read_text()
    services = compose["services"]
    for service in services.values():
        for name, condition in service.get("depends_on", {}).items():
            if condition["condition"] != "service_healthy":
                continue
            built_here = services[name].get("build", {}).get("dockerfile") == "deploy/Dockerfile"
            assert "healthcheck" in services[name] or (built_here and image_checks), name


def test_postgres_and_nats_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    volumes = {
        name: [v.split(":")[1] for v in compose["services"][name]["volumes"]]
        for name in ("postgres", "nats")
    }
    assert "/var/lib/postgresql/data" in volumes["postgres"]
    assert "/data" in volumes["nats"]
    assert {"postgres-data", "nats-data"} <= set(compose["volumes"])


def test_servers_get_keys_from_the_environment_and_no_client_token(
    compose: dict[str, Any],
) -> None:
    for name in LEDGER_SERVICES:
        environment = compose["services"][name]["environment"]
        assert "LEDGER_TOKEN" not in environment  # a client setting: servers hold no token
        assert environment["LEDGER_DATABASE_URL"].startswith("postgresql://")
        assert "${POSTGRES_PASSWORD:?" in environment["LEDGER_DATABASE_URL"]
        assert environment["LEDGER_CIPHER_KEY"].startswith("${LEDGER_CIPHER_KEY:?")
        assert environment["LEDGER_NATS_URL"] == "nats://nats:4222"


def test_files_mounted_into_containers_exist(compose: dict[str, Any], deploy: Path) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (deploy / source).is_file(), source


def test_jetstream_syncs_every_write_to_disk(deploy: Path, tool: Callable[[str], Path]) -> None:
    config = (deploy / "nats" / "nats.conf").read_text()
    assert re.search(r"jetstream\s*\{[^}]*store_dir:\s*/data", config)
    assert re.search(r"jetstream\s*\{[^}]*sync_interval:\s*always", config)
    checked = subprocess.run(
        [str(tool("nats-server")), "-t", "-c", str(deploy / "nats" / "nats.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_proxy_balances_over_both_api_replicas(deploy: Path) -> None:
    config = (deploy / "nginx" / "ledger.conf").read_text()
    upstream = re.search(r"upstream ledger_api \{(.*?)\}", config, re.S)
    assert upstream
    assert re.findall(r"server (\S+?):8080", upstream.group(1)) == ["api-1", "api-2"]
    assert "proxy_pass http://ledger_api;" in config


def test_every_ledger_variable_the_deployment_sets_is_read_by_the_ledger(
    compose: dict[str, Any], deploy: Path, ledger_variables: frozenset[str]
) -> None:
    bootstrap = (deploy / "docker" / "ledger-bootstrap").read_text()
    known = ledger_variables | set(re.findall(r"\bLEDGER_[A-Z0-9_]+\b", bootstrap))
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    env_file = (deploy / "systemd" / "ledger.env.example").read_text()
    dockerfile = (deploy / "Dockerfile").read_text()
    used = {
        "compose": {n for s in LEDGER_SERVICES for n in compose["services"][s]["environment"]},
        "helm": set(values["config"]) | SECRET_KEYS | {"LEDGER_READ_DATABASE_URL"},
        "systemd env": set(re.findall(r"^(LEDGER_\w+)=", env_file, re.M)),
        "Dockerfile": set(re.findall(r"\b(LEDGER_\w+)=", dockerfile)),
    }
    for where, names in used.items():
        assert names - known == set(), where


# ---------------------------------------------------------------------------------------------
# Helm chart and Kubernetes manifests


def render(helm: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm), "template", "demo", str(CHART), *arguments], capture_output=True, text=True
    )


def manifests(helm: Path, values: Path, kube_version: str = KUBE_VERSIONS[-1]) -> list[Any]:
    rendered = render(helm, "-f", str(values), "--kube-version", kube_version)
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def by_kind(docs: list[Any], kind: str) -> dict[str, Any]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module")
def default(helm: Path) -> list[Any]:
    """The chart rendered with ci/default-values.yaml (its own Secret, the autoscaler)."""
    return manifests(helm, CHART / "ci" / "default-values.yaml")


def test_chart_and_values_parse(deploy: Path) -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert (chart["name"], chart["type"]) == ("release-ledger", "application")
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["worker"]["replicas"] == 2
    assert values["api"]["autoscaling"]["enabled"] is True
    assert (CHART / "templates" / "NOTES.txt").is_file()
    assert (CHART / "templates" / "_helpers.tpl").is_file()
    assert CI_VALUES, "no ci/*-values.yaml to render the chart with"


def test_pods_run_as_the_user_of_the_image(deploy: Path) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    user = re.findall(r"^USER (\d+):(\d+)$", (deploy / "Dockerfile").read_text(), re.M)[-1]
    context = values["podSecurityContext"]
    assert (str(context["runAsUser"]), str(context["runAsGroup"])) == user
    assert context["runAsNonRoot"] is True
    assert values["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_chart_lints_cleanly(helm: Path, values: Path) -> None:
    linted = subprocess.run(
        [str(helm), "lint", "--strict", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "WARN" not in linted.stdout + linted.stderr


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_rendered_manifest_is_valid_under_the_kubernetes_schema(
    helm: Path, values: Path, kube_version: str
) -> None:
    docs = manifests(helm, values, kube_version)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, kube_version, strict=True)


def test_the_schema_check_rejects_a_misspelt_field(default: list[Any]) -> None:
    service = dict(next(d for d in default if d["kind"] == "Service"))
    service["spec"] = {**service["spec"], "selectr": {}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBE_VERSIONS[-1], strict=True)


def test_the_chart_refuses_to_render_without_a_database(helm: Path) -> None:
    rendered = render(helm)
    assert rendered.returncode != 0
    assert "secrets.databaseUrl" in rendered.stderr


def test_api_pods_are_probed_autoscaled_and_locked_down(default: list[Any]) -> None:
    api = by_kind(default, "Deployment")["demo-release-ledger-api"]
    assert "replicas" not in api["spec"]  # the autoscaler owns the count
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][-2:] == ["--role", "api"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (hpa,) = by_kind(default, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-release-ledger-api"


def test_two_workers_run_the_worker_role(default: list[Any]) -> None:
    worker = by_kind(default, "Deployment")["demo-release-ledger-worker"]
    assert worker["spec"]["replicas"] == 2
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["args"][-2:] == ["--role", "worker"]


def test_the_service_and_budgets_select_the_right_pods(default: list[Any]) -> None:
    deployments = by_kind(default, "Deployment")
    (service,) = by_kind(default, "Service").values()
    api_labels = deployments["demo-release-ledger-api"]["spec"]["template"]["metadata"]["labels"]
    worker_labels = deployments["demo-release-ledger-worker"]["spec"]["template"]["metadata"][
        "labels"
    ]
    selector = service["spec"]["selector"].items()
    assert selector <= api_labels.items()
    assert not selector <= worker_labels.items()  # workers serve no API traffic
    budgets = by_kind(default, "PodDisruptionBudget")
    for component, labels in (("api", api_labels), ("worker", worker_labels)):
        budget = budgets[f"demo-release-ledger-{component}"]["spec"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert budget["minAvailable"] == 1


def test_secrets_are_in_the_secret_and_settings_in_the_config_map(default: list[Any]) -> None:
    (config,) = by_kind(default, "ConfigMap").values()
    (secret,) = by_kind(default, "Secret").values()
    assert set(secret["stringData"]) == SECRET_KEYS
    assert not SECRET_KEYS & set(config["data"])
    assert all(name.startswith("LEDGER_") for name in config["data"])


def test_pods_wait_for_the_token_that_the_init_job_creates(default: list[Any]) -> None:
    for deployment in by_kind(default, "Deployment").values():
        (wait,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert wait["command"] == ["ledger-bootstrap", "wait-token"]
    (job,) = by_kind(default, "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["ledger-bootstrap", "admin-token"]
    assert {"name": "LEDGER_ADMIN_TOKEN_NAME", "value": "admin"} in container["env"]


def test_an_existing_secret_replaces_the_chart_secret(helm: Path) -> None:
    docs = manifests(helm, CHART / "ci" / "existing-secret-values.yaml")
    assert by_kind(docs, "Secret") == {}
    assert by_kind(docs, "HorizontalPodAutoscaler") == {}
    api = by_kind(docs, "Deployment")["demo-release-ledger-api"]
    assert api["spec"]["replicas"] == 3
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert {"secretRef": {"name": "ledger-secrets"}} in container["envFrom"]


# ---------------------------------------------------------------------------------------------
# The Kubernetes reporter (off by default)

REPORTER = "demo-release-ledger-reporter"


def reporter_docs(docs: list[Any]) -> list[Any]:
    return [d for d in docs if d["metadata"]["name"] == REPORTER]


def test_the_reporter_is_off_by_default(default: list[Any]) -> None:
    assert reporter_docs(default) == []
    assert yaml.safe_load((CHART / "values.yaml").read_text())["reporter"]["enabled"] is False


def test_a_reporter_of_one_namespace_reads_its_pods_with_a_role_there(helm: Path) -> None:
    docs = manifests(helm, CHART / "ci" / "reporter-values.yaml")
    kinds = {d["kind"]: d for d in reporter_docs(docs)}
    assert set(kinds) == {"ServiceAccount", "Role", "RoleBinding", "Secret", "Deployment"}
    assert kinds["Role"]["metadata"]["namespace"] == "shop"
    assert kinds["Role"]["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]
    binding = kinds["RoleBinding"]
    assert binding["roleRef"]["name"] == REPORTER and binding["metadata"]["namespace"] == "shop"
    assert binding["subjects"][0]["name"] == REPORTER
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == REPORTER and pod["automountServiceAccountToken"] is True
    (container,) = pod["containers"]
    assert container["args"] == [
        "report", "kubernetes", "--env", "prod", "--every", "30s",
        "--app-label", "app.kubernetes.io/name", "--namespace", "shop",
    ]  # fmt: skip
    env = {e["name"]: e for e in container["env"]}
    assert env["LEDGER_URL"]["value"] == "http://demo-release-ledger:80"
    assert env["LEDGER_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": REPORTER, "key": "token"}
    assert kinds["Secret"]["stringData"] == {"token": "not-a-real-token"}


def test_a_cluster_wide_reporter_uses_a_cluster_role_and_an_existing_secret(
    helm: Path, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        (CHART / "ci" / "reporter-values.yaml").read_text()
        + "  namespace: ''\n  token: ''\n  existingSecret: reporter-token\n"
        + "  selector: tier=web\n  name: k8s:prod-eu\n"
    )
    docs = manifests(helm, values)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSIONS[-1], strict=True)
    kinds = {d["kind"]: d for d in reporter_docs(docs)}
    assert set(kinds) == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"}
    (container,) = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["args"][-4:] == ["--selector", "tier=web", "--reporter", "k8s:prod-eu"]
    token = next(e for e in container["env"] if e["name"] == "LEDGER_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["name"] == "reporter-token"


def test_the_reporter_refuses_to_render_without_an_environment_or_a_token(helm: Path) -> None:
    base = ["-f", str(CHART / "ci" / "default-values.yaml"), "--set", "reporter.enabled=true"]
    no_env = render(helm, *base, "--set", "reporter.token=t")
    assert no_env.returncode != 0 and "reporter.env" in no_env.stderr
    no_token = render(helm, *base, "--set", "reporter.env=prod")
    assert no_token.returncode != 0 and "runtime:write token" in no_token.stderr
