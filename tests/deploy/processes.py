"""Services as local processes, started from a command and an environment like a container's."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsflow.embedded import free_port

__all__ = ["LocalService", "newsflow_command", "running_services", "scrape"]

_READY_TIMEOUT_S = 60.0
_STOP_GRACE_S = 10.0


def newsflow_command(args: Sequence[str]) -> list[str]:
    """The image's ENTRYPOINT (`newsflow`, the console script) followed by ``args``."""
    script = Path(sys.executable).parent / "newsflow"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "newsflow", *args]


@dataclass
class LocalService:
    name: str
    command: list[str]
    environment: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **self.environment,
            "NEWSFLOW_HTTP_HOST": "127.0.0.1",
            "NEWSFLOW_HTTP_PORT": str(self.port),
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-4000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.base_url}/readyz", timeout=1) as answer,
            ):
                if answer.status < 300:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_services(
    services: Mapping[str, tuple[list[str], dict[str, str]]], log_dir: Path
) -> Iterator[dict[str, LocalService]]:
    """Start every (command, environment) at once, wait until each is ready, stop them all."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = {
        name: LocalService(name, command, env, log_dir / f"{name}.log")
        for name, (command, env) in services.items()
    }
    try:
        for service in started.values():
            service.start()
        for service in started.values():
            service.wait_ready()
        yield started
    finally:
        for service in started.values():
            service.stop()


def scrape(service: LocalService) -> str:
    with urllib.request.urlopen(f"{service.base_url}/metrics", timeout=5) as answer:
        text: str = answer.read().decode()
        return text
