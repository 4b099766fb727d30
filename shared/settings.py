"""Settings every service shares, read from the environment.

``REDIS_URL`` and ``DATABASE_URL`` keep the names every platform uses; the rest is
``NEWSFLOW_*`` and, per service, ``NEWSFLOW_<SERVICE>_*``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SharedSettings"]


class SharedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore", populate_by_name=True)

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "NEWSFLOW_REDIS_URL"),
    )
    log_level: str = "INFO"
    log_json: bool = True
    # Metrics and health must be reachable from the Prometheus scraper, not only locally.
    http_host: str = "0.0.0.0"
    http_port: int | None = Field(default=None, description="None: the service's own default")
    max_records: int = Field(default=32, ge=1, le=1000, description="entries per XREADGROUP")
    polling_interval_ms: int = Field(default=1000, ge=10, description="XREADGROUP BLOCK time")
    max_deliveries: int = Field(default=5, ge=1, description="deliveries before giving up")
    retry_base_delay_ms: int = Field(default=2_000, ge=0, description="first retry's backoff")
    reclaim_min_idle_ms: int = Field(
        default=60_000, ge=100, description="pending this long: reclaimed by a live consumer"
    )
    reclaim_interval_ms: int = Field(default=1_000, ge=10, description="how often to look")
    housekeeping_interval_ms: int = Field(
        default=15_000, ge=100, description="trimming and lag/pending gauges"
    )
    shutdown_grace_s: float = Field(default=20.0, ge=0, description="to finish in-flight work")
    liveness_timeout_s: float = Field(
        default=60.0, gt=0, description="a loop silent this long makes /healthz fail"
    )
