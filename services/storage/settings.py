from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_PORT", "StorageSettings"]

DEFAULT_PORT = 9104
DEFAULT_DATABASE_URL = "sqlite:///.newsflow/newsflow.db"


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_STORAGE_", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "NEWSFLOW_STORAGE_DATABASE_URL"),
        description="any SQLAlchemy URL; a SQLite file by default",
    )
