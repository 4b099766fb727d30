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
