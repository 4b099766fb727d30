"""The benchmark's scoring follows the Zyte article-extraction benchmark exactly."""

from __future__ import annotations

import gzip
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from services.cleaner.scoring import page_counts, score
from tests.paths import REPO


def test_identical_text_is_perfect() -> None:
    assert page_counts("one two three four five", "one two three four five") == (1.0, 0.0, 0.0)


def test_counts_are_normalised_shingle_counts() -> None:
    # truth shingles: (a b c d), (b c d e); prediction: (a b c d), (b c d x)
    tp, fp, fn = page_counts("a b c d e", "a b c d x")

    assert (tp, fp, fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_repeated_shingles_count_by_multiplicity() -> None:
    tp, fp, fn = page_counts("w x y z", "w x y z. w x y z")

    # prediction has (w x y z) twice plus three shingles spanning the repeat
    assert tp == pytest.approx(1 / 5)
    assert fp == pytest.approx(4 / 5)
    assert fn == 0


def test_short_texts_still_score() -> None:
    # fewer than four tokens: one short shingle, as in the reference implementation
    assert page_counts("hello world", "hello world") == (1.0, 0.0, 0.0)
    assert page_counts("hello world", "") == (0.0, 0.0, 1.0)


def test_score_averages_pages_then_takes_f1() -> None:
    result = score([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0), (0.0, 0.0, 1.0)])

    assert result.precision == pytest.approx((1.0 + 0.5) / 2)  # page 3 predicted nothing
    assert result.recall == pytest.approx((1.0 + 1.0 + 0.0) / 3)
    assert result.f1 == pytest.approx(2 * 0.75 * (2 / 3) / (0.75 + 2 / 3))


def _tiny_data_set(directory: Path) -> Path:
    """One page of six paragraphs, with its ground truth, laid out as the Fundus set."""
    paragraphs = [
        f"Paragraph {i} of a story about the council and its new bridge plans." for i in range(6)
    ]
    page = "<html><body><article><h1>Bridge</h1>{}</article></body></html>".format(
        "".join(f"<p>{p}</p>" for p in paragraphs)
    )
    (directory / "html").mkdir()
    (directory / "html" / "a.html.gz").write_bytes(gzip.compress(page.encode()))
    truth = {"a.html.gz": {"body": paragraphs, "url": "https://example.com/a"}}
    (directory / "ground_truth.json").write_text(json.dumps(truth))
    return directory


def _run_benchmark(module: str, *arguments: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return run.stdout


def test_benchmark_runs_on_a_tiny_data_set(tmp_path: Path) -> None:
    data = _tiny_data_set(tmp_path)

    output = _run_benchmark(
        "benchmarks.extraction", "--data", str(data), "--rounds", "1", "--workers", "1"
    )

    assert "1 pages from" in output
    assert "newsflow clean_html" in output
    assert "F1=1.0000" in output
    assert "newsflow pool x1" in output


@pytest.fixture
def cleaner_memory(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/cleaner_memory.py (the benchmarks are scripts, not an installed package)."""
    monkeypatch.syspath_prepend(str(REPO))
    return importlib.import_module("benchmarks.cleaner_memory")


def test_memory_benchmark_copies_differ_in_title_headline_and_paragraphs(
    cleaner_memory: ModuleType,
) -> None:
    vary, counter_slots = cleaner_memory.vary, cleaner_memory.counter_slots
    page = "<html><head><title>T</title></head><body><h1 class='x'>H</h1><p>a</p><P>b</P></body>"

    copy = vary(counter_slots(page), 7)

    assert copy == (
        "<html><head><title>copy7 T</title></head>"
        "<body><h1 class='x'>copy7 H</h1><p>copy7 a</p><P>copy7 b</P></body>"
    )
    assert vary(counter_slots("<pre>no counted tag</pre>"), 7) == "<pre>no counted tag</pre>"


def test_memory_slope_is_per_ten_thousand_pages(cleaner_memory: ModuleType) -> None:
    slope_per_10k = cleaner_memory.slope_per_10k
    assert slope_per_10k([(1_000, 100.0), (2_000, 100.5), (3_000, 101.0)]) == pytest.approx(5.0)
    assert slope_per_10k([(1_000, 100.0), (2_000, 100.0)]) == 0.0
    assert slope_per_10k([(1_000, 100.0)]) == 0.0


def test_memory_benchmark_runs_on_a_tiny_data_set(tmp_path: Path) -> None:
    data = _tiny_data_set(tmp_path)

    output = _run_benchmark(
        "benchmarks.cleaner_memory", "--data", str(data), "--pages", "4", "--every", "2"
    )

    lines = output.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["1", "2", "4"]
    assert "summary: 4 pages" in lines[3]


def _tiny_corpus(directory: Path, name: str, title: str, sentence: str) -> None:
    rows = [
        {"title": f"{title} {n}", "text": "\n\n".join(f"{sentence} {n}-{i}." for i in range(8))}
        for n in range(2)
    ]
    with gzip.open(directory / name, "wt") as corpus:
        corpus.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def test_unseen_articles_benchmark_runs_on_tiny_corpora(tmp_path: Path) -> None:
    english = "The council approved the new bridge after a long debate about its cost, paragraph"
    arabic = "وافق المجلس على الجسر الجديد بعد نقاش طويل حول تكلفته في الفقرة"
    _tiny_corpus(tmp_path, "bbc_en.jsonl.gz", "Council approves bridge", english)
    _tiny_corpus(tmp_path, "ant21_ar.jsonl.gz", "المجلس يوافق على الجسر", arabic)

    output = _run_benchmark(
        "benchmarks.unseen_articles", "--data", str(tmp_path), "--articles", "2"
    )

    rows = {line[:20].strip(): line for line in output.splitlines() if "articles" in line}
    assert set(rows) == {
        f"{language} {path}"
        for language in ("en", "ar")
        for path in ("text", "html", "trafilatura html", "html <br>")
    }
    for language in ("en", "ar"):
        for path in ("text", "html", "html <br>"):
            assert "F1=1.0000" in rows[f"{language} {path}"], rows[f"{language} {path}"]
