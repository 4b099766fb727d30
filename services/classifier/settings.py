from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PORT", "ClassifierSettings"]

DEFAULT_PORT = 9103


class ClassifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_CLASSIFIER_", extra="ignore")
