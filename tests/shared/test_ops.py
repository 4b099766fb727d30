"""``newsflow status`` and ``newsflow dlq`` over a real Redis."""

from __future__ import annotations

import json
from typing import cast

import pytest
from redis import Redis

from newsflow.cli import main
from shared.contracts import UrlSubmitted
from shared.ops import list_dead_letters, pipeline_status, replay_dead_letters
from shared.streams import URLS, dead_letter_stream
from tests.shared.test_stage import Echo, Fields, body, run_stage


@pytest.fixture
def sync_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Redis:
    monkeypatch.setenv("REDIS_URL", redis_url)
    return Redis.from_url(redis_url)


async def test_dead_letter_replay_puts_the_payload_back_and_it_goes_through(
    sync_redis: Redis, redis_url: str
) -> None:
    broken = True

    async def until_fixed(message: UrlSubmitted) -> Echo:
        if broken:
            raise RuntimeError("bug")
        return Echo(url=message.url)

    sync_redis.xadd(URLS, {"url": "https://a.example/", "source": "ops-test"})
    await run_stage(redis_url, until_fixed, max_deliveries=1)
    [dead] = list_dead_letters(sync_redis)
    assert dead.payload == {"url": "https://a.example/", "source": "ops-test"}

    broken = False
    assert replay_dead_letters(sync_redis, [dead]) == 1
    await run_stage(redis_url, until_fixed)

    assert sync_redis.xlen(dead_letter_stream(URLS)) == 0
    [(_, out)] = sync_redis.xrange("test:output") or []
    assert body(cast(Fields, out))["url"] == "https://a.example/"


async def test_status_reports_length_pending_and_dead_letters(
    sync_redis: Redis, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sync_redis.xgroup_create(URLS, "fetcher", id="0", mkstream=True)
    for n in range(3):
        sync_redis.xadd(URLS, {"url": f"https://a.example/{n}"})
    sync_redis.xreadgroup("fetcher", "somebody", {URLS: ">"}, count=2)
    sync_redis.xadd(dead_letter_stream(URLS), {"origin_stream": URLS, "payload": "{}"})

    [urls] = [s for s in pipeline_status(sync_redis) if s.stream == URLS]
    assert (urls.length, urls.dead_letters) == (3, 1)
    [group] = urls.groups
    assert (group.name, group.consumers, group.pending) == ("fetcher", 1, 2)
    assert group.oldest_pending_age_s is not None

    assert main(["status", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["stream"] for line in lines} >= {URLS}
    assert main(["status"]) == 0
    assert "fetcher" in capsys.readouterr().out


def test_dlq_cli_lists_shows_and_drops(
    sync_redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_id = sync_redis.xadd(
        dead_letter_stream(URLS),
        {"origin_stream": URLS, "error": "boom", "payload": json.dumps({"url": "u"})},
    )
    assert main(["dlq", "list", "--json"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["error"] == "boom"

    assert main(["dlq", "show", entry_id.decode()]) == 0  # type: ignore[union-attr]
    assert json.loads(capsys.readouterr().out)["payload"] == {"url": "u"}

    assert main(["dlq", "drop", "--all"]) == 0
    assert sync_redis.xlen(dead_letter_stream(URLS)) == 0
