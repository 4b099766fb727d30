"""infra/k8s: Deployments validated against Kubernetes' own schemas, ScaledObjects
against models generated from KEDA's CRDs, and both checked to fit the pipeline."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from shared.streams import ARTICLES_CLASSIFIED, ARTICLES_CLEAN, ARTICLES_RAW, FAILURES, URLS
from tests.deploy.tools import INFRA, load_yaml_documents, venv_tool

MANIFESTS = INFRA / "k8s"
CONSUMES = {
    "fetcher": {URLS},
    "cleaner": {ARTICLES_RAW},
    "classifier": {ARTICLES_CLEAN},
    "storage": {ARTICLES_CLASSIFIED, FAILURES},
}
PORTS = {"fetcher": 9101, "cleaner": 9102, "classifier": 9103, "storage": 9104}
# The redis-streams scaler's metadata (KEDA docs, scalers/redis-streams).
REDIS_STREAMS_KEYS = {
    "address", "host", "port", "usernameFromEnv", "passwordFromEnv", "databaseIndex",
    "enableTLS", "unsafeSsl", "stream", "consumerGroup", "pendingEntriesCount",
    "streamLength", "lagCount", "activationLagCount", "activationStreamLength",
}  # fmt: skip
BACKLOG_KEYS = {"pendingEntriesCount", "lagCount", "streamLength"}


def documents(name: str) -> list[dict[str, Any]]:
    return load_yaml_documents(MANIFESTS / name)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_workloads_pass_kubernetes_schema_validation() -> None:
    tool = venv_tool("kubernetes-validate")
    if tool is None:
        pytest.skip("kubernetes-validate not installed: install it with `make deploy-check`")
    result = subprocess.run(
        [str(tool), "--strict", str(MANIFESTS / "newsflow.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 5, result.stdout


@pytest.mark.parametrize("name", sorted(CONSUMES))
def test_deployment_runs_its_stage_locked_down(name: str) -> None:
    deployment = by_kind(documents("newsflow.yaml"), "Deployment")[name]
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["serve", name]
    assert container["ports"] == [{"name": "http", "containerPort": PORTS[name]}]
    env = {e["name"]: e for e in container["env"]}
    assert env["NEWSFLOW_HTTP_PORT"]["value"] == str(PORTS[name])
    assert env["REDIS_URL"]["value"].startswith(f"redis://{name}:$(REDIS_PASSWORD)@")
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == name
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]["memory"]


def test_scaled_objects_match_keda_crd_models_exactly() -> None:
    keda = pytest.importorskip(
        "cloudcoil.models.keda.v1alpha1",
        reason="cloudcoil-models-keda (KEDA's CRDs as models) not installed: "
        "install it with `make deploy-check`",
    )
    models = {
        "ScaledObject": keda.ScaledObject,
        "TriggerAuthentication": keda.TriggerAuthentication,
    }
    docs = documents("keda.yaml")
    assert {d["kind"] for d in docs} == set(models)
    for doc in docs:
        model = models[doc["kind"]].model_validate(doc)
        # The models ignore unknown fields: a round trip shows none was dropped.
        assert model.model_dump(by_alias=True, exclude_none=True, mode="json") == doc


@pytest.mark.parametrize("name", sorted(CONSUMES))
def test_each_stage_scales_on_its_own_groups_backlog(name: str) -> None:
    docs = documents("keda.yaml")
    scaled = by_kind(docs, "ScaledObject")[name]
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"name": name}
    assert name in by_kind(documents("newsflow.yaml"), "Deployment")
    assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    auth_names = set(by_kind(docs, "TriggerAuthentication"))
    kinds_per_stream: dict[str, set[str]] = {}
    for trigger in spec["triggers"]:
        assert trigger["type"] == "redis-streams"
        assert trigger["authenticationRef"]["name"] in auth_names
        metadata = trigger["metadata"]
        assert set(metadata) <= REDIS_STREAMS_KEYS
        assert metadata["consumerGroup"] == name
        [backlog] = set(metadata) & BACKLOG_KEYS
        assert metadata[backlog].isdigit()
        assert int(metadata[backlog]) > 0
        kinds_per_stream.setdefault(metadata["stream"], set()).add(backlog)
    assert kinds_per_stream == {key: {"lagCount", "pendingEntriesCount"} for key in CONSUMES[name]}


def test_keda_reads_redis_as_its_own_read_only_user() -> None:
    [auth] = by_kind(documents("keda.yaml"), "TriggerAuthentication").values()
    params = {ref["parameter"]: ref for ref in auth["spec"]["secretTargetRef"]}
    assert set(params) == {"username", "password"}
    assert params["password"]["key"] == "keda"
    acl = (INFRA / "redis/users.acl").read_text()
    [keda_user] = [line for line in acl.splitlines() if line.startswith("user keda ")]
    assert " %R~newsflow:* " in f"{keda_user} "
    assert "+xadd" not in keda_user
