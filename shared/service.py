"""The shell every service shares: broker, Redis client, metrics, health, AsyncAPI.

A service module only says which streams its stages read and write and what they do
with a batch (see ``shared.stage``); this module builds and runs the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.redis import RedisBroker
from faststream.redis.prometheus import RedisPrometheusMiddleware
from prometheus_client import CollectorRegistry, make_asgi_app
from redis.asyncio import Redis

from shared.contracts import Contract
from shared.logging import configure_logging, get_logger
from shared.metrics import StageMetrics
from shared.reliability.maintenance import GroupGauges, Maintenance
from shared.reliability.policy import RetryPolicy
from shared.settings import SharedSettings
from shared.stage import BatchProcessor, Stage, ensure_group

__all__ = ["Service"]

In = TypeVar("In", bound=Contract)
Hook = Callable[[], Awaitable[Any]]

log = get_logger(__name__)


class _MountingApp(AsgiFastStream):
    """AsgiFastStream matches routes by exact path; this also routes whole prefixes
    (the storage service's read API lives under one)."""

    def __init__(self, *args: Any, mounts: Sequence[tuple[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mounts = [(prefix.rstrip("/"), app) for prefix, app in mounts]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            for prefix, app in self.mounts:
                if scope["path"] == prefix or scope["path"].startswith(prefix + "/"):
                    root = scope.get("root_path", "") + prefix
                    await app({**scope, "root_path": root}, receive, send)
                    return
        await super().__call__(scope, receive, send)


@dataclass
class Service:
    """One running service: its broker, its own Redis client, its stages and hooks."""

    name: str
    settings: SharedSettings
    default_port: int
    broker: RedisBroker = field(init=False)
    redis: Redis = field(init=False)
    registry: CollectorRegistry = field(init=False)
    metrics: StageMetrics = field(init=False)
    stages: list[Stage[Any]] = field(init=False, default_factory=list)
    on_startup: list[Hook] = field(init=False, default_factory=list)
    on_shutdown: list[Hook] = field(init=False, default_factory=list)
    mounts: list[tuple[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.metrics = StageMetrics(self.name, self.registry)
        self._gauges = GroupGauges(self.registry)
        self._maintenance: list[Maintenance] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.broker = RedisBroker(
            self.settings.redis_url,
            middlewares=(
                RedisPrometheusMiddleware(
                    registry=self.registry, app_name=self.name, metrics_prefix="newsflow"
                ),
            ),
            logger=logging.getLogger(f"newsflow.{self.name}.broker"),
            graceful_timeout=self.settings.shutdown_grace_s,
        )
        self.redis = Redis.from_url(self.settings.redis_url, health_check_interval=30)

    def consume(
        self,
        source: str,
        contract: type[In],
        process: BatchProcessor[In],
        *,
        output: str | None = None,
        readers: int = 1,
        max_records: int | None = None,
    ) -> Stage[In]:
        """``max_records``: entries per read, and so per batch; ``NEWSFLOW_MAX_RECORDS``
        unless the service knows better (storage writes a batch in one transaction)."""
        settings = self.settings
        batch = settings.max_records if max_records is None else max_records
        stage = Stage(
            service=self.name,
            source=source,
            contract=contract,
            output=output,
            process=process,
            redis=self.redis,
            metrics=self.metrics,
            retry=RetryPolicy(
                max_deliveries=settings.max_deliveries,
                base_delay_ms=settings.retry_base_delay_ms,
                max_delay_ms=settings.reclaim_min_idle_ms,
            ),
            reclaim_min_idle_ms=settings.reclaim_min_idle_ms,
        )
        stage.attach(
            self.broker,
            max_records=batch,
            polling_interval_ms=settings.polling_interval_ms,
            readers=readers,
        )
        self.stages.append(stage)
        self._maintenance.append(
            Maintenance(
                stage=stage,
                broker=self.broker,
                gauges=self._gauges,
                max_records=batch,
                reclaim_interval_ms=settings.reclaim_interval_ms,
                housekeeping_interval_ms=settings.housekeeping_interval_ms,
            )
        )
        return stage

    def mount(self, prefix: str, app: Any) -> None:
        """Serve an ASGI app (a FastAPI one, say) under ``prefix`` on the service's port."""
        self.mounts.append((prefix, app))

    # -- health ---------------------------------------------------------------

    def is_live(self) -> bool:
        """Every maintenance loop is running and has looked around lately."""
        if len(self._tasks) != len(self._maintenance):
            return False
        now = time.monotonic()
        return all(not t.done() for t in self._tasks) and all(
            now - m.heartbeat < self.settings.liveness_timeout_s for m in self._maintenance
        )

    async def is_ready(self) -> bool:
        """Live, Redis answers, and FastStream's readers are running."""
        if not self.is_live() or not all(s.running for s in self.broker.subscribers):
            return False
        try:
            return bool(await asyncio.wait_for(self.redis.ping(), timeout=2.0))
        except Exception:
            return False

    def asgi_app(self, extra_routes: Sequence[tuple[str, Any]] = ()) -> AsgiFastStream:
        """The HTTP side, with a shutdown that lets the reclaim loops and FastStream's
        readers finish their batches side by side, within one grace period."""
        stopping: list[asyncio.Task[None]] = []

        async def begin_shutdown() -> None:
            stopping.append(asyncio.create_task(self.stop_maintenance()))

        async def end_shutdown() -> None:
            await asyncio.gather(*stopping)
            await self.close()
            log.info("stopped", service=self.name)

        live, dead = AsgiResponse(b"ok", 200), AsgiResponse(b"not live", 500)
        ready, unready = AsgiResponse(b"ready", 200), AsgiResponse(b"not ready", 503)

        @get
        async def healthz(scope: Any) -> AsgiResponse:
            return live if self.is_live() else dead

        @get
        async def readyz(scope: Any) -> AsgiResponse:
            return ready if await self.is_ready() else unready

        return _MountingApp(
            self.broker,
            mounts=self.mounts,
            asgi_routes=[
                ("/metrics", make_asgi_app(self.registry)),
                ("/healthz", healthz),
                ("/readyz", readyz),
                *extra_routes,
            ],
            asyncapi_path="/docs/asyncapi",
            logger=logging.getLogger(f"newsflow.{self.name}"),
            on_shutdown=[begin_shutdown],
            after_shutdown=[end_shutdown],
        )

    # -- life cycle -----------------------------------------------------------

    async def prepare(self) -> None:
        """Create every consumer group before the first read and run start-up hooks."""
        for stage in self.stages:
            await ensure_group(self.redis, stage.source, stage.group)
        for hook in self.on_startup:
            await hook()

    def start_maintenance(self) -> None:
        self._tasks = [asyncio.create_task(m.run()) for m in self._maintenance]

    async def stop_maintenance(self) -> None:
        """Let each loop finish the batch in hand, within the grace period."""
        for maintenance in self._maintenance:
            maintenance.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.settings.shutdown_grace_s)
            for task in late:
                task.cancel()
        self._tasks = []

    async def close(self) -> None:
        for hook in self.on_shutdown:
            await hook()
        await self.redis.aclose()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        """The service without its HTTP server: for tests and embedding."""
        await self.prepare()
        await self.broker.start()
        self.start_maintenance()
        try:
            yield self
        finally:
            await self.stop_maintenance()
            await self.broker.stop()
            await self.close()

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT: consumers, /metrics, /healthz, /readyz, /docs/asyncapi.

        On a signal, uvicorn stops the broker, which stops reading and waits up to
        ``shutdown_grace_s`` for the batch in hand; whatever did not finish stays pending
        and is reclaimed by another consumer. uvicorn then re-raises the signal, so the
        process ends as killed by SIGTERM (exit status 143), after a clean shutdown.
        """
        configure_logging(self.name, level=self.settings.log_level, json=self.settings.log_json)
        port = self.settings.http_port or self.default_port
        await self.prepare()
        self.start_maintenance()
        log.info("starting", service=self.name, port=port, streams=[s.source for s in self.stages])
        await self.asgi_app().run(
            log_level=logging.getLevelName(self.settings.log_level.upper()),
            run_extra_options={"host": self.settings.http_host, "port": port},
        )
