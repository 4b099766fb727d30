"""fetch() against real HTTP servers on 127.0.0.1 (see conftest.py); DNS is always faked."""

from __future__ import annotations

import asyncio
import functools
import gzip
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

import httpx
import pytest

from services.fetcher.core import (
    FetchError,
    FetchPolicy,
    PermanentFetchError,
    TransientFetchError,
    decode_html,
    fetch,
    make_client,
    parse_networks,
)
from services.fetcher.guard import IPAddress, Resolver

LOCAL = FetchPolicy(
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    deadline_s=5.0,
    allow_networks=parse_networks("127.0.0.0/8"),
)

ARABIC_PAGE = (
    '<!DOCTYPE html><html lang="ar" dir="rtl"><head><title>أخبار اليوم</title></head><body>'
    "<h1>الرئيس يلتقي وفدا من رجال الأعمال</h1>"
    "<p>قال مسؤولون إن الاجتماع تناول سبل تعزيز التعاون الاقتصادي بين البلدين"
    " وزيادة حجم التبادل التجاري خلال العام المقبل.</p></body></html>"
)
RUSSIAN_TEXT = "Президент России провёл встречу с представителями бизнеса и обсудил экономику."


def fake_dns(table: dict[str, Sequence[str]]) -> Resolver:
    """A resolver answering from ``table``; unknown names fail like NXDOMAIN."""

    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(address) for address in table[host]]

    return resolve


NO_DNS = fake_dns({})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(LOCAL) as http:
        yield http


async def get(
    url: str,
    client: httpx.AsyncClient,
    policy: FetchPolicy = LOCAL,
    dns: Resolver = NO_DNS,
) -> FetchError:
    """Run a fetch that must fail, and return its error."""
    with pytest.raises(FetchError) as caught:
        await fetch(url, client, policy, resolver=dns)
    return caught.value


@functools.cache
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * 20_000_000, compresslevel=9)


# ---- success and status codes ---------------------------------------------------------


async def test_fetches_utf8_html(server, client):
    html = "<html><body><p>Grüße — مرحبا 👋</p></body></html>"
    server.respond("/news", body=html.encode())

    page = await fetch(server.url("/news"), client, LOCAL, resolver=NO_DNS)

    assert page.url == page.final_url == server.url("/news")
    assert (page.status_code, page.content_type, page.encoding) == (200, "text/html", "utf-8")
    assert page.html == html
    seen = server.requests[0].headers
    assert seen["user-agent"] == "newsflow/0.1"
    assert seen["host"] == f"127.0.0.1:{server.port}"
    assert "cookie" not in seen


async def test_sends_user_agent_from_policy(server, client):
    server.respond("/", body=b"<html></html>")
    policy = FetchPolicy(user_agent="probe/2.0", allow_networks=LOCAL.allow_networks)

    await fetch(server.url(), client, policy, resolver=NO_DNS)

    assert server.requests[0].headers["user-agent"] == "probe/2.0"


async def test_xhtml_is_accepted(server, client):
    server.respond("/", body=b"<html/>", headers={"Content-Type": "application/xhtml+xml"})

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert page.content_type == "application/xhtml+xml"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, PermanentFetchError),
        (410, PermanentFetchError),
        (403, PermanentFetchError),
        (304, PermanentFetchError),
        (408, TransientFetchError),
        (429, TransientFetchError),
        (500, TransientFetchError),
        (503, TransientFetchError),
    ],
)
async def test_status_codes_are_classified(server, client, status, kind):
    server.respond("/", status, b"<html>nope</html>")

    error = await get(server.url(), client)

    assert type(error) is kind
    assert error.reason == f"HTTP {status}"
    assert error.permanent is (kind is PermanentFetchError)


async def test_retry_after_is_reported(server, client):
    server.respond("/", 503, b"busy", {"Retry-After": "120"})

    error = await get(server.url(), client)

    assert isinstance(error, TransientFetchError)
    assert error.retry_after_s == 120


# ---- redirects and the guard ----------------------------------------------------------


async def test_follows_redirect_chain(server, client):
    server.respond("/a", 301, headers={"Location": "/b"})
    server.respond("/b", 302, headers={"Location": server.url("/c")})
    server.respond("/c", 303, headers={"Location": "d?x=1"})
    server.respond("/d?x=1", 307, headers={"Location": "/e"})
    server.respond("/e", 308, headers={"Location": "/final"})
    server.respond("/final", body=b"<html>done</html>")

    page = await fetch(server.url("/a"), client, LOCAL, resolver=NO_DNS)

    assert page.url == server.url("/a")
    assert page.final_url == server.url("/final")
    assert page.html == "<html>done</html>"
    assert [r.path for r in server.requests] == ["/a", "/b", "/c", "/d?x=1", "/e", "/final"]


async def test_too_many_redirects(server, client):
    server.respond("/loop", 302, headers={"Location": "/loop"})
    policy = FetchPolicy(max_redirects=3, allow_networks=LOCAL.allow_networks)

    error = await get(server.url("/loop"), client, policy)

    assert isinstance(error, PermanentFetchError)
    assert error.reason == "too many redirects"
    assert len(server.requests) == 4  # the first request and three redirects


async def test_redirect_without_location_is_permanent(server, client):
    server.respond("/", 302)

    error = await get(server.url(), client)

    assert (error.permanent, error.reason) == (True, "HTTP 302 without Location")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://10.0.0.1/admin", "refused: address 10.0.0.1 is not public"),
        ("http://[::1]/", "refused: address ::1 is not public"),
        ("http://metadata.example/", "refused: address 169.254.169.254 is not public"),
        ("file:///etc/passwd", "refused: scheme 'file' is not http(s)"),
        ("http://user:secret@news.example/", "refused: credentials in URL"),
    ],
)
async def test_redirect_to_forbidden_target_is_refused(server, client, location, reason):
    server.respond("/", 302, headers={"Location": location})
    dns = fake_dns({"metadata.example": ["169.254.169.254"], "news.example": ["127.0.0.1"]})

    error = await get(server.url(), client, dns=dns)

    assert (error.permanent, error.reason) == (True, reason)
    assert len(server.requests) == 1


async def test_redirect_to_loopback_outside_allow_list_is_refused(server, client):
    # Only 127.0.0.1 is allowed: another loopback address is refused before any connection.
    server.respond("/", 302, headers={"Location": f"http://127.0.0.2:{server.port}/"})
    policy = FetchPolicy(allow_networks=parse_networks("127.0.0.1/32"))

    error = await get(server.url(), client, policy)

    assert error.reason == "refused: address 127.0.0.2 is not public"


async def test_loopback_is_refused_without_allow_list(server, client):
    server.respond("/", body=b"<html></html>")

    error = await get(server.url(), client, FetchPolicy())

    assert (error.permanent, error.reason) == (True, "refused: address 127.0.0.1 is not public")
    assert server.requests == []


@pytest.mark.parametrize(
    "host", ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "[::ffff:7f00:1]"]
)
async def test_numeric_loopback_forms_are_refused(server, client, host):
    server.respond("/", body=b"<html></html>")

    error = await get(f"http://{host}:{server.port}/", client, FetchPolicy())

    assert error.permanent
    assert error.reason.startswith(("refused: address ", "bad URL: "))
    assert server.requests == []


@pytest.mark.parametrize("host", ["127.1", "0x7f000001", "2130706433", "017700000001"])
async def test_numeric_forms_reach_the_address_they_denote(server, client, host):
    # With loopback allowed they connect to 127.0.0.1, proving they were decoded as such.
    server.respond("/", body=b"<html>ok</html>")

    page = await fetch(f"http://{host}:{server.port}/", client, LOCAL, resolver=NO_DNS)

    assert page.html == "<html>ok</html>"
    assert server.requests[0].headers["host"] == f"{host}:{server.port}"


async def test_connects_to_the_checked_address_with_the_original_host(server, client):
    # A rebinding DNS answers a private address the second time: it must never be asked again.
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [ip_address(next(answers))]

    server.respond("/p", body=b"<html>ok</html>")
    url = f"http://news.example:{server.port}/p"

    page = await fetch(url, client, LOCAL, resolver=rebinding)

    assert page.final_url == url
    assert calls == ["news.example"]
    assert server.requests[0].headers["host"] == f"news.example:{server.port}"


async def test_every_redirect_hop_is_resolved_and_checked(server, client):
    answers = iter(["127.0.0.1", "10.0.0.1"])

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        return [ip_address(next(answers))]

    server.respond("/", 302, headers={"Location": "/next"})

    error = await get(f"http://news.example:{server.port}/", client, dns=rebinding)

    assert error.reason == "refused: address 10.0.0.1 is not public"


async def test_any_private_answer_refuses_the_host(server, client):
    dns = fake_dns({"news.example": ["127.0.0.1", "192.168.1.10"]})

    error = await get(f"http://news.example:{server.port}/", client, FetchPolicy(), dns)

    assert error.reason == "refused: address 127.0.0.1 is not public"


async def test_tries_the_next_checked_address_when_one_refuses_connections(server, client):
    # The server listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection.
    dns = fake_dns({"news.example": ["127.0.0.2", "127.0.0.1"]})
    server.respond("/", body=b"<html>ok</html>")

    page = await fetch(f"http://news.example:{server.port}/", client, LOCAL, resolver=dns)

    assert page.html == "<html>ok</html>"


async def test_unknown_host_is_permanent(client):
    error = await get("http://no-such-host.example/", client)

    assert error.permanent
    assert error.reason.startswith("DNS lookup failed for no-such-host.example")


async def test_temporary_dns_failure_is_transient(client):
    async def failing(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    error = await get("http://news.example/", client, dns=failing)

    assert not error.permanent


@pytest.mark.parametrize("url", ["not a url", "http://exa mple.com/", "http:///path"])
async def test_bad_urls_are_permanent(client, url):
    error = await get(url, client)

    assert error.permanent
    assert error.reason.startswith("bad URL")


# ---- content type and body limits -----------------------------------------------------


async def test_non_html_content_type_is_refused(server, client):
    server.respond("/", body=b"%PDF-1.7", headers={"Content-Type": "application/pdf"})

    error = await get(server.url(), client)

    assert (error.permanent, error.reason) == (True, "not HTML: application/pdf")


async def test_missing_content_type_is_sniffed(server, client):
    server.respond("/", body=b"\n<!DOCTYPE html><title>x</title>", headers={"Content-Type": None})

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert page.content_type == "text/html"


async def test_missing_content_type_without_markup_is_refused(server, client):
    server.respond("/", body=b"just text", headers={"Content-Type": None})

    error = await get(server.url(), client)

    assert error.permanent
    assert error.reason.startswith("not HTML")


def _raw_head(headers: str) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{headers}\r\n\r\n".encode()


async def _chunked_with_lying_length(writer: asyncio.StreamWriter) -> None:
    body = b"<html>" + b"x" * 200_000
    writer.write(_raw_head("Content-Length: 10\r\nTransfer-Encoding: chunked"))
    writer.write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(body), body))
    await writer.drain()


async def _close_delimited(writer: asyncio.StreamWriter) -> None:
    writer.write(_raw_head("Connection: close") + b"<html>" + b"x" * 200_000)
    await writer.drain()


@pytest.mark.parametrize("handler", [_chunked_with_lying_length, _close_delimited])
async def test_body_cap_is_enforced_while_streaming(server, client, handler):
    server.routes["/"] = handler
    policy = FetchPolicy(max_body_bytes=50_000, allow_networks=LOCAL.allow_networks)

    error = await get(server.url(), client, policy)

    assert (error.permanent, error.reason) == (True, "body larger than 50000 bytes")


async def test_declared_length_over_cap_fails_before_reading(server, client):
    server.respond("/", body=b"<html>", headers={"Content-Length": "60000"})
    policy = FetchPolicy(max_body_bytes=50_000, allow_networks=LOCAL.allow_networks)

    error = await get(server.url(), client, policy)

    assert error.reason == "body larger than 50000 bytes"


async def test_gzip_bomb_is_refused(server, client):
    bomb = gzip_bomb()
    assert len(bomb) < 50_000  # 20 MB of zeros inflated from a few KB
    server.respond("/", body=bomb, headers={"Content-Encoding": "gzip"})
    policy = FetchPolicy(max_body_bytes=1_000_000, allow_networks=LOCAL.allow_networks)

    error = await get(server.url(), client, policy)

    assert (error.permanent, error.reason) == (True, "body larger than 1000000 bytes")


async def test_gzip_in_gzip_is_refused(server, client):
    body = gzip.compress(gzip.compress(b"<html></html>"))
    server.respond("/", body=body, headers={"Content-Encoding": "gzip, gzip"})

    error = await get(server.url(), client)

    assert error.reason == "unsupported content encoding: gzip, gzip"


@pytest.mark.parametrize(
    ("coding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
async def test_compressed_page_is_decoded(server, client, coding, compress):
    html = "<html><p>compressed Grüße</p></html>"
    server.respond("/", body=compress(html.encode()), headers={"Content-Encoding": coding})

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert page.html == html
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_corrupt_gzip_is_permanent(server, client):
    server.respond("/", body=b"not gzip at all", headers={"Content-Encoding": "gzip"})

    error = await get(server.url(), client)

    assert (error.permanent, error.reason) == (True, "corrupt gzip body")


# ---- time limits ----------------------------------------------------------------------


async def _slow_drip(writer: asyncio.StreamWriter) -> None:
    writer.write(_raw_head("Content-Length: 100000") + b"<html>")
    for _ in range(200):  # bounded: at most 10 s, the client gives up long before
        await asyncio.sleep(0.05)
        writer.write(b"x")
        await writer.drain()


async def _stall(writer: asyncio.StreamWriter) -> None:
    writer.write(_raw_head("Content-Length: 100") + b"<html>")
    await writer.drain()
    await asyncio.sleep(10)


async def test_slow_drip_hits_the_deadline(server, client):
    server.routes["/"] = _slow_drip
    policy = FetchPolicy(deadline_s=1.0, allow_networks=LOCAL.allow_networks)

    started = time.monotonic()
    error = await get(server.url(), client, policy)

    assert (error.permanent, error.reason) == (False, "deadline exceeded after 1s")
    assert time.monotonic() - started < 2.0


async def test_stalled_body_hits_the_read_timeout(server, client):
    server.routes["/"] = _stall
    policy = FetchPolicy(read_timeout_s=0.3, allow_networks=LOCAL.allow_networks)

    error = await get(server.url(), client, policy)

    assert (error.permanent, error.reason) == (False, "read timeout")


async def test_refused_connection_is_transient(client):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    error = await get(f"http://127.0.0.1:{port}/", client)

    assert not error.permanent
    assert error.reason.startswith("connection failed")


# ---- charsets -------------------------------------------------------------------------


async def test_windows_1256_page_without_charset_decodes(server, client):
    server.respond("/", body=ARABIC_PAGE.encode("cp1256"), headers={"Content-Type": "text/html"})

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert page.html == ARABIC_PAGE
    assert page.encoding == "cp1256"


async def test_meta_charset_is_honoured(server, client):
    html = f'<html><head><meta charset="windows-1251"></head><body>{RUSSIAN_TEXT}</body></html>'
    server.respond("/", body=html.encode("cp1251"), headers={"Content-Type": "text/html"})

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert (page.encoding, page.html) == ("cp1251", html)


async def test_header_charset_beats_meta(server, client):
    html = '<html><meta charset="utf-8"><p>Ελληνικά</p></html>'
    headers = {"Content-Type": "text/html; charset=ISO-8859-7"}
    server.respond("/", body=html.encode("iso-8859-7"), headers=headers)

    page = await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert (page.encoding, page.html) == ("iso8859-7", html)


SHORT_ARABIC = ["الأخبار", "مرحبا", "السلام عليكم", "عاجل: زلزال", "كرة القدم", "اقتصاد"]
MARKUP = (
    '<!DOCTYPE html><html><head><title>{0}</title><link rel="stylesheet" href="/s.css">'
    '<script src="/app.js"></script></head><body><a href="/">{0}</a>'
    + '<div class="x">' * 20
    + "</body></html>"
)


@pytest.mark.parametrize("text", SHORT_ARABIC, ids=[f"ar{i}" for i in range(len(SHORT_ARABIC))])
def test_short_windows_1256_text_in_markup_decodes(text):
    # charset-normalizer alone guesses mac_iceland, cp932 or utf_16_be for these.
    html = MARKUP.format(text)

    assert decode_html(html.encode("cp1256")) == ("cp1256", html)


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (RUSSIAN_TEXT, "koi8_r"),  # reads as Arabic letters in cp1256: must stay Russian
        (RUSSIAN_TEXT, "cp1251"),
        ("Ο πρωθυπουργός συναντήθηκε με τους εκπροσώπους των επιχειρήσεων.", "cp1253"),
        ("ראש הממשלה נפגש היום עם נציגי העסקים ודן בכלכלה.", "cp1255"),
    ],
    ids=["ru-koi8_r", "ru-cp1251", "el-cp1253", "he-cp1255"],
)
def test_other_legacy_charsets_are_not_taken_for_arabic(text, codec):
    html = MARKUP.format(text)

    encoding, decoded = decode_html(html.encode(codec))

    assert encoding != "cp1256"
    if (
        text == RUSSIAN_TEXT
    ):  # charset-normalizer gets these right; the Arabic rule must not interfere
        assert decoded == html


@pytest.mark.parametrize(
    ("body", "declared", "expected"),
    [
        (b"<html>plain</html>", None, ("utf-8", "<html>plain</html>")),
        (b"\xef\xbb\xbf<p>\xc3\xa9</p>", None, ("utf-8", "<p>é</p>")),
        (
            b'\xef\xbb\xbf<meta charset="koi8-r"><p>\xc3\xa9</p>',
            None,
            ("utf-8", '<meta charset="koi8-r"><p>é</p>'),
        ),
        (b"\xff\xfe<\x00p\x00>\x00", None, ("utf-16-le", "<p>")),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">caf\xe9 \x80',
            None,
            (
                "cp1252",
                '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">café €',
            ),
        ),
        (b'<meta charset="utf-16"><p>ok</p>', None, ("utf-8", '<meta charset="utf-16"><p>ok</p>')),
        (b"<p>\xc3\xa9</p>", "x-no-such-charset", ("utf-8", "<p>é</p>")),
        (b"<p>+AGEAYgBj-</p>", "utf-7", ("utf-8", "<p>+AGEAYgBj-</p>")),
        (b"<p>\\u0041</p>", "unicode_escape", ("utf-8", "<p>\\u0041</p>")),
        (b"<p>\xc3\xa9</p>", "base64", ("utf-8", "<p>é</p>")),
    ],
)
def test_decode_html_charset_sources(body, declared, expected):
    assert decode_html(body, declared) == expected


def test_undecodable_bytes_are_replaced_not_fatal():
    encoding, text = decode_html(b"<p>\xff\xfe\xfd</p>", "utf-8")

    assert (encoding, text) == ("utf-8", "<p>\ufffd\ufffd\ufffd</p>")


# ---- TLS, cookies ---------------------------------------------------------------------


async def test_https_verifies_the_name_through_the_checked_address(tls_server, test_ca):
    tls_server.respond("/", body=b"<html>secure</html>")
    dns = fake_dns({"news.example": ["127.0.0.1"]})

    async with make_client(LOCAL, verify=test_ca) as http:
        page = await fetch(
            tls_server.url(host="news.example", scheme="https"), http, LOCAL, resolver=dns
        )

    assert page.html == "<html>secure</html>"
    assert page.final_url == f"https://news.example:{tls_server.port}/"


async def test_https_connection_is_not_reused_for_another_name(tls_server, test_ca):
    # Both names resolve to one IP, the certificate covers only news.example: reusing the
    # first TLS connection for other.example would skip its certificate check.
    tls_server.respond("/", body=b"<html>secure</html>", keep_alive=True)
    dns = fake_dns({"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})

    async with make_client(LOCAL, verify=test_ca) as http:
        await fetch(tls_server.url(host="news.example", scheme="https"), http, LOCAL, resolver=dns)
        error = await get(tls_server.url(host="other.example", scheme="https"), http, dns=dns)

    assert not error.permanent
    assert "CERTIFICATE_VERIFY_FAILED" in error.reason
    assert len(tls_server.requests) == 1


async def test_cookies_are_neither_kept_nor_sent(server, client):
    server.respond("/", body=b"<html></html>", headers={"Set-Cookie": "session=abc; Path=/"})

    await fetch(server.url(), client, LOCAL, resolver=NO_DNS)
    await fetch(server.url(), client, LOCAL, resolver=NO_DNS)

    assert len(client.cookies.jar) == 0
    assert "cookie" not in server.requests[1].headers


# ---- parse_networks, errors -----------------------------------------------------------


def test_parse_networks():
    assert parse_networks("127.0.0.0/8, ::1/128") == (
        IPv4Network("127.0.0.0/8"),
        IPv6Network("::1/128"),
    )
    assert parse_networks(" 10.0.0.0/8 192.168.0.0/16,") == (
        IPv4Network("10.0.0.0/8"),
        IPv4Network("192.168.0.0/16"),
    )
    assert parse_networks("") == ()
    assert parse_networks("  ") == ()


@pytest.mark.parametrize("spec", ["10.0.0.0/33", "banana", "10.0.0.1/8", "127.0.0.0/8, ::1/129"])
def test_parse_networks_rejects_invalid_cidr(spec):
    with pytest.raises(ValueError, match=r"invalid network '.+' in allow list"):
        parse_networks(spec)


def test_error_kinds():
    assert PermanentFetchError("HTTP 404").permanent is True
    assert TransientFetchError("HTTP 503").permanent is False
    assert TransientFetchError("x", retry_after_s=3).retry_after_s == 3
    assert str(PermanentFetchError("too many redirects")) == "too many redirects"


async def test_make_client_configuration():
    limits = httpx.Limits(max_connections=7)

    async with make_client(LOCAL, limits=limits) as http:
        assert http.follow_redirects is False
        assert http.trust_env is False
        assert http.headers["user-agent"] == "newsflow/0.1"
        assert http.timeout == LOCAL.timeout()


def test_policy_timeouts():
    timeout = FetchPolicy(connect_timeout_s=1, read_timeout_s=2).timeout()

    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (1, 2, 2, 1)


def test_tls_context_fixture_is_strict(test_ca):
    assert test_ca.check_hostname
    assert test_ca.verify_mode == ssl.CERT_REQUIRED
