from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.contracts import ArticleClassified, UrlSubmitted


def test_plain_xadd_fields_are_a_valid_url_message() -> None:
    message = UrlSubmitted.model_validate({"url": " https://example.org/a ", "source": "cli"})
    assert message.url == "https://example.org/a"
    assert message.schema_version == 1
    assert message.submitted_at.tzinfo is not None


@pytest.mark.parametrize("fields", [{}, {"url": ""}, {"url": "   "}, {"url": "x" * 3000}])
def test_url_message_rejects_missing_blank_or_huge_url(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        UrlSubmitted.model_validate(fields)


def test_unknown_fields_are_ignored_so_producers_can_evolve_first() -> None:
    message = UrlSubmitted.model_validate({"url": "https://a.example/", "priority": "high"})
    assert not hasattr(message, "priority")


def test_classified_confidence_is_bounded() -> None:
    with pytest.raises(ValidationError):
        ArticleClassified.model_validate(
            {
                "url": "u", "submitted_at": "2026-01-01T00:00:00Z", "final_url": "u",
                "fetched_at": "2026-01-01T00:00:00Z", "title": "t", "text": "x",
                "extraction_method": "m", "language": "en", "language_confidence": 1.5,
                "model_version": "v",
            }
        )  # fmt: skip
