"""deploy/: the kustomization renders, every manifest validates offline, and the values agree with the code.

Built-in kinds are validated by `kubernetes-validate` (the Kubernetes OpenAPI schemas it bundles, strict:
unknown fields fail). The KEDA ScaledObject is a custom resource: it is validated against
tests/deploy/schemas/keda-scaledobject-v1alpha1.json, derived from KEDA's CRD (see its `$comment`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate.utils import ValidationError as K8sValidationError
from kubernetes_validate.utils import latest_version, validate
from pydantic import ValidationError

from aexy_stream.settings import Settings
from consumers.config import Topics
from consumers.processor import PARK_TIMEOUT_S

from .files import DEPLOY, SCHEMAS, cli, handler_module, load_documents, load_yaml, run, tool

NAMESPACE = "aexy-stream"
OLDEST_KUBERNETES = "1.30"
SHUTDOWN_MARGIN_S = 5
"""Time left after the grace period and parking, for the last commit and closing the clients."""
NOT_RESOURCES = ("grafana", "prometheus")


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(DEPLOY / "kustomization.yaml")
    return data


@pytest.fixture(scope="module")
def sources(kustomization: dict[str, Any]) -> list[dict[str, Any]]:
    return [doc for name in kustomization["resources"] for doc in load_documents(DEPLOY / name)]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    """`kubectl kustomize deploy/`: the objects `kubectl apply -k deploy/` would send."""
    result = run(tool("kubectl"), "kustomize", str(DEPLOY))
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def settings_data(objects: list[dict[str, Any]]) -> dict[str, str]:
    config = find(objects, "ConfigMap", "aexy-stream-config")["data"]
    secret = find(objects, "Secret", "aexy-stream-secrets")["stringData"]
    return {**config, **secret}


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def all_containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    pod = deployment["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def deployments(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == "Deployment"]


# -- the kustomization ---------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_under_deploy(kustomization: dict[str, Any]) -> None:
    on_disk = sorted(
        path.relative_to(DEPLOY).as_posix()
        for path in DEPLOY.rglob("*")
        if path.is_file()
        and path.name != "kustomization.yaml"
        and path.relative_to(DEPLOY).parts[0] not in NOT_RESOURCES
    )
    assert sorted(kustomization["resources"]) == on_disk


def test_kustomize_renders_every_listed_object_into_the_namespace(
    sources: list[dict[str, Any]], rendered: list[dict[str, Any]]
) -> None:
    def keys(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((o["kind"], o["metadata"]["name"]) for o in objects)

    assert keys(rendered) == keys(sources)
    namespaced = [o for o in rendered if o["kind"] != "Namespace"]
    assert {o["metadata"].get("namespace") for o in namespaced} == {NAMESPACE}
    assert find(rendered, "Namespace", NAMESPACE)


def test_kustomize_sets_one_image_on_every_container(
    kustomization: dict[str, Any], rendered: list[dict[str, Any]]
) -> None:
    (image,) = kustomization["images"]
    expected = f"{image['newName']}:{image['newTag']}"
    assert {c["image"] for d in deployments(rendered) for c in all_containers(d)} == {expected}


# -- schemas -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, latest_version()])
def test_builtin_objects_validate_against_the_kubernetes_schemas(
    rendered: list[dict[str, Any]], version: str
) -> None:
    builtin = [o for o in rendered if not o["apiVersion"].startswith("keda.sh/")]
    assert len(builtin) == len(rendered) - 1
    for obj in builtin:
        validate(obj, version, strict=True)


def test_strict_validation_rejects_an_unknown_field(rendered: list[dict[str, Any]]) -> None:
    deployment = copy.deepcopy(find(rendered, "Deployment", "aexy-stream-processor"))
    deployment["spec"]["replica"] = 2
    with pytest.raises(K8sValidationError, match="replica"):
        validate(deployment, latest_version(), strict=True)


def keda_errors(scaled_object: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / "keda-scaledobject-v1alpha1.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [error.message for error in validator.iter_errors(scaled_object)]


def test_scaled_object_validates_against_the_keda_crd_schema(rendered: list[dict[str, Any]]) -> None:
    assert keda_errors(find(rendered, "ScaledObject", "aexy-stream-processor")) == []


def test_keda_schema_rejects_what_the_api_server_would(rendered: list[dict[str, Any]]) -> None:
    scaled = copy.deepcopy(find(rendered, "ScaledObject", "aexy-stream-processor"))
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 100  # metadata values must be strings
    scaled["spec"]["maxReplicas"] = 4
    errors = keda_errors(scaled)
    assert len(errors) == 2
    assert any("100 is not of type 'string'" in e for e in errors)
    assert any("maxReplicas" in e for e in errors)


# -- values that must agree with the code and with each other ---------------------------------------------


def test_config_map_and_secret_hold_only_valid_settings(sources: list[dict[str, Any]]) -> None:
    data = settings_data(sources)
    unknown = sorted(key for key in data if key.lower() not in Settings.model_fields)
    assert unknown == []
    try:
        Settings.model_validate({key.lower(): value for key, value in data.items()})
    except ValidationError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"deploy/ settings are invalid: {exc}")


def test_secret_keeps_the_credentials_out_of_the_config_map(sources: list[dict[str, Any]]) -> None:
    secret = find(sources, "Secret", "aexy-stream-secrets")["stringData"]
    config = find(sources, "ConfigMap", "aexy-stream-config")["data"]
    credentials = {"ANTHROPIC_API_KEY", "GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN"}
    assert set(secret) == credentials
    assert not credentials & set(config)


def test_keda_alone_sets_the_processor_replicas_within_the_partitions(sources: list[dict[str, Any]]) -> None:
    """A `replicas` in the Deployment would reset KEDA's count on every `kubectl apply -k`."""
    partitions = int(settings_data(sources)["TOPIC_PARTITIONS"])
    processor = find(sources, "Deployment", "aexy-stream-processor")
    scaled = find(sources, "ScaledObject", "aexy-stream-processor")["spec"]
    assert "replicas" not in processor["spec"]
    assert scaled["scaleTargetRef"]["name"] == processor["metadata"]["name"]
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= partitions


def test_termination_grace_covers_the_shutdown_sequence(sources: list[dict[str, Any]]) -> None:
    grace = float(settings_data(sources)["SHUTDOWN_GRACE_S"])
    pod = find(sources, "Deployment", "aexy-stream-processor")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= grace + PARK_TIMEOUT_S + SHUTDOWN_MARGIN_S


def test_scaled_object_watches_the_processor_group_on_its_live_topics(sources: list[dict[str, Any]]) -> None:
    settings = settings_data(sources)
    scaled = find(sources, "ScaledObject", "aexy-stream-processor")["spec"]
    assert find(sources, "Deployment", scaled["scaleTargetRef"]["name"])
    triggers = scaled["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {t["metadata"]["consumerGroup"] for t in triggers} == {settings["KAFKA_GROUP_ID"]}
    assert {t["metadata"]["bootstrapServers"] for t in triggers} == {settings["KAFKA_BOOTSTRAP_SERVERS"]}
    assert sorted(t["metadata"]["topic"] for t in triggers) == sorted(Topics().inputs)


def http_get_port(probe: dict[str, Any], ports: dict[str, int]) -> int:
    port = probe["httpGet"]["port"]
    return ports[port] if isinstance(port, str) else int(port)


@pytest.mark.parametrize(
    ("deployment", "name", "setting"),
    [("aexy-stream-processor", "processor", "HTTP_PORT"), ("aexy-stream-webhook", "webhook", "WEBHOOK_PORT")],
)
def test_readiness_probe_asks_healthz_on_the_served_port(
    sources: list[dict[str, Any]], deployment: str, name: str, setting: str
) -> None:
    served = int(settings_data(sources)[setting])
    spec = container(find(sources, "Deployment", deployment), name)
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert list(ports.values()) == [served]
    assert spec["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert http_get_port(spec["readinessProbe"], ports) == served


def test_processor_liveness_asks_healthz_too(sources: list[dict[str, Any]]) -> None:
    spec = container(find(sources, "Deployment", "aexy-stream-processor"), "processor")
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert http_get_port(spec["livenessProbe"], ports) == int(settings_data(sources)["HTTP_PORT"])


def test_every_container_has_requests_limits_and_runs_unprivileged(sources: list[dict[str, Any]]) -> None:
    for deployment in deployments(sources):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for spec in all_containers(deployment):
            resources = spec["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
            assert spec["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize(
    ("deployment", "name", "module"),
    [
        ("aexy-stream-processor", "topics", "aexy_stream.cli.topics"),
        ("aexy-stream-processor", "processor", "aexy_stream.cli.run"),
        ("aexy-stream-webhook", "webhook", "aexy_stream.cli.ingest"),
        ("aexy-stream-dashboard", "dashboard", "aexy_stream.cli.dashboard"),
    ],
)
def test_containers_run_real_subcommands(
    sources: list[dict[str, Any]], deployment: str, name: str, module: str
) -> None:
    spec = next(c for c in all_containers(find(sources, "Deployment", deployment)) if c["name"] == name)
    assert handler_module(spec["args"]) == module


def test_services_and_budget_select_their_pods(sources: list[dict[str, Any]]) -> None:
    pods = {d["metadata"]["name"]: pod_labels(d) for d in deployments(sources)}
    selectors = [o["spec"]["selector"] for o in sources if o["kind"] == "Service"]
    selectors += [o["spec"]["selector"]["matchLabels"] for o in sources if o["kind"] == "PodDisruptionBudget"]
    assert len(selectors) == 4
    for selector in selectors:
        matching = [name for name, labels in pods.items() if selector.items() <= labels.items()]
        assert len(matching) == 1, f"{selector} selects {matching}"


def test_service_target_ports_are_named_container_ports(sources: list[dict[str, Any]]) -> None:
    for service in (o for o in sources if o["kind"] == "Service"):
        selector = service["spec"]["selector"].items()
        (pod,) = [
            d for d in deployments(sources) if selector <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        names = {p["name"] for c in all_containers(pod) for p in c.get("ports", [])}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= names


def test_the_dashboard_listens_openly_with_its_own_token_and_is_ready_once_caught_up(
    sources: list[dict[str, Any]],
) -> None:
    """Beyond loopback the dashboard refuses to start without DASHBOARD_TOKEN: its Secret, read by its
    pod alone; the readiness probe waits for the reader to catch up."""
    deployment = find(sources, "Deployment", "aexy-stream-dashboard")
    spec = container(deployment, "dashboard")
    args = cli(spec["args"])
    assert args.host == "0.0.0.0"
    secrets = [s["secretRef"]["name"] for s in spec["envFrom"] if "secretRef" in s]
    assert secrets == ["aexy-stream-dashboard"]
    assert set(find(sources, "Secret", "aexy-stream-dashboard")["stringData"]) == {"DASHBOARD_TOKEN"}
    for other in deployments(sources):
        if other is not deployment:
            refs = [
                s.get("secretRef", {}).get("name")
                for c in all_containers(other)
                for s in c.get("envFrom", [])
            ]
            assert "aexy-stream-dashboard" not in refs
    ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
    assert list(ports.values()) == [args.port]
    assert (spec["readinessProbe"]["httpGet"]["path"], spec["livenessProbe"]["httpGet"]["path"]) == (
        "/readyz",
        "/healthz",
    )
    assert http_get_port(spec["readinessProbe"], ports) == args.port
    env = {e["name"]: e["value"] for e in spec["env"]}
    Settings.model_validate({k.lower(): v for k, v in env.items()})
