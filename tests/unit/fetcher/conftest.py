"""A tiny HTTP/1.1 server on 127.0.0.1 with hand-written responses, so tests can send
exactly the bytes a hostile or broken server would (lying lengths, bombs, slow drips).

tls/ holds a throwaway test CA and a certificate for ``news.example`` (valid to 2126).
The CA key was deleted after signing; the server key protects nothing but these tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.fetcher.core import FetchPolicy, make_client, parse_networks
from services.fetcher.guard import IPAddress

Handler = Callable[[asyncio.StreamWriter], Awaitable[None]]
Route = bytes | Handler

TLS_DIR = Path(__file__).parent / "tls"


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str | None] | None = None,
    *,
    keep_alive: bool = False,
) -> bytes:
    """Raw response bytes; Content-Length is added unless the headers already frame the body."""
    given: dict[str, str | None] = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    head = {name: value for name, value in given.items() if value is not None}  # None drops one
    if not {"content-length", "transfer-encoding"} & {name.lower() for name in head}:
        head["Content-Length"] = str(len(body))
    head["Connection"] = "keep-alive" if keep_alive else "close"
    lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


@dataclass
class LocalServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def respond(
        self,
        path: str,
        status: int = 200,
        body: bytes = b"",
        headers: dict[str, str | None] | None = None,
        *,
        keep_alive: bool = False,
    ) -> None:
        self.routes[path] = http_response(status, body, headers, keep_alive=keep_alive)

    def url(self, path: str = "/", *, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while await self._answer_one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._tasks.discard(task)

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        path = request_line.split(" ")[1]
        headers = {}
        for line in filter(None, lines):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.requests.append(SeenRequest(path, headers))
        route = self.routes.get(path, http_response(404, b"no route"))
        if isinstance(route, bytes):
            writer.write(route)
            await writer.drain()
            return b"Connection: keep-alive" in route.split(b"\r\n\r\n")[0]
        await route(writer)
        return False


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    srv = LocalServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def tls_server() -> AsyncIterator[LocalServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "server.pem", TLS_DIR / "server-key.pem")
    srv = LocalServer()
    await srv.start(tls=context)
    yield srv
    await srv.stop()


@pytest.fixture
def test_ca() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(TLS_DIR / "ca.pem"))


def sequence(*responses: bytes) -> Handler:
    """A route answering each request with the next response, the last one for ever."""
    remaining = list(responses)

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(remaining.pop(0) if len(remaining) > 1 else remaining[0])
        await writer.drain()

    return answer


@dataclass
class Gate:
    """A route that holds every request until ``open`` is set: requests in flight, on demand."""

    response: bytes
    open: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, writer: asyncio.StreamWriter) -> None:
        self.waiting += 1
        self.arrived.set()
        await self.open.wait()
        writer.write(self.response)
        await writer.drain()

    async def until_waiting(self, count: int) -> None:
        while True:
            self.arrived.clear()  # cleared before the check: no await in between
            if self.waiting >= count:
                return
            await asyncio.wait_for(self.arrived.wait(), timeout=5)


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[Redis]:
    """An asyncio client of the private test redis-server, flushed for this test."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


LOCAL_POLICY = FetchPolicy(
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    deadline_s=5.0,
    allow_networks=parse_networks("127.0.0.0/8"),
)


async def no_dns(host: str, port: int) -> list[IPAddress]:
    """Tests use literal 127.0.0.1 URLs: any name lookup is a bug, failing like NXDOMAIN."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(LOCAL_POLICY) as client:
        yield client
