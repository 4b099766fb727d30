"""infra/redis/users.acl on a real Redis 7: each user may run exactly what it needs.

ACL DRYRUN asks Redis itself whether a user may run a command on given keys, so these
are the server's own answers, not a reading of the ACL syntax.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from shared.streams import failure_log_key
from tests.deploy.acl_redis import (
    ACL_USERS,
    REDIS_DIR,
    AclRedis,
    acl_redis,
    require_redis_7,
    start_environment,
)

Command = tuple[str, ...]

# (input stream, output stream) of each stage; storage reads two streams and writes none.
STAGES = {
    "fetcher": (("newsflow:urls",), "newsflow:articles:raw"),
    "cleaner": (("newsflow:articles:raw",), "newsflow:articles:clean"),
    "classifier": (("newsflow:articles:clean",), "newsflow:articles:classified"),
    "storage": (("newsflow:articles:classified", "newsflow:failures"), None),
}


def consumer_commands(stream: str, group: str) -> list[Command]:
    """What the stage shell and FastStream send for one consumer group of ``stream``."""
    retries = failure_log_key(stream, group)
    return [
        ("XGROUP", "CREATE", stream, group, "0", "MKSTREAM"),
        (
            "XREADGROUP",
            "GROUP",
            group,
            "c-1",
            "COUNT",
            "32",
            "BLOCK",
            "1000",
            "STREAMS",
            stream,
            ">",
        ),
        ("XACK", stream, group, "1-0"),
        ("XAUTOCLAIM", stream, group, "c-1", "60000", "0-0", "COUNT", "32"),
        ("XCLAIM", stream, group, "c-1", "0", "1-0"),
        ("XPENDING", stream, group, "-", "+", "10"),
        ("XINFO", "GROUPS", stream),
        ("XINFO", "STREAM", stream),
        ("XINFO", "CONSUMERS", stream, group),
        ("XTRIM", stream, "MINID", "1-0"),
        ("XRANGE", stream, "-", "+", "COUNT", "1"),
        ("XREVRANGE", stream, "+", "-", "COUNT", "1"),
        ("XLEN", stream),
        ("XADD", f"{stream}:dead", "*", "error", "x"),
        ("XLEN", f"{stream}:dead"),
        ("HSET", retries, "1-0", "{}"),
        ("HGET", retries, "1-0"),
        ("HMGET", retries, "1-0", "2-0"),
        ("HDEL", retries, "1-0"),
        ("HGETALL", retries),
    ]


CONNECTION: list[Command] = [
    ("PING",),
    ("CLIENT", "SETNAME", "newsflow"),
    ("MULTI",),
    ("EXEC",),
]

# services/fetcher: politeness.py, robots.py and recent.py (their Lua scripts' calls too).
POLITENESS: list[Command] = [
    ("GET", "newsflow:fetch:robots:https://example.org"),
    ("SET", "newsflow:fetch:robots:https://example.org", "{}", "PX", "1000"),
    ("SET", "newsflow:fetch:recent:https://example.org/a", "fetched", "PX", "1000"),
    ("GET", "newsflow:fetch:recent:https://example.org/a"),
    ("DEL", "newsflow:fetch:recent:https://example.org/a"),
    ("PTTL", "newsflow:fetch:host:example.org:paused"),
    ("ZREMRANGEBYSCORE", "newsflow:fetch:host:example.org:leases", "-inf", "1"),
    ("ZCARD", "newsflow:fetch:host:example.org:leases"),
    ("ZADD", "newsflow:fetch:host:example.org:leases", "1", "token"),
    ("ZREM", "newsflow:fetch:host:example.org:leases", "token"),
    ("PEXPIRE", "newsflow:fetch:host:example.org:leases", "1000"),
    ("TIME",),
    (
        "EVALSHA",
        "a" * 40,
        "2",
        "newsflow:fetch:host:example.org:next",
        "newsflow:fetch:host:example.org:leases",
    ),
    ("EVAL", "return 1", "1", "newsflow:fetch:recent:https://example.org/a"),
    ("SCRIPT", "LOAD", "return 1"),
    ("SCRIPT", "EXISTS", "a" * 40),
]


def allowed_commands(user: str) -> list[Command]:
    inputs, output = STAGES[user]
    commands = list(CONNECTION)
    for stream in inputs:
        commands += consumer_commands(stream, user)
    if output:
        commands += [
            ("XADD", output, "*", "url", "x"),
            ("XADD", "newsflow:failures", "*", "url", "x"),
        ]
    if user == "fetcher":
        commands += POLITENESS
    return commands


DENIED: dict[str, list[Command]] = {
    "fetcher": [
        ("XRANGE", "newsflow:articles:raw", "-", "+"),  # its output: append only
        ("XADD", "newsflow:articles:clean", "*", "a", "b"),
        ("XREADGROUP", "GROUP", "cleaner", "c", "STREAMS", "newsflow:articles:raw", ">"),
        ("GET", "other:key"),
        ("ZADD", "newsflow:articles:raw:x", "1", "m"),
        ("FLUSHALL",),
        ("CONFIG", "SET", "appendonly", "no"),
        ("SCRIPT", "FLUSH"),
        ("KEYS", "*"),
    ],
    "cleaner": [
        ("GET", "newsflow:fetch:robots:https://example.org"),
        ("XREADGROUP", "GROUP", "fetcher", "c", "STREAMS", "newsflow:urls", ">"),
        ("XADD", "newsflow:urls", "*", "url", "x"),
        ("EVAL", "return 1", "0"),
        ("DEL", "newsflow:articles:raw"),
        ("HGETALL", "newsflow:failures:fetcher:newsflow:urls"),
    ],
    "classifier": [
        ("XRANGE", "newsflow:articles:classified", "-", "+"),
        ("XADD", "newsflow:articles:raw", "*", "a", "b"),
        ("SET", "newsflow:fetch:recent:x", "1"),
    ],
    "storage": [
        ("XADD", "newsflow:urls", "*", "url", "x"),
        ("HSET", "newsflow:failures:cleaner:newsflow:articles:raw", "1-0", "{}"),
        ("XADD", "newsflow:articles:clean", "*", "a", "b"),
        ("FLUSHDB",),
    ],
    "producer": [
        ("XRANGE", "newsflow:urls", "-", "+"),
        ("XADD", "newsflow:articles:raw", "*", "a", "b"),
        ("XREADGROUP", "GROUP", "fetcher", "c", "STREAMS", "newsflow:urls", ">"),
        ("DEL", "newsflow:urls"),
    ],
    "keda": [
        ("XADD", "newsflow:urls", "*", "url", "x"),
        ("XREADGROUP", "GROUP", "fetcher", "c", "STREAMS", "newsflow:urls", ">"),
        ("XRANGE", "newsflow:urls", "-", "+"),
        ("XINFO", "GROUPS", "other:stream"),
    ],
    "exporter": [
        ("XADD", "newsflow:urls", "*", "url", "x"),
        ("CONFIG", "SET", "maxmemory", "0"),
        ("GET", "newsflow:fetch:recent:x"),
        ("FLUSHALL",),
    ],
    "operator": [
        ("FLUSHALL",),
        ("CONFIG", "SET", "appendonly", "no"),
        ("GET", "other:key"),
        ("ACL", "SETUSER", "x", "on"),
        ("DEBUG", "SLEEP", "0"),
    ],
}

ALSO_ALLOWED: dict[str, list[Command]] = {
    "producer": [("PING",), ("XADD", "newsflow:urls", "*", "url", "https://example.org/a")],
    "keda": [
        ("XINFO", "GROUPS", "newsflow:urls"),
        ("XPENDING", "newsflow:articles:raw", "cleaner"),
        ("XLEN", "newsflow:articles:clean"),
    ],
    "exporter": [
        ("INFO",),
        ("CONFIG", "GET", "maxmemory"),
        ("SCAN", "0", "MATCH", "newsflow:*", "COUNT", "100"),
        ("TYPE", "newsflow:urls"),
        ("XINFO", "STREAM", "newsflow:urls"),
        ("XINFO", "CONSUMERS", "newsflow:urls", "fetcher"),
        ("SELECT", "0"),
    ],
    "operator": [
        ("XRANGE", "newsflow:urls:dead", "-", "+"),
        ("XADD", "newsflow:urls", "*", "url", "https://example.org/a"),
        ("XPENDING", "newsflow:urls", "fetcher"),
        ("XINFO", "GROUPS", "newsflow:articles:raw"),
        ("INFO", "memory"),
        ("ACL", "LOG", "10"),
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    with acl_redis(tmp_path_factory.mktemp("acl-redis")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: AclRedis) -> Iterator[Redis]:
    client = server.admin()
    yield client
    client.close()


def dryrun(admin: Redis, user: str, command: Command) -> str:
    reply = admin.execute_command("ACL", "DRYRUN", user, *command)  # type: ignore[no-untyped-call]
    return reply.decode() if isinstance(reply, bytes) else str(reply)


@pytest.mark.parametrize("user", sorted(STAGES))
def test_each_stage_may_run_every_command_it_sends(admin: Redis, user: str) -> None:
    refused = {
        " ".join(c): reply
        for c in allowed_commands(user)
        if (reply := dryrun(admin, user, c)) != "OK"
    }
    assert not refused


@pytest.mark.parametrize("user", sorted(ALSO_ALLOWED))
def test_each_side_user_may_run_what_its_tool_sends(admin: Redis, user: str) -> None:
    refused = {
        " ".join(c): reply for c in ALSO_ALLOWED[user] if (reply := dryrun(admin, user, c)) != "OK"
    }
    assert not refused


@pytest.mark.parametrize("user", sorted(DENIED))
def test_each_user_is_refused_what_it_has_no_business_doing(admin: Redis, user: str) -> None:
    granted = [" ".join(c) for c in DENIED[user] if dryrun(admin, user, c) == "OK"]
    assert not granted


def test_the_default_user_is_off(server: AclRedis) -> None:
    anonymous = Redis(port=server.port)
    with pytest.raises((AuthenticationError, ResponseError)):
        anonymous.ping()
    anonymous.close()


def test_a_service_connects_with_its_password_and_is_held_to_its_rules(server: AclRedis) -> None:
    cleaner = Redis.from_url(server.url("cleaner"))
    try:
        assert cleaner.ping()
        cleaner.xadd("newsflow:articles:clean", {"k": "v"})
        with pytest.raises(NoPermissionError):
            cleaner.xrange("newsflow:articles:clean")
    finally:
        cleaner.close()
    with pytest.raises(AuthenticationError):
        Redis.from_url(server.url("cleaner").replace("cleaner-", "wrong-", 1)).ping()


def test_start_script_refuses_to_start_without_a_password(tmp_path: Path) -> None:
    require_redis_7()
    env = start_environment(tmp_path, {"fetcher": "only-one"})
    result = subprocess.run(
        ["sh", str(REDIS_DIR / "start.sh"), "--port", "0"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "CLEANER_REDIS_PASSWORD is not set" in result.stderr
    assert list((tmp_path / "run").iterdir()) == [], "no half-rendered ACL file is left"


def test_start_script_renders_every_password_into_a_private_file(tmp_path: Path) -> None:
    env = start_environment(tmp_path, {user: f"pw-{user}" for user in ACL_USERS})
    env["PATH"] = f"{tmp_path}:{env['PATH']}"
    # A stand-in redis-server that only shows what start.sh would run.
    fake = tmp_path / "redis-server"
    fake.write_text('#!/bin/sh\necho "$@"\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["sh", str(REDIS_DIR / "start.sh"), "--port", "6380"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    rendered = tmp_path / "run" / "users.acl"
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        env["REDIS_CONFIG"],
        "--aclfile",
        str(rendered),
        "--port",
        "6380",
    ]
    text = rendered.read_text()
    assert "${" not in text
    assert "#" not in text
    for user in ACL_USERS:
        assert f"user {user} on >pw-{user} " in text
    assert os.stat(rendered).st_mode & 0o777 == 0o600
