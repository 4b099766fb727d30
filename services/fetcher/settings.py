from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.fetcher.core import FetchPolicy, parse_networks

__all__ = ["DEFAULT_PORT", "FetcherSettings"]

DEFAULT_PORT = 9101


class FetcherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_FETCH_", extra="ignore")

    allow_networks: str = Field(
        default="", description="comma-separated CIDRs that may be fetched although private"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    deadline_s: float = Field(default=30.0, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    max_body_bytes: int = Field(default=10_000_000, gt=0)
    user_agent: str = "newsflow/0.1"
    concurrency: int = Field(default=32, ge=1, le=1024, description="fetches in flight")
    # Politeness, shared by all replicas through Redis.
    host_concurrency: int = Field(default=2, ge=1, description="requests in flight per host")
    host_delay_s: float = Field(
        default=1.0, ge=0, description="minimum time between request starts to one host"
    )
    max_crawl_delay_s: float = Field(
        default=60.0, ge=0, description="cap on a robots.txt Crawl-delay"
    )
    max_slot_wait_s: float = Field(
        default=2.0, ge=0, description="wait in-process for a host slot up to this, else retry"
    )
    max_booking_s: float = Field(
        default=60.0, ge=0, description="book a later host slot for a URL up to this far ahead"
    )
    busy_retry_s: float = Field(
        default=5.0, gt=0, description="retry delay when a host has its requests in flight"
    )
    max_pause_s: float = Field(default=3600.0, gt=0, description="cap on a Retry-After pause")
    robots_ttl_s: float = Field(default=86_400.0, gt=0)
    robots_error_ttl_s: float = Field(
        default=300.0, gt=0, description="how long a 5xx/unreachable robots.txt is remembered"
    )
    robots_max_bytes: int = Field(default=512_000, gt=0)
    robots_memo_s: float = Field(
        default=30.0, ge=0, description="a process reuses a robots.txt record read from Redis"
    )
    recent_ttl_s: float = Field(
        default=6 * 3600.0, gt=0, description="a URL fetched this recently is not fetched again"
    )

    def policy(self) -> FetchPolicy:
        return FetchPolicy(
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            deadline_s=self.deadline_s,
            max_redirects=self.max_redirects,
            max_body_bytes=self.max_body_bytes,
            user_agent=self.user_agent,
            allow_networks=parse_networks(self.allow_networks),
        )
