"""The storage stage's batch writer over a real store: bad rows out, good rows in."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from faststream.redis.subscriber.usecases.stream_subscriber import StreamBatchSubscriber

from services.storage.app import SearchBacklog, batch_writer, build
from services.storage.repository import ArticleStore
from services.storage.settings import StorageSettings
from shared.contracts import ArticleClassified
from shared.settings import SharedSettings
from shared.stage import Delivery, Reject
from shared.streams import ARTICLES_CLASSIFIED, FAILURES
from tests.unit.storage.factories import Database, article


async def test_a_batch_is_written_in_one_go(store: ArticleStore) -> None:
    process = batch_writer(store.save_articles)
    batch = [Delivery(f"{n}-0", article(f"https://a.example/{n}")) for n in range(3)]

    assert list(await process(batch)) == [None, None, None]
    assert len(store.list_articles()) == 3


@pytest.mark.parametrize(
    "bad",
    [
        article("https://a.example/" + "x" * 2100),  # longer than the url column
        article("https://a.example/nul", text="a\x00b"),  # PostgreSQL text cannot hold NUL
    ],
    ids=["too-long-url", "nul-byte"],
)
async def test_only_the_rows_the_database_refuses_are_rejected(
    database: Database, bad: ArticleClassified
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("SQLite stores both of these as they are")
    store = database.store()
    process = batch_writer(store.save_articles)
    good = [article("https://a.example/1"), article("https://a.example/2")]
    batch = [Delivery("1-0", good[0]), Delivery("2-0", bad), Delivery("3-0", good[1])]

    results = list(await process(batch))

    assert [results[0], results[2]] == [None, None]
    assert isinstance(results[1], Reject)
    assert isinstance(results[1].__cause__, sa.exc.DBAPIError)
    assert sorted(a.url for a in store.list_articles()) == [a.url for a in good]


async def test_a_lost_database_leaves_the_batch_pending() -> None:
    store = ArticleStore.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    process = batch_writer(store.save_articles)

    with pytest.raises(sa.exc.OperationalError):
        await process([Delivery("1-0", article("https://a.example/1"))])
    store.close()


def test_the_search_backlog_is_exported_where_there_is_one(database: Database) -> None:
    store = database.store()
    store.save_articles([article("https://a.example/1")])
    store.catch_up_search()

    families = list(SearchBacklog(store).collect())

    if database.dialect == "postgresql":
        assert families == []  # indexed in the write transaction: no backlog to report
        return
    [family] = families
    assert family.name == "newsflow_storage_search_backlog"
    assert [sample.value for sample in family.samples] == [0.0]


def test_an_unmigrated_store_exports_no_backlog_and_does_not_fail(database: Database) -> None:
    store = database.store(migrate=False)

    assert list(SearchBacklog(store).collect()) == []


def _batch_sizes(settings: StorageSettings, shared: SharedSettings) -> dict[str, int | None]:
    """Entries per read of each stream the storage service consumes (it is not started)."""
    service = build(shared, settings)
    return {
        sub.stream_sub.name: sub.stream_sub.max_records
        for sub in service.broker.subscribers
        if isinstance(sub, StreamBatchSubscriber)
    }


def test_storage_reads_and_writes_bigger_batches_than_other_stages(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'newsflow.db'}"
    shared = SharedSettings(max_records=32)

    assert _batch_sizes(StorageSettings(database_url=database_url), shared) == {
        ARTICLES_CLASSIFIED: 256,
        FAILURES: 256,
    }
    assert _batch_sizes(StorageSettings(database_url=database_url, batch_size=64), shared) == {
        ARTICLES_CLASSIFIED: 64,
        FAILURES: 64,
    }
