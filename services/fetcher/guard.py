"""SSRF guard: decide whether a URL may be fetched, and at which addresses.

Follows the OWASP SSRF prevention cheat sheet: http(s) only, no credentials in the URL,
and every address the host resolves to must be public unless an operator allowed its
network. The caller must then connect to one of the returned addresses itself, so a
second DNS answer cannot send the request elsewhere (DNS rebinding).

URLs are parsed with httpx, the same parser that sends the request, so the host checked
here is the host that gets contacted.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

__all__ = [
    "ALLOWED_SCHEMES",
    "IPAddress",
    "IPNetwork",
    "ResolutionError",
    "Resolver",
    "Target",
    "UnsafeURLError",
    "check_address",
    "check_url",
    "embedded_ipv4",
    "is_public_address",
    "system_resolver",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""``(host, port) -> addresses``; raises ``socket.gaierror`` like ``getaddrinfo``."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Refused even where ``is_global`` says otherwise: its tables differ between Python releases.
_NEVER_PUBLIC = tuple(
    ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; Linux connects 0.0.0.0 to the local host
        "100.64.0.0/10",  # carrier-grade NAT
        "::/96",  # deprecated IPv4-compatible IPv6, plus :: and ::1
        "fec0::/10",  # deprecated site-local
    )
)
_NAT64 = ip_network("64:ff9b::/96")

# Letters, digits, hyphen (and the underscore some real hosts use) in labels of up to 63.
_HOST_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?:\.(?!-)[a-z0-9_-]{1,63})*\.?", re.IGNORECASE)
# One dotted part of an IPv4 address as inet_aton() reads it: hex, octal or decimal.
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
# A last label that is a number makes the host an (attempted) address, as in the WHATWG URL spec.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


class UnsafeURLError(ValueError):
    """The URL is malformed or points somewhere the fetcher must not go (permanent)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ResolutionError(OSError):
    """The host name could not be resolved; ``temporary`` tells whether a retry may help."""

    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the addresses that may be connected to for it."""

    url: httpx.URL
    server_name: str | None  # TLS name (SNI and certificate); None when the host is an IP
    addresses: tuple[IPAddress, ...]  # non-empty, all checked, in resolver preference order


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Resolve A and AAAA records with the OS resolver, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ip_address(info[4][0]) for info in infos]


async def check_url(
    url: str | httpx.URL,
    *,
    allow_networks: Sequence[IPNetwork] = (),
    resolver: Resolver = system_resolver,
) -> Target:
    """Return where ``url`` may be fetched, or raise UnsafeURLError / ResolutionError."""
    parsed = _parse(url)
    port = _port(parsed)
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded by httpx
    literal = _literal_address(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        if not _HOST_NAME.fullmatch(host):
            raise UnsafeURLError(f"bad URL: invalid host name {host!r}")
        addresses = await _resolve(resolver, host, port)
    for address in addresses:
        check_address(address, allow_networks)
    return Target(url=parsed, server_name=host if literal is None else None, addresses=addresses)


def check_address(address: IPAddress, allow_networks: Sequence[IPNetwork] = ()) -> None:
    if not is_public_address(address, allow_networks):
        raise UnsafeURLError(f"refused: address {address} is not public")


def is_public_address(address: IPAddress, allow_networks: Sequence[IPNetwork] = ()) -> bool:
    """True if ``address`` may be contacted: globally routable, or inside ``allow_networks``."""
    if any(address in network for network in allow_networks):
        return True
    if isinstance(address, IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:  # the packets end up at the IPv4 host: judge that one
            return is_public_address(embedded, allow_networks)
    return (
        address.is_global
        and not address.is_multicast
        and not any(address in network for network in _NEVER_PUBLIC)
    )


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address that an IPv4-mapped, NAT64 or 6to4 address reaches, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def _parse(url: str | httpx.URL) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(f"bad URL: {exc}") from exc
    if not parsed.scheme:
        raise UnsafeURLError("bad URL: no scheme")
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"refused: scheme {parsed.scheme!r} is not http(s)")
    if parsed.userinfo:
        raise UnsafeURLError("refused: credentials in URL")
    if not parsed.raw_host:
        raise UnsafeURLError("bad URL: no host")
    return parsed


def _port(url: httpx.URL) -> int:
    port = _DEFAULT_PORTS[url.scheme] if url.port is None else url.port
    if not 0 < port < 65536:
        raise UnsafeURLError(f"bad URL: port {port} out of range")
    return port


def _literal_address(host: str) -> IPAddress | None:
    """The address a numeric host stands for, read as leniently as inet_aton() reads it.

    ``127.1``, ``0x7f000001``, ``2130706433`` and ``0177.0.0.1`` all mean 127.0.0.1 to the
    OS resolver, so they are decoded here and checked like any other address.
    """
    if ":" in host:  # httpx has already stripped the brackets of an IPv6 literal
        try:
            return IPv6Address(host)
        except ValueError as exc:
            raise UnsafeURLError(f"bad URL: invalid IPv6 address {host!r}") from exc
    parts = host.removesuffix(".").split(".")
    if not _NUMERIC_LABEL.fullmatch(parts[-1]):
        return None
    address = _legacy_ipv4(parts)
    if address is None:
        raise UnsafeURLError(f"bad URL: invalid IPv4 address {host!r}")
    return address


def _legacy_ipv4(parts: list[str]) -> IPv4Address | None:
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    numbers = [_ipv4_number(part) for part in parts]
    *leading, last = numbers
    if any(number > 0xFF for number in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return IPv4Address(value)


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)


async def _resolve(resolver: Resolver, host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        found = await resolver(host, port)
    except socket.gaierror as exc:
        temporary = exc.errno not in _PERMANENT_GAI_ERRORS
        raise ResolutionError(f"DNS lookup failed for {host}: {exc}", temporary=temporary) from exc
    except OSError as exc:
        raise ResolutionError(f"DNS lookup failed for {host}: {exc}", temporary=True) from exc
    addresses = tuple(dict.fromkeys(found))  # dedupe, keep the resolver's preference order
    if not addresses:
        raise ResolutionError(f"DNS lookup for {host} returned no address", temporary=False)
    return addresses


# The name does not exist or has no address records: asking again will not help soon.
_PERMANENT_GAI_ERRORS = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code is not None
)
