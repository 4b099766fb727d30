"""normalize(): the canonical text form every cleaner output goes through."""

from __future__ import annotations

import unicodedata

import pytest

from services.cleaner.core import normalize
from services.cleaner.normalize import fold, normalize_line


def test_composes_to_nfc() -> None:
    decomposed = "Cafe\u0301 e\u0300"  # e + combining acute / grave
    result = normalize(decomposed)

    assert result == "Café è"
    assert unicodedata.is_normalized("NFC", result)


def test_arabic_is_composed_too() -> None:
    # alef + combining hamza above composes to U+0623 (alef with hamza above)
    assert normalize("\u0627\u0654حمد") == "أحمد"


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad"])
def test_removes_zero_width_characters(char: str) -> None:
    assert normalize(f"news{char}flow") == "newsflow"


@pytest.mark.parametrize(
    "char",
    [
        "\u200e", "\u200f", "\u061c",  # LRM, RLM, ALM
        "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings, pops, overrides
        "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    ],
)  # fmt: skip
def test_removes_bidi_controls(char: str) -> None:
    assert normalize(f"عدد {char}2024{char} شخص") == "عدد 2024 شخص"


def test_decodes_html_entities() -> None:
    assert (
        normalize("AT&amp;T &lt;b&gt; caf&eacute; &#8217;s&nbsp;x &#x627;")
        == "AT&T <b> café ’s x ا"
    )


def test_collapses_spaces_but_keeps_paragraphs() -> None:
    text = (
        "  First   line\t\twith\u00a0spaces  \r\nsecond line\r\n\r\n\r\n\n"
        "  Second\u2003paragraph  \n\n\n"
    )

    assert normalize(text) == "First line with spaces\nsecond line\n\nSecond paragraph"


def test_unicode_separators_become_breaks() -> None:
    assert normalize("one\u2028two\u2029three") == "one\ntwo\n\nthree"


def test_drops_control_characters() -> None:
    assert normalize("bell\x07 and\x00 nul\x1b") == "bell and nul"


def test_is_idempotent() -> None:
    text = "  Ca\u0301fe\u200b &amp;  co\n\n\n\nNext\u202e paragraph "
    once = normalize(text)

    assert normalize(once) == once


def test_fold_compares_words_only() -> None:
    assert fold("Storm Ciarán: “Record” winds!") == fold("storm ciarán record WINDS")
    assert fold("لافروف يطلب\u200c مشاركة.") == "لافروف يطلب مشاركة"


@pytest.mark.parametrize(
    "raw",
    [
        "  Storm Ciarán:\n  thousands\r\nwithout power  ",
        "Caf\u0065\u0301 &amp; bar\u00a0\u2009|\tSite",
        "a\u2028b\u2029c\x0bd\x0ce\x1ff\x85g",
        "\u200fعنوان\u200b الخبر\u202a (1)\u202c",
        "",
    ],
)
def test_normalize_line_is_normalize_on_one_line(raw: str) -> None:
    assert normalize_line(raw) == " ".join(normalize(raw).split())


def test_normalize_line_joins_lines_and_decodes_entities() -> None:
    assert (
        normalize_line(" Storm &amp; flood:\n  live\u200b updates ")
        == "Storm & flood: live updates"
    )
