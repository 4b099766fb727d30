"""Message contracts: one versioned pydantic model per stream.

Every model ignores unknown fields, so a producer may add fields before its consumers
know them; a breaking change bumps ``schema_version`` and gets a new model.
The input contract is deliberately flat strings, so that a plain
``XADD newsflow:urls * url https://...`` from any language is a valid message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "MAX_URL_LENGTH",
    "SCHEMA_VERSION",
    "ArticleClassified",
    "ArticleCleaned",
    "Contract",
    "PageFetched",
    "Stage",
    "StageFailed",
    "UrlSubmitted",
    "utc_now",
]

SCHEMA_VERSION = 1
MAX_URL_LENGTH = 2048  # longer URLs are refused by most servers and browsers alike

Stage = Literal["intake", "fetcher", "cleaner", "classifier", "storage"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = SCHEMA_VERSION


class UrlSubmitted(Contract):
    """``newsflow:urls``: a URL somebody wants ingested."""

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    source: str | None = None
    submitted_at: datetime = Field(default_factory=utc_now)
    force: bool = Field(default=False, description="fetch even if fetched recently")

    @field_validator("url")
    @classmethod
    def _strip(cls, url: str) -> str:
        stripped = url.strip()
        if not stripped:
            raise ValueError("url is blank")
        return stripped


class _Tracked(Contract):
    """Fields every downstream message carries, so each stage can report end to end."""

    url: str
    submitted_at: datetime
    timings: dict[str, float] = Field(
        default_factory=dict, description="seconds spent in each stage so far"
    )


class PageFetched(_Tracked):
    """``newsflow:articles:raw``: a downloaded, decoded HTML page."""

    final_url: str
    status_code: int
    content_type: str
    encoding: str
    html: str
    fetched_at: datetime


class ArticleCleaned(_Tracked):
    """``newsflow:articles:clean``: the article text and metadata extracted from a page."""

    final_url: str
    fetched_at: datetime
    title: str
    text: str
    description: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    language_hint: str | None = None
    extraction_method: str
    canonical_url: str | None = None
    modified_at: datetime | None = None
    top_image: str | None = None
    tags: list[str] = Field(default_factory=list)
    content_hash: str | None = Field(default=None, description="exact-duplicate fingerprint")
    simhash: str | None = Field(default=None, description="near-duplicate signature, hex")


class ArticleClassified(ArticleCleaned):
    """``newsflow:articles:classified``: a cleaned article with its labels."""

    language: str = Field(description="ISO 639-1 code, or 'und' when undetermined")
    language_confidence: float = Field(ge=0.0, le=1.0)
    topic: str | None = None
    topic_confidence: float | None = None
    topic_probabilities: dict[str, float] = Field(default_factory=dict)
    needs_review: bool = False
    topic_reason: str | None = Field(default=None, description="why topic is null, if it is")
    model_version: str


class StageFailed(_Tracked):
    """``newsflow:failures``: a URL that ended in a permanent failure at some stage."""

    stage: Stage
    reason: str
    failed_at: datetime = Field(default_factory=utc_now)
