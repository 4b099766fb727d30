"""compose.yaml: valid for Docker Compose v2, and built the way operations needs it."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.deploy.compose_model import PIPELINE_SERVICES, resolved_compose
from tests.deploy.tools import REPO, compose_binary, compose_config, load_yaml_documents

DEFAULT_PORTS = {"fetcher": 9101, "cleaner": 9102, "classifier": 9103, "storage": 9104}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose_binary()
    resolved: dict[str, Any] = resolved_compose()["services"]
    return resolved


def test_compose_config_is_valid_for_compose_v2() -> None:
    result = compose_config("--quiet")
    assert result.returncode == 0, result.stderr


def test_missing_passwords_stop_compose_with_a_pointer_to_the_example() -> None:
    binary = compose_binary()
    result = subprocess.run(
        [str(binary), "--project-directory", str(REPO), "--env-file", "/dev/null", "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "infra/env.example" in result.stderr


@pytest.mark.parametrize("name", PIPELINE_SERVICES)
def test_pipeline_service_scales_and_is_locked_down(services: dict[str, Any], name: str) -> None:
    service = services[name]
    # Scalable with --scale: nothing that must be unique per container.
    assert "container_name" not in service
    assert not service.get("ports"), "a fixed host port would collide between replicas"
    assert service["command"] == ["serve", name]
    assert service["restart"] in {"unless-stopped", "always", "on-failure"}
    assert service["read_only"] is True
    assert any(mount.startswith("/tmp:") or mount == "/tmp" for mount in service["tmpfs"])
    assert service["cap_drop"] == ["ALL"]
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0
    assert int(limits["memory"]) > 0
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", PIPELINE_SERVICES)
def test_health_metrics_and_scrape_ports_agree(services: dict[str, Any], name: str) -> None:
    service = services[name]
    port = DEFAULT_PORTS[name]
    assert service["environment"]["NEWSFLOW_HTTP_PORT"] == str(port)
    assert service["expose"] == [str(port)]
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])

    [config] = load_yaml_documents(REPO / "infra/prometheus/prometheus.yml")
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == name]
    [dns] = job["dns_sd_configs"]
    assert dns == {**dns, "names": [name], "type": "A", "port": port}


@pytest.mark.parametrize("name", PIPELINE_SERVICES)
def test_each_service_reaches_redis_as_its_own_acl_user(
    services: dict[str, Any], name: str
) -> None:
    url = services[name]["environment"]["REDIS_URL"]
    assert re.fullmatch(rf"redis://{name}:[^@]+@redis:6379/0", url), url


def test_storage_waits_for_postgres_and_uses_it(services: dict[str, Any]) -> None:
    storage = services["storage"]
    assert storage["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert storage["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://newsflow:")
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def test_redis_is_durable_and_acl_only(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert any(v["target"] == "/data" and v["type"] == "volume" for v in redis["volumes"])
    config = (REPO / "infra/redis/redis.conf").read_text()
    assert re.search(r"^appendonly yes$", config, re.M)
    assert re.search(r"^maxmemory-policy noeviction$", config, re.M)
    assert redis["entrypoint"] == ["sh", "/usr/local/etc/redis/start.sh"]
    acl = (REPO / "infra/redis/users.acl").read_text()
    assert re.search(r"^user default reset$", acl, re.M)
    assert redis["healthcheck"]["test"][0] == "CMD-SHELL"


def test_monitoring_profile_is_opt_in_and_complete(services: dict[str, Any]) -> None:
    for name in ("prometheus", "grafana", "redis-exporter"):
        assert services[name]["profiles"] == ["monitoring"]
    exporter = services["redis-exporter"]["environment"]
    assert exporter["REDIS_USER"] == "exporter"
    assert exporter["REDIS_EXPORTER_CHECK_STREAMS"] == "db0=newsflow:*"
    grafana_mounts = {v["target"]: v["source"] for v in services["grafana"]["volumes"]}
    assert grafana_mounts["/etc/grafana/provisioning"].endswith("infra/grafana/provisioning")
    assert grafana_mounts["/var/lib/grafana/dashboards"].endswith("infra/grafana/dashboards")

    default = compose_config("--services")
    assert default.returncode == 0, default.stderr
    assert set(default.stdout.split()) == {"redis", "postgres", *PIPELINE_SERVICES}


def test_dockerfile_runtime_is_slim_non_root_and_carries_the_models() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.M)[1:]
    assert len(stages) >= 2, "multi-stage: build, then a runtime stage"
    runtime = stages[-1]
    assert re.match(r"\$\{PYTHON_IMAGE\} AS runtime", runtime)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, re.M)
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert "/app/models" in runtime
    # No package manager runs in the runtime stage, so no compiler can get in.
    assert not re.search(r"apt-get|apk |gcc|build-essential", runtime)
    assert re.search(r'^ENTRYPOINT \["newsflow"\]$', runtime, re.M)
