"""The shell every service shares: broker, Redis client, metrics, health, AsyncAPI.

A service module only says which streams its stages read and write and what they do
with a batch (see ``shared.stage``); this module builds and runs the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from faststream.asgi import AsgiFastStream, make_ping_asgi
from faststream.redis import RedisBroker
from faststream.redis.prometheus import RedisPrometheusMiddleware
from prometheus_client import CollectorRegistry, make_asgi_app
from redis.asyncio import Redis

from shared.contracts import Contract
from shared.logging import configure_logging, get_logger
from shared.metrics import StageMetrics
from shared.settings import SharedSettings
from shared.stage import BatchProcessor, Stage, ensure_group

__all__ = ["Service"]

In = TypeVar("In", bound=Contract)
Hook = Callable[[], Awaitable[Any]]

log = get_logger(__name__)


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

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.metrics = StageMetrics(self.name, self.registry)
        self.broker = RedisBroker(
            self.settings.redis_url,
            middlewares=(
                RedisPrometheusMiddleware(
                    registry=self.registry, app_name=self.name, metrics_prefix="newsflow"
                ),
            ),
            logger=logging.getLogger(f"newsflow.{self.name}.broker"),
        )
        self.redis = Redis.from_url(self.settings.redis_url)

    def consume(
        self,
        source: str,
        contract: type[In],
        process: BatchProcessor[In],
        *,
        output: str | None = None,
    ) -> Stage[In]:
        stage = Stage(
            service=self.name,
            source=source,
            contract=contract,
            output=output,
            redis=self.redis,
            metrics=self.metrics,
            max_records=self.settings.max_records,
            polling_interval_ms=self.settings.polling_interval_ms,
        )
        stage.attach(self.broker, process)
        self.stages.append(stage)
        return stage

    def asgi_app(self, extra_routes: Sequence[tuple[str, Any]] = ()) -> AsgiFastStream:
        return AsgiFastStream(
            self.broker,
            asgi_routes=[
                ("/metrics", make_asgi_app(self.registry)),
                ("/healthz", make_ping_asgi(self.broker, timeout=2.0)),
                *extra_routes,
            ],
            asyncapi_path="/docs/asyncapi",
            logger=logging.getLogger(f"newsflow.{self.name}"),
        )

    async def prepare(self) -> None:
        """Create every consumer group before the first read and run start-up hooks."""
        for stage in self.stages:
            await ensure_group(self.redis, stage.source, stage.group)
        for hook in self.on_startup:
            await hook()

    async def close(self) -> None:
        for hook in self.on_shutdown:
            await hook()
        await self.redis.aclose()

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT: consumers, /metrics, /healthz, /docs/asyncapi."""
        configure_logging(self.name, level=self.settings.log_level, json=self.settings.log_json)
        port = self.settings.http_port or self.default_port
        await self.prepare()
        log.info("starting", service=self.name, port=port, streams=[s.source for s in self.stages])
        try:
            await self.asgi_app().run(
                log_level=logging.getLevelName(self.settings.log_level.upper()),
                run_extra_options={"host": self.settings.http_host, "port": port},
            )
        finally:
            await self.close()
