"""``newsflow classify``: the classifier's core on JSON Lines of articles."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from services.classifier.core import Classifier
from services.classifier.settings import ClassifierSettings
from shared.console import print_json_line

__all__ = ["register"]


def _records(stream: TextIO) -> Iterator[dict[str, Any] | str]:
    """Each non-blank line's object, or why it is not one (so output stays line for line)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield f"line {number}: not JSON: {error.msg}"
            continue
        yield record if isinstance(record, dict) else f"line {number}: not a JSON object"


def _classify_stream(stream: TextIO, classifier: Classifier) -> int:
    """Print one result per record; return how many records were unreadable."""
    errors = 0
    for record in _records(stream):
        if isinstance(record, str):
            print_json_line({"error": record})
            errors += 1
            continue
        labels = classifier.classify(record.get("title") or "", record.get("text") or "")
        print_json_line(
            {
                **({"id": record["id"]} if "id" in record else {}),
                "language": labels.language,
                "language_confidence": labels.language_confidence,
                "topic": labels.topic,
                "topic_confidence": labels.topic_confidence,
                "probabilities": labels.topic_probabilities,
                "needs_review": labels.needs_review,
                "topic_reason": labels.topic_reason,
                "model_version": labels.model_version,
            }
        )
    return errors


def cmd_classify(args: argparse.Namespace) -> int:
    settings = ClassifierSettings()
    classifier = Classifier.load(settings.models_dir, settings.min_topic_confidence)
    errors = 0
    for name in args.files or ["-"]:
        if name == "-":
            errors += _classify_stream(sys.stdin, classifier)
            continue
        with Path(name).open(encoding="utf-8") as handle:
            errors += _classify_stream(handle, classifier)
    return 1 if errors else 0


def register(commands: Any) -> None:
    classify = commands.add_parser(
        "classify", help="label JSON Lines records ({title, text}) with language and topic"
    )
    classify.add_argument("files", nargs="*", help="JSON Lines files (stdin when none, or -)")
    classify.set_defaults(run=cmd_classify)
