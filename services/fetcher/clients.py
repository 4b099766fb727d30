"""HTTP connection pools for many fetches in flight: several small pools, one per host shard.

httpcore's pool does work quadratic in its number of connections each time a request
starts or ends (it scans every connection, and for each idle one the whole list again),
so a single pool of 64 keep-alive connections spends most of the CPU on bookkeeping.
Requests are spread over ``shards`` clients by host, so a host always uses the same
pool (its plain-HTTP connections are reused) and each pool stays small.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from services.fetcher.core import FetchPolicy, make_client

__all__ = ["CONNECTIONS_PER_SHARD", "ClientShards"]

CONNECTIONS_PER_SHARD = 8  # few enough that the pool's bookkeeping stays cheap

# httpcore tries `import sniffio` every time it sets up a lock (several times per request).
# Without the package that is a failed search of sys.path each time, a large share of a
# fetch's CPU. A None entry makes the same import fail at once, with the same outcome.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ClientShards:
    """``clients[i]`` serves the hosts whose name hashes to ``i``."""

    clients: Sequence[httpx.AsyncClient]

    @classmethod
    def create(cls, policy: FetchPolicy, concurrency: int) -> ClientShards:
        """Enough shards for ``concurrency`` fetches at about CONNECTIONS_PER_SHARD each.

        Each pool may still open ``concurrency`` connections: hosts are not spread evenly,
        and a request waiting for a pool slot would only time out (PoolTimeout).
        """
        shards = max(1, math.ceil(concurrency / CONNECTIONS_PER_SHARD))
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        return cls([make_client(policy, limits=limits) for _ in range(shards)])

    @classmethod
    def single(cls, client: httpx.AsyncClient) -> ClientShards:
        return cls([client])

    def for_url(self, url: str | httpx.URL) -> httpx.AsyncClient:
        if len(self.clients) == 1:
            return self.clients[0]
        host = httpx.URL(url).host
        return self.clients[zlib.crc32(host.encode()) % len(self.clients)]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
