from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.classifier.core import DEFAULT_MIN_TOPIC_CONFIDENCE
from services.classifier.model import MODELS_DIR

__all__ = ["DEFAULT_PORT", "ClassifierSettings"]

DEFAULT_PORT = 9103


class ClassifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_CLASSIFIER_", extra="ignore")

    # Below this probability the topic is left null and the record flagged needs_review.
    min_topic_confidence: float = Field(default=DEFAULT_MIN_TOPIC_CONFIDENCE, ge=0.0, le=1.0)
    # Where the topic-<language>.npz files are; the ones shipped in the repo by default.
    models_dir: Path = MODELS_DIR
