"""Prometheus config, rules and their unit tests, and the dashboard's queries, by promtool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy.promql import (
    DASHBOARD,
    dashboard_expressions,
    dashboard_panels,
    metric_names,
)
from tests.deploy.tools import INFRA, load_yaml_documents, promtool

PROMETHEUS = INFRA / "prometheus"


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool()), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_prometheus_config_and_its_rule_files_are_valid() -> None:
    result = run_promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_rules_are_valid() -> None:
    rule_files = sorted(PROMETHEUS.glob("*rules.yml"))
    assert rule_files
    result = run_promtool("check", "rules", *map(str, rule_files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_unit_tests() -> None:
    result = run_promtool("test", "rules", str(PROMETHEUS / "newsflow.rules.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test() -> None:
    [rules] = load_yaml_documents(PROMETHEUS / "newsflow.rules.yml")
    [tests] = load_yaml_documents(PROMETHEUS / "newsflow.rules.test.yml")
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == tested, f"alerts never seen firing in a test: {sorted(alerts - tested)}"


def test_dashboard_queries_parse_as_promql(tmp_path: Path) -> None:
    # promtool has no offline query parser; a rule file of the queries gets them parsed.
    expressions = [
        e.replace("$__rate_interval", "1m").replace("$__range", "1h")
        for e in dashboard_expressions()
    ]
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": e} for n, e in enumerate(expressions)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(json.dumps(rules))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_uses_the_provisioned_datasource_and_covers_the_pipeline() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    [datasources] = load_yaml_documents(INFRA / "grafana/provisioning/datasources/prometheus.yml")
    [datasource] = datasources["datasources"]
    panels = [p for p in dashboard_panels(dashboard) if p["type"] != "row"]
    assert {p["datasource"]["uid"] for p in panels} == {datasource["uid"]}
    assert len({p["id"] for p in dashboard_panels(dashboard)}) == len(dashboard["panels"])

    used = set().union(*(metric_names(e) for e in dashboard_expressions()))
    for needed in (
        "newsflow_stage_messages_total",  # throughput, errors by outcome
        "redis_stream_length",  # dead letters waiting
        "newsflow_fetch_results_total",  # fetch outcomes
        "newsflow_classified_articles_total",  # topic and language mix
    ):
        assert needed in used, needed
    titles = " ".join(p["title"].lower() for p in panels)
    for words in ("p50", "p95", "p99", "lag", "pending", "dead letters", "languages", "topics"):
        assert words in titles, words


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ('sum by (le) (rate(a_seconds_bucket{x="y"}[5m]))', {"a_seconds"}),
        ("max by (stream, group) (redis_stream_group_lag) > 1000", {"redis_stream_group_lag"}),
        ('newsflow:x:rate5m > 0.05 or absent(up{job="a"} == 1)', {"up"}),
        ("(sum(increase(b_total[15m])) or vector(0)) == 0", {"b_total"}),
    ],
)
def test_metric_name_scanner(expression: str, names: set[str]) -> None:
    assert metric_names(expression) == names
