"""A tiny HTTP/1.1 server on 127.0.0.1 with hand-written responses, so tests can send
exactly the bytes a hostile or broken server would (lying lengths, bombs, slow drips).

tls/ holds a throwaway test CA and a certificate for ``news.example`` (valid to 2126).
The CA key was deleted after signing; the server key protects nothing but these tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

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
