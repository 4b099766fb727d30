from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PORT", "CleanerSettings"]

DEFAULT_PORT = 9102


class CleanerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_CLEANER_", extra="ignore")

    # Extraction is CPU-bound: threads only keep the event loop (health, acks) responsive.
    concurrency: int = Field(default=2, ge=1, le=64)
