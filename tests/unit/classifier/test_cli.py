"""``newsflow classify``: JSON Lines in, one JSON Lines result per record, in order."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from newsflow.cli import main

RECORDS = [
    {"id": 1, "title": "Late goal sends United into the cup final", "text": "The striker scored."},
    {
        "id": 2,
        "title": "البنك المركزي يرفع أسعار الفائدة",
        "text": "وتراجعت أسهم البنوك في البورصة.",
    },
    {
        "id": 3,
        "title": "Le maire sortant réélu au premier tour",
        "text": "La participation a reculé.",
    },
]


def _results(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


def test_classify_files_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS[:2]) + "\n\n")
    second.write_text(json.dumps(RECORDS[2]), encoding="utf-8")
    assert main(["classify", str(first), str(second)]) == 0
    results = _results(capsys.readouterr().out)
    assert [r["id"] for r in results] == [1, 2, 3]
    assert [(r["language"], r["topic"]) for r in results] == [
        ("en", "sports"),
        ("ar", "economy"),
        ("fr", None),
    ]
    probabilities = results[0]["probabilities"]
    assert isinstance(probabilities, dict)
    assert len(probabilities) == 5
    assert all(isinstance(r["model_version"], str) for r in results)
    assert results[2]["topic_reason"] == "no topic model for language 'fr'"


def test_classify_reads_stdin_and_reports_bad_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps({"title": "Shares fall on Wall Street", "text": ""}), "{oops", "[1]"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines)))
    assert main(["classify"]) == 1
    results = _results(capsys.readouterr().out)
    assert len(results) == 3
    assert results[0]["language"] == "en"
    assert results[1] == {
        "error": "line 2: not JSON: Expecting property name enclosed in double quotes"
    }
    assert results[2] == {"error": "line 3: not a JSON object"}
