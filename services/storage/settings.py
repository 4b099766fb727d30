"""Storage settings: ``DATABASE_URL`` and ``NEWSFLOW_STORAGE_*``."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.storage.stories import DEFAULT_STORY_MAX_DISTANCE, MAX_STORY_DISTANCE

__all__ = ["API_PREFIX", "DEFAULT_DATABASE_URL", "DEFAULT_PORT", "StorageSettings"]

DEFAULT_PORT = 9104
DEFAULT_DATABASE_URL = "sqlite:///.newsflow/newsflow.db"
API_PREFIX = "/api"  # where the read API is served on the service's HTTP port


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_STORAGE_", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "NEWSFLOW_STORAGE_DATABASE_URL"),
        description="any SQLAlchemy URL; a SQLite file by default",
    )
    story_max_distance_bits: int = Field(
        default=DEFAULT_STORY_MAX_DISTANCE,
        ge=0,
        le=MAX_STORY_DISTANCE,
        description="SimHash bits two articles may differ in and still be one story",
    )
    batch_size: int = Field(
        default=256,
        ge=1,
        le=1000,
        description="entries read at once from each input stream and written in one transaction",
    )
    concurrent_batches: int = Field(
        default=2,
        ge=1,
        le=16,
        description="batches of articles in hand at once: one is prepared while another is written",
    )
