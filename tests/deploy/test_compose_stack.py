"""compose.yaml's pipeline, run for real without Docker.

Each service's command and environment come from `docker compose config` (exactly what
its container would get), with only the addresses changed: `redis:6379` becomes a local
Redis started like the redis service (start.sh, redis.conf, the ACL users with the
passwords compose gives them) and `postgres:5432` a fresh database on the local
PostgreSQL. URLs go in as the producer user, as docs/operations.md shows; the test reads
what storage wrote, runs each healthcheck command, and asks Redis whether it refused
anything to anyone (ACL LOG).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import NoPermissionError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from newsflow.demo.run import MISSING_PAGE, corpus_server
from services.storage.repository import ArticleStore
from tests.deploy.acl_redis import AclRedis, acl_redis
from tests.deploy.compose_model import PIPELINE_SERVICES, resolved_compose
from tests.deploy.processes import LocalService, newsflow_command, running_services
from tests.integration.harness import wait_until_ended, write_pages

pytestmark = pytest.mark.integration

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# redis-py announces itself with CLIENT SETINFO (Redis 7.2+), ignoring a refusal.
HARMLESS_REFUSALS = {"client|setinfo"}


@dataclass
class Stack:
    redis: AclRedis
    services: dict[str, LocalService]
    store: ArticleStore
    pages_base: str


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL; yields its name."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({error.orig})")
    name = f"newsflow_deploy_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_passwords(compose: dict[str, Any]) -> dict[str, str]:
    environment: dict[str, str] = compose["services"]["redis"]["environment"]
    suffix = "_REDIS_PASSWORD"
    return {k.removesuffix(suffix).lower(): v for k, v in environment.items() if k.endswith(suffix)}


def local_environment(
    service: dict[str, Any], redis: AclRedis, database: str, home: Path
) -> dict[str, str]:
    """The container's environment, pointed at the local Redis and PostgreSQL."""
    env = {key: str(value) for key, value in service["environment"].items()}
    url = env["REDIS_URL"]
    assert "@redis:6379/" in url, url
    env["REDIS_URL"] = url.replace("@redis:6379/", f"@127.0.0.1:{redis.port}/")
    if "DATABASE_URL" in env:
        compose_url = make_url(env["DATABASE_URL"])
        assert compose_url.host == "postgres", compose_url
        local = compose_url.set(host="127.0.0.1", port=5432, username="postgres", password=None)
        env["DATABASE_URL"] = local.set(database=database).render_as_string(hide_password=False)
    # Pages are served on loopback here; in compose the fetcher reaches the internet. And
    # one local host serves every page: no politeness delay between them.
    env["NEWSFLOW_FETCH_ALLOW_NETWORKS"] = "127.0.0.0/8"
    env["NEWSFLOW_FETCH_HOST_DELAY_S"] = "0"
    env["NEWSFLOW_FETCH_HOST_CONCURRENCY"] = "16"
    # What the image's ENV provides: PATH to the venv, a writable HOME and cache.
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=str(home))
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    compose = resolved_compose()
    workdir = tmp_path_factory.mktemp("compose-stack")
    pages = workdir / "pages"
    pages.mkdir()
    write_pages(pages, 6)
    with (
        scratch_database() as database,
        acl_redis(workdir, redis_passwords(compose)) as redis,
        corpus_server(pages) as base,
    ):
        specs = {
            name: (
                newsflow_command(compose["services"][name]["command"]),
                local_environment(compose["services"][name], redis, database, workdir),
            )
            for name in PIPELINE_SERVICES
        }
        with running_services(specs, workdir / "logs") as services:
            database_url = services["storage"].environment["DATABASE_URL"]
            store = ArticleStore.from_url(database_url)
            yield Stack(redis, services, store, base)
            store.close()


def test_urls_published_as_the_producer_end_in_postgres(stack: Stack) -> None:
    urls = [f"{stack.pages_base}story-{n}.html" for n in range(5)]
    missing = stack.pages_base + MISSING_PAGE
    published = subprocess.run(
        newsflow_command(["publish", *urls[:4], missing]),
        env={"PATH": os.environ.get("PATH", ""), "REDIS_URL": stack.redis.url("producer")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert published.returncode == 0, published.stderr
    assert "published 5 URL(s)" in published.stdout
    # What `redis-cli --user producer XADD newsflow:urls '*' url ...` sends.
    producer = Redis.from_url(stack.redis.url("producer"))
    producer.xadd("newsflow:urls", {"url": urls[4]})
    producer.close()

    outcomes = wait_until_ended(stack.store, [*urls, missing])

    assert outcomes == {**dict.fromkeys(urls, "stored"), missing: "failed"}
    stored = {a.url: a for a in stack.store.list_articles(limit=100)}
    assert {stored[u].title for u in urls} == {f"Harbour report {n}" for n in range(5)}
    assert {stored[u].language for u in urls} == {"en"}
    [failure] = [f for f in stack.store.list_failures(limit=100) if f.url == missing]
    assert failure.stage == "fetcher"
    assert_redis_refused_nothing_but(stack.redis, producer_probe=True)


def assert_redis_refused_nothing_but(redis: AclRedis, *, producer_probe: bool) -> None:
    """Every command the services sent, Lua scripts' calls included, was within their
    ACL users' rules: Redis logged no refusal (except one provoked to show it would)."""
    if producer_probe:
        producer = Redis.from_url(redis.url("producer"))
        with pytest.raises(NoPermissionError):
            producer.xrange("newsflow:urls")
        producer.close()
    admin = redis.admin()
    entries = admin.acl_log(count=1000)
    admin.close()
    refused = {
        (str(e["username"]), str(e["object"]), str(e["reason"]))
        for e in entries
        if e["object"] not in HARMLESS_REFUSALS
    }
    probe = ("producer", "xrange", "command")
    assert probe in refused, f"the provoked refusal is missing from ACL LOG: {refused}"
    assert refused == {probe}


@pytest.mark.parametrize("name", PIPELINE_SERVICES)
def test_compose_healthcheck_command_passes_against_the_running_service(
    stack: Stack, name: str
) -> None:
    compose = resolved_compose()
    kind, *command = compose["services"][name]["healthcheck"]["test"]
    assert kind == "CMD"
    assert command[0] == "python"
    port = compose["services"][name]["environment"]["NEWSFLOW_HTTP_PORT"]
    local_port = str(stack.services[name].port)
    command = [
        sys.executable,
        *(part.replace(f":{port}/", f":{local_port}/") for part in command[1:]),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr


def test_compose_healthcheck_command_fails_when_nothing_answers() -> None:
    compose = resolved_compose()
    _, _, *command = compose["services"]["cleaner"]["healthcheck"]["test"]
    closed = [part.replace(":9102/", ":1/") for part in command]
    result = subprocess.run([sys.executable, *closed], capture_output=True, timeout=30, check=False)
    assert result.returncode != 0
