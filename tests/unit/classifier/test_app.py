"""The service's handler fills every label field of the contract."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.classifier.app import label
from services.classifier.core import Classifier
from shared.contracts import ArticleCleaned


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def cleaned(title: str, text: str) -> ArticleCleaned:
    now = datetime(2024, 3, 2, tzinfo=UTC)
    return ArticleCleaned(
        url="https://news.example/a",
        submitted_at=now,
        timings={"fetch": 0.1, "clean": 0.2},
        final_url="https://news.example/a",
        fetched_at=now,
        title=title,
        text=text,
        extraction_method="trafilatura",
    )


def test_label_fills_the_topic_fields(classifier: Classifier) -> None:
    article = cleaned(
        "البنك المركزي يرفع أسعار الفائدة لكبح التضخم",
        "قرر البنك المركزي رفع سعر الفائدة نصف نقطة مئوية، وتراجعت أسهم البنوك في البورصة.",
    )
    labelled = label(article, classifier)
    assert (labelled.language, labelled.topic) == ("ar", "economy")
    assert labelled.topic_probabilities["economy"] == labelled.topic_confidence
    assert len(labelled.topic_probabilities) == 5
    assert labelled.needs_review is False
    assert labelled.topic_reason is None
    assert labelled.model_version.startswith("lid176-lite+urdu-letters;topic-ar:")
    assert set(labelled.timings) == {"fetch", "clean", "classify"}
    assert labelled.title == article.title


def test_label_says_why_there_is_no_topic(classifier: Classifier) -> None:
    labelled = label(cleaned("Спутник выведен на орбиту", "Запуск прошёл штатно."), classifier)
    assert (labelled.language, labelled.topic) == ("ru", None)
    assert labelled.topic_reason == "no topic model for language 'ru'"
