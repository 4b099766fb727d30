"""SSRF guard: table-driven checks of URLs and addresses. DNS is faked; nothing is contacted."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest

from services.fetcher.guard import (
    IPAddress,
    IPNetwork,
    ResolutionError,
    Resolver,
    UnsafeURLError,
    check_url,
    embedded_ipv4,
    is_public_address,
    system_resolver,
)

LOOPBACK = (ip_network("127.0.0.0/8"),)

NOT_PUBLIC = [
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",  # global-scope multicast: is_global, still refused
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # deprecated IPv4-compatible form
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "2001:db8::1",
    "100::1",
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


def fake_dns(
    table: dict[str, Sequence[str]], calls: list[tuple[str, int]] | None = None
) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if calls is not None:
            calls.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(address) for address in table[host]]

    return resolve


async def no_dns(host: str, port: int) -> list[IPAddress]:
    raise AssertionError(f"resolver called for {host}")


async def refusal(
    url: str, resolver: Resolver = no_dns, allow_networks: Sequence[IPNetwork] = ()
) -> str:
    with pytest.raises(UnsafeURLError) as caught:
        await check_url(url, allow_networks=allow_networks, resolver=resolver)
    return caught.value.reason


# ---- addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses(address):
    assert not is_public_address(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert is_public_address(ip_address(address))


@pytest.mark.parametrize("address", NOT_PUBLIC)
async def test_host_resolving_to_non_public_address_is_refused(address):
    dns = fake_dns({"host.test": [address]})

    reason = await refusal("http://host.test/", dns)

    assert reason == f"refused: address {ip_address(address)} is not public"


@pytest.mark.parametrize("address", NOT_PUBLIC)
async def test_literal_non_public_address_is_refused_without_dns(address):
    host = f"[{address}]" if ":" in address else address

    reason = await refusal(f"http://{host}/")

    assert reason == f"refused: address {ip_address(address)} is not public"


@pytest.mark.parametrize("address", PUBLIC)
async def test_host_resolving_to_public_address_is_allowed(address):
    target = await check_url("https://news.test/a?b=1", resolver=fake_dns({"news.test": [address]}))

    assert target.addresses == (ip_address(address),)
    assert target.server_name == "news.test"
    assert str(target.url) == "https://news.test/a?b=1"


async def test_every_resolved_address_must_be_public():
    dns = fake_dns({"mixed.test": ["8.8.8.8", "2606:4700:4700::1111", "10.0.0.7"]})

    assert await refusal("http://mixed.test/", dns) == "refused: address 10.0.0.7 is not public"


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"),
        ("2002:7f00:1::", "127.0.0.1"),
        ("2002:808:808::1", "8.8.8.8"),
        ("2606:4700:4700::1111", None),
        ("::1", None),
    ],
)
def test_embedded_ipv4(address, embedded):
    expected = IPv4Address(embedded) if embedded else None

    assert embedded_ipv4(IPv6Address(address)) == expected


# ---- allow_networks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "networks", "allowed"),
    [
        ("127.0.0.1", "127.0.0.0/8", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "10.0.0.0/16", False),
        ("192.168.1.1", "10.0.0.0/8", False),
        ("::ffff:127.0.0.1", "127.0.0.0/8", True),  # judged by the IPv4 host it reaches
        ("::1", "127.0.0.0/8", False),
        ("::1", "::1/128", True),
        ("fd00::5", "fc00::/7", True),
    ],
)
async def test_allow_networks(address, networks, allowed):
    allow = (ip_network(networks),)
    dns = fake_dns({"internal.test": [address]})

    assert is_public_address(ip_address(address), allow) is allowed
    if allowed:
        target = await check_url("http://internal.test/", allow_networks=allow, resolver=dns)
        assert target.addresses == (ip_address(address),)
    else:
        await refusal("http://internal.test/", dns, allow_networks=allow)


# ---- numeric host forms ---------------------------------------------------------------

NUMERIC_LOOPBACK = [
    "127.1",
    "127.0.1",
    "0x7f000001",
    "0X7F000001",
    "2130706433",
    "017700000001",
    "0x7f.1",
    "0177.1",
    "0x7f.0.0.0x1",
    "127.0.0.1.",
]


@pytest.mark.parametrize("host", NUMERIC_LOOPBACK)
async def test_numeric_forms_are_read_as_loopback_and_refused(host):
    assert await refusal(f"http://{host}/") == "refused: address 127.0.0.1 is not public"


@pytest.mark.parametrize("host", NUMERIC_LOOPBACK)
async def test_numeric_forms_resolve_without_dns(host):
    target = await check_url(f"http://{host}/", allow_networks=LOOPBACK, resolver=no_dns)

    assert target.addresses == (IPv4Address("127.0.0.1"),)
    assert target.server_name is None


@pytest.mark.parametrize(
    "host", ["0177.0.0.1", "256.1", "1.2.3.4.5", "08.0.0.1", "0x1.0x100000000", "1.2.3.256"]
)
async def test_invalid_numeric_forms_are_bad_urls(host):
    assert (await refusal(f"http://{host}/")).startswith("bad URL")


@pytest.mark.skipif(sys.platform != "linux", reason="inet_aton() parsing of getaddrinfo")
@pytest.mark.parametrize("host", ["127.1", "0x7f000001", "2130706433", "0177.0.0.1"])
async def test_system_resolver_reads_numeric_forms_as_loopback(host):
    # Why the guard decodes them itself: the OS would connect them to 127.0.0.1.
    assert IPv4Address("127.0.0.1") in await system_resolver(host, 80)


# ---- URL shape ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
        "gopher://example.com/",
        "ws://example.com/",
    ],
)
async def test_non_http_schemes_are_refused(url):
    assert (await refusal(url)).startswith("refused: scheme ")


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@example.com/",
        "http://user@example.com/",
        "https://:secret@example.com/",
        "http://example.com@10.0.0.1/",
    ],
)
async def test_userinfo_is_refused(url):
    assert await refusal(url) == "refused: credentials in URL"


@pytest.mark.parametrize(
    "url",
    [
        "example.com/path",
        "//example.com/path",
        "http:///path",
        "http://",
        "http://example.com:0/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://[::1/",
        "http://[fe80::zz]/",
    ],
)
async def test_malformed_urls_are_bad(url):
    assert (await refusal(url)).startswith("bad URL")


# ---- resolution -----------------------------------------------------------------------


async def test_resolver_gets_idna_host_and_effective_port():
    calls: list[tuple[str, int]] = []
    dns = fake_dns({"xn--bcher-kva.test": ["8.8.8.8"]}, calls)

    target = await check_url("https://bücher.test/", resolver=dns)
    await check_url("http://xn--bcher-kva.test:8080/", resolver=dns)

    assert calls == [("xn--bcher-kva.test", 443), ("xn--bcher-kva.test", 8080)]
    assert target.server_name == "xn--bcher-kva.test"


async def test_addresses_are_deduplicated_in_order():
    dns = fake_dns({"news.test": ["2606:4700:4700::1111", "8.8.8.8", "2606:4700:4700::1111"]})

    target = await check_url("http://news.test/", resolver=dns)

    assert target.addresses == (IPv6Address("2606:4700:4700::1111"), IPv4Address("8.8.8.8"))


def raising(error: OSError) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        raise error

    return resolve


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), True),
        (OSError("network unreachable"), True),
    ],
)
async def test_resolution_failures(error, temporary):
    with pytest.raises(ResolutionError) as caught:
        await check_url("http://news.test/", resolver=raising(error))

    assert caught.value.temporary is temporary
    assert caught.value.reason.startswith("DNS lookup failed for news.test")


async def test_empty_answer_is_a_permanent_resolution_failure():
    with pytest.raises(ResolutionError) as caught:
        await check_url("http://news.test/", resolver=fake_dns({"news.test": []}))

    assert not caught.value.temporary
