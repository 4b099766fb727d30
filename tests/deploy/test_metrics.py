"""Each service's real /metrics, after real traffic: Prometheus naming, and every metric
that the alert rules and the dashboard read is one that something exports."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from redis import Redis

from newsflow.demo.run import MISSING_PAGE, corpus_server
from newsflow.embedded import EmbeddedRedis
from services.storage.repository import ArticleStore
from shared.intake import publish_urls
from tests.deploy.processes import newsflow_command, running_services, scrape
from tests.deploy.promql import dashboard_expressions, metric_names, rule_expressions
from tests.deploy.tools import promtool
from tests.integration.harness import wait_until_ended, write_pages

SERVICES = ("fetcher", "cleaner", "classifier", "storage")

# What redis_exporter (--check-streams) and Prometheus itself export, as the rules and the
# dashboard read them (names from redis_exporter's exporter/streams.go and info.go).
REDIS_EXPORTER = {
    "redis_up",
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_commands_total",
    "redis_stream_length",
    "redis_stream_group_lag",
    "redis_stream_group_messages_pending",
    "redis_stream_group_consumers",
    "redis_stream_group_consumer_idle_seconds",
    "redis_stream_group_consumer_messages_pending",
}
PROMETHEUS = {"up"}
# Asked of the classifier for the dashboard's language and topic mix; not exported yet.
REQUESTED = {"newsflow_classified_articles_total"}


@pytest.fixture(scope="module")
def exposition(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """Each service's /metrics text after a few pages went through the whole pipeline."""
    workdir = tmp_path_factory.mktemp("metrics")
    redis = Redis.from_url(redis_server.url)
    redis.flushall()
    database_url = f"sqlite:///{workdir / 'newsflow.db'}"
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": database_url,
        "NEWSFLOW_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        # One local host serves every page: no politeness limits between them.
        "NEWSFLOW_FETCH_HOST_DELAY_S": "0",
        "NEWSFLOW_FETCH_HOST_CONCURRENCY": "16",
    }
    pages = workdir / "pages"
    pages.mkdir()
    names = write_pages(pages, 3)
    specs = {name: (newsflow_command(["serve", name]), dict(base_env)) for name in SERVICES}
    with corpus_server(pages) as base, running_services(specs, workdir / "logs") as running:
        urls = [base + name for name in [*names, MISSING_PAGE]]
        publish_urls(redis, urls)
        store = ArticleStore.from_url(database_url)
        outcomes = wait_until_ended(store, urls)
        assert outcomes == {**{base + n: "stored" for n in names}, base + MISSING_PAGE: "failed"}
        yield {name: scrape(service) for name, service in running.items()}
        store.close()
    redis.close()


def exported_names(text: str) -> set[str]:
    """Metric family names (TYPE lines) and sample names of an exposition."""
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    samples = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
    return families | samples


@pytest.mark.parametrize("name", SERVICES)
def test_metrics_follow_prometheus_naming(exposition: dict[str, str], name: str) -> None:
    result = subprocess.run(
        [str(promtool()), "check", "metrics"],
        input=exposition[name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"promtool check metrics on {name}:\n{result.stdout}{result.stderr}"
    )


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_exports_its_stage_metrics(exposition: dict[str, str], name: str) -> None:
    text = exposition[name]
    assert re.search(rf'^newsflow_stage_messages_total\{{.*service="{name}".*\}} [1-9]', text, re.M)
    assert re.search(
        rf'^newsflow_stage_processing_seconds_count\{{service="{name}"\}} [1-9]', text, re.M
    )
    assert re.search(rf'^newsflow_received_messages_total\{{app_name="{name}"', text, re.M)


def test_storage_on_sqlite_exports_its_search_backlog(exposition: dict[str, str]) -> None:
    assert re.search(r"^newsflow_storage_search_backlog [0-9]", exposition["storage"], re.M)


def test_rules_and_dashboard_read_only_metrics_that_exist(exposition: dict[str, str]) -> None:
    exported = set().union(*(exported_names(text) for text in exposition.values()))
    read = set().union(*map(metric_names, [*rule_expressions(), *dashboard_expressions()]))
    unknown = read - exported - REDIS_EXPORTER - PROMETHEUS - REQUESTED
    assert not unknown, f"no service or exporter exports {sorted(unknown)}"
