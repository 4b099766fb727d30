"""``newsflow fetch URL``: the service's path for one URL, against a threaded local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from redis import Redis

from newsflow.cli import main
from newsflow.embedded import free_port
from services.fetcher.cli import EXIT_FAILED, EXIT_NO_REDIS, EXIT_RETRY_LATER

PAGE = "<html><head><title>Hi</title></head><body><p>مرحبا</p></body></html>"
ROUTES: dict[str, tuple[int, str, str]] = {
    "/news": (200, "text/html; charset=utf-8", PAGE),
    "/robots.txt": (200, "text/plain", "User-agent: *\nDisallow: /private/\n"),
    "/busy": (503, "text/html", "try later"),
    "/file.pdf": (200, "application/pdf", "%PDF-1.4"),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, content_type, body = ROUTES.get(self.path, (404, "text/html", "no"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def env(monkeypatch, redis_url) -> str:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("NEWSFLOW_FETCH_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("NEWSFLOW_FETCH_HOST_DELAY_S", "0")
    return str(redis_url)


def test_fetch_prints_the_page_summary(site, env, capsys):
    assert main(["fetch", f"{site}/news"]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"fetched {site}/news: HTTP 200 text/html utf-8")


def test_fetch_json_carries_the_page(site, env, capsys):
    assert main(["fetch", "--json", f"{site}/news"]) == 0

    record = json.loads(capsys.readouterr().out)
    assert record["outcome"] == "fetched"
    assert record["html"] == PAGE
    assert record["final_url"] == f"{site}/news"


def test_fetch_leaves_no_recently_fetched_record(site, env):
    assert main(["fetch", f"{site}/news"]) == 0
    assert main(["fetch", f"{site}/news"]) == 0  # not a duplicate

    redis = Redis.from_url(env)
    try:
        assert redis.keys("newsflow:fetch:recent:*") == []
        assert redis.keys("newsflow:fetch:robots:*") != []  # shared with the service
    finally:
        redis.close()


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/missing", EXIT_FAILED, "HTTP 404"),
        ("/private/x", EXIT_FAILED, "disallowed by robots.txt"),
        ("/file.pdf", EXIT_FAILED, "not HTML: application/pdf"),
        ("/busy", EXIT_RETRY_LATER, "HTTP 503"),
    ],
)
def test_fetch_failures_exit_non_zero_with_the_reason(site, env, capsys, path, status, reason):
    assert main(["fetch", site + path]) == status

    assert reason in capsys.readouterr().err


def test_fetch_failure_as_json(site, env, capsys):
    assert main(["fetch", "--json", f"{site}/busy"]) == EXIT_RETRY_LATER

    record = json.loads(capsys.readouterr().out)
    assert record == {
        "url": f"{site}/busy",
        "outcome": "retry_later",
        "reason": "HTTP 503",
        "delay_s": None,
    }


def test_fetch_applies_the_guard(site, env, monkeypatch, capsys):
    monkeypatch.setenv("NEWSFLOW_FETCH_ALLOW_NETWORKS", "")

    assert main(["fetch", f"{site}/news"]) == EXIT_FAILED

    assert "refused: address 127.0.0.1 is not public" in capsys.readouterr().err


def test_fetch_says_when_redis_is_unreachable(site, monkeypatch, capsys):
    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("REDIS_URL", url)

    assert main(["fetch", f"{site}/news"]) == EXIT_NO_REDIS

    assert f"Redis unreachable at {url}" in capsys.readouterr().err
