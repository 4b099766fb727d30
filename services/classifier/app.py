"""Classifier service: cleaned articles in, labelled articles out."""

from __future__ import annotations

import time

from prometheus_client import Counter

from services.classifier.core import Classifier
from services.classifier.settings import DEFAULT_PORT, ClassifierSettings
from shared.contracts import ArticleClassified, ArticleCleaned
from shared.service import Service
from shared.settings import SharedSettings
from shared.stage import per_item
from shared.streams import ARTICLES_CLASSIFIED, ARTICLES_CLEAN

__all__ = ["build", "label"]


def label(article: ArticleCleaned, classifier: Classifier) -> ArticleClassified:
    started = time.perf_counter()
    labels = classifier.classify(article.title, article.text)
    timings = {**article.timings, "classify": time.perf_counter() - started}
    return ArticleClassified(
        **article.model_dump(exclude={"timings", "schema_version"}),
        timings=timings,
        language=labels.language,
        language_confidence=labels.language_confidence,
        topic=labels.topic,
        topic_confidence=labels.topic_confidence,
        topic_probabilities=labels.topic_probabilities,
        needs_review=labels.needs_review,
        topic_reason=labels.topic_reason,
        model_version=labels.model_version,
    )


def build(shared: SharedSettings, settings: ClassifierSettings | None = None) -> Service:
    settings = settings or ClassifierSettings()
    service = Service("classifier", shared, default_port=DEFAULT_PORT)
    classifier = Classifier.load(settings.models_dir, settings.min_topic_confidence)
    mix = Counter(
        "newsflow_classified_articles",
        "Articles labelled, by language and topic (topic 'none' when left for review).",
        ["language", "topic"],
        registry=service.registry,
    )

    async def process(article: ArticleCleaned) -> ArticleClassified:
        labelled = label(article, classifier)
        mix.labels(labelled.language, labelled.topic or "none").inc()
        return labelled

    service.consume(
        ARTICLES_CLEAN,
        ArticleCleaned,
        per_item(process, concurrency=1),
        output=ARTICLES_CLASSIFIED,
    )
    return service
