"""``newsflow articles`` and ``newsflow db`` against a SQLite file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from newsflow.cli import main
from services.storage.repository import ArticleStore
from tests.unit.storage.factories import T0, article, failure


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_reading_an_unmigrated_database_says_how_to_upgrade(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["articles"]) == 3
    assert "newsflow db upgrade" in capsys.readouterr().err
    assert main(["db", "current"]) == 3

    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0
    assert "current: 0004  head: 0004" in capsys.readouterr().out
    assert main(["articles"]) == 0


def test_article_filters(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = ArticleStore.from_url(database_url)
    store.create_schema()
    store.save_articles(
        [
            article(
                "https://a.example/1", text="harbour", published_at=T0, simhash="0123456789abcdef"
            ),
            article("https://b.example/2", text="harbour", published_at=T0 + timedelta(days=2)),
        ]
    )
    store.save_articles([article("https://c.example/3", simhash="0123456789abcdee")])
    store.save_failures([failure("https://a.example/gone")])
    first = store.list_articles(limit=10)[-1]
    store.close()

    def listed(*args: str) -> list[object]:
        assert main(["articles", "--json", *args]) == 0
        return [line["url"] for line in json_lines(capsys.readouterr().out)]

    assert listed("--site", "a.example") == ["https://a.example/1"]
    assert listed("--since", "2024-05-02", "--q", "harbour") == ["https://b.example/2"]
    assert listed("--until", "2024-05-02") == ["https://c.example/3", "https://a.example/1"]
    assert listed("--story", str(first.story_id)) == ["https://c.example/3", "https://a.example/1"]
    assert listed("--limit", "1") == ["https://c.example/3"]

    assert main(["articles", "--failed", "--stage", "fetcher"]) == 0
    assert "https://a.example/gone" in capsys.readouterr().out
    assert main(["articles", "--cursor", "bogus"]) == 2


def test_table_output_and_next_page_hint(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ArticleStore.from_url(database_url)
    store.create_schema()
    store.save_articles([article(f"https://a.example/{n}") for n in range(3)])
    store.close()

    assert main(["articles", "--limit", "2"]) == 0
    out, err = capsys.readouterr()

    assert out.splitlines()[0].split() == [
        "id",
        "story",
        "lang",
        "topic",
        "published",
        "title",
        "url",
    ]
    assert len(out.splitlines()) == 3
    cursor = err.split("--cursor ")[1].strip()
    assert main(["articles", "--json", "--cursor", cursor]) == 0
    assert len(json_lines(capsys.readouterr().out)) == 1


def test_bad_dates_are_usage_errors(database_url: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["articles", "--since", "last tuesday"])
    assert exit_info.value.code == 2
