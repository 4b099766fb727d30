"""Fetcher domain core: download one HTML page safely and decode it to text.

No broker code lives here: ``fetch`` takes a URL and returns a FetchedPage or raises a
FetchError whose ``permanent`` flag tells the caller whether a retry can help.

Safety rules, each enforced for every redirect hop:
* the URL and every address its host resolves to pass the SSRF guard (guard.py);
* the request goes to the checked address, never to the name again (DNS rebinding);
* time is bounded per operation (httpx timeouts) and per fetch (``deadline_s``);
* the decoded body is bounded while it streams in, whatever the headers claim.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
import ssl
import unicodedata
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from ipaddress import ip_network
from typing import ClassVar

import charset_normalizer
import httpx

from services.fetcher.guard import (
    IPAddress,
    IPNetwork,
    ResolutionError,
    Resolver,
    Target,
    UnsafeURLError,
    check_url,
    system_resolver,
)

__all__ = [
    "HTML_MEDIA_TYPES",
    "REDIRECT_STATUS_CODES",
    "FetchError",
    "FetchPolicy",
    "FetchedPage",
    "PermanentFetchError",
    "TransientFetchError",
    "decode_html",
    "fetch",
    "fetch_text",
    "make_client",
    "parse_networks",
]

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_STATUS_CODES = frozenset({301, 302, 303, 307, 308})
_RETRYABLE_STATUS_CODES = frozenset({408, 429})
_SNIFF_BYTES = 1024
_META_SCAN_BYTES = 4096
_SCRIPT_SAMPLE_BYTES = 65536
_MAX_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    deadline_s: float = 30.0  # overall per fetch, all redirect hops included (slow-drip servers)
    max_redirects: int = 5
    max_body_bytes: int = 10_000_000  # decoded bytes, enforced while streaming
    user_agent: str = "newsflow/0.1"
    allow_networks: tuple[IPNetwork, ...] = ()  # private ranges explicitly allowed

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout_s,
            read=self.read_timeout_s,
            write=self.read_timeout_s,
            pool=self.connect_timeout_s,
        )


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # as requested
    final_url: str  # after redirects
    status_code: int
    content_type: str  # media type only, e.g. "text/html"
    encoding: str  # the Python codec used to decode, e.g. "utf-8", "cp1256"
    html: str
    body_bytes: int = 0  # body size after Content-Encoding was undone, before decoding


class FetchError(Exception):
    """A fetch failed; ``reason`` is short and human readable, e.g. "HTTP 404"."""

    permanent: ClassVar[bool] = False

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code  # the HTTP status, when the server answered


class PermanentFetchError(FetchError):
    """Retrying will not help: 4xx, not HTML, too large, refused, bad URL, redirect loop."""

    permanent = True


class TransientFetchError(FetchError):
    """May succeed later: timeouts, connection errors, 5xx, 408, 429."""

    permanent = False

    def __init__(
        self, reason: str, *, retry_after_s: float | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(reason, status_code=status_code)
        self.retry_after_s = retry_after_s  # from a Retry-After header, when the server sent one


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """Parse a comma or space separated CIDR list: ``"127.0.0.0/8, ::1/128"``."""
    networks: list[IPNetwork] = []
    for item in re.split(r"[,\s]+", spec.strip()):
        if not item:
            continue
        try:
            networks.append(ip_network(item))
        except ValueError as exc:
            raise ValueError(f"invalid network {item!r} in allow list: {exc}") from exc
    return tuple(networks)


def make_client(
    policy: FetchPolicy,
    *,
    limits: httpx.Limits | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """An AsyncClient suited to ``fetch``: no redirects, no proxies from the environment,
    and a cookie jar that keeps nothing (requests go to IP addresses, so it would mix up
    sites, and it would grow without bound in a long-running worker)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=policy.timeout(),
        headers={"User-Agent": policy.user_agent},
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        trust_env=False,
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
        verify=verify,
    )


async def fetch(
    url: str,
    client: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    resolver: Resolver = system_resolver,
) -> FetchedPage:
    """Download ``url`` as an HTML page, following redirects itself within ``policy``.

    ``client`` is the caller's (pooled; ideally from ``make_client``): redirects are never
    followed by httpx, whatever the client says, since every hop must pass the guard first.
    ``resolver`` is injectable so tests can fake DNS.
    """
    return await _fetch_with(_read_page, url, client, policy, resolver)


async def fetch_text(
    url: str,
    client: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    resolver: Resolver = system_resolver,
) -> FetchedPage:
    """Like ``fetch`` (same guard, redirects, limits and statuses) but for any text file,
    whatever its Content-Type: robots.txt is served as text/plain, text/html or nothing.
    The body is decoded as its declared charset, else UTF-8 with replacement."""
    return await _fetch_with(_read_text, url, client, policy, resolver)


Reader = Callable[[str, Target, httpx.Response, FetchPolicy], Awaitable[FetchedPage]]


async def _fetch_with(
    read: Reader, url: str, client: httpx.AsyncClient, policy: FetchPolicy, resolver: Resolver
) -> FetchedPage:
    try:
        async with asyncio.timeout(policy.deadline_s):
            return await _follow(read, url, client, policy, resolver)
    except TimeoutError:
        raise TransientFetchError(f"deadline exceeded after {policy.deadline_s:g}s") from None


async def _follow(
    read: Reader, url: str, client: httpx.AsyncClient, policy: FetchPolicy, resolver: Resolver
) -> FetchedPage:
    current: str | httpx.URL = url
    for _ in range(policy.max_redirects + 1):
        with _translate_errors():
            target = await check_url(
                current, allow_networks=policy.allow_networks, resolver=resolver
            )
            response = await _open(client, target, policy)
            try:
                location = _redirect_location(response, target.url)
                if location is None:
                    return await read(url, target, response, policy)
            finally:
                await response.aclose()
        current = location
    raise PermanentFetchError("too many redirects")


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    """Map guard and httpx exceptions onto the two FetchError kinds."""
    try:
        yield
    except UnsafeURLError as exc:
        raise PermanentFetchError(exc.reason) from exc
    except ResolutionError as exc:
        kind = TransientFetchError if exc.temporary else PermanentFetchError
        raise kind(exc.reason) from exc
    except httpx.TimeoutException as exc:
        raise TransientFetchError(_TIMEOUT_REASONS.get(type(exc), "timeout")) from exc
    except httpx.TransportError as exc:
        detail = str(exc) or type(exc).__name__
        raise TransientFetchError(_clip(f"connection failed: {detail}")) from exc
    except httpx.InvalidURL as exc:
        raise PermanentFetchError(_clip(f"bad URL: {exc}")) from exc


_TIMEOUT_REASONS: dict[type[Exception], str] = {
    httpx.ConnectTimeout: "connect timeout",
    httpx.ReadTimeout: "read timeout",
    httpx.WriteTimeout: "write timeout",
    httpx.PoolTimeout: "connection pool timeout",
}


def _clip(reason: str) -> str:
    return reason if len(reason) <= _MAX_REASON_CHARS else reason[: _MAX_REASON_CHARS - 1] + "…"


async def _open(client: httpx.AsyncClient, target: Target, policy: FetchPolicy) -> httpx.Response:
    """Send the request to the first checked address that accepts a connection."""
    *others, last = target.addresses
    for address in others:
        with contextlib.suppress(httpx.ConnectError, httpx.ConnectTimeout):
            # e.g. an AAAA record on a host without IPv6 routing: try the next address
            return await _send(client, target, address, policy)
    return await _send(client, target, last, policy)


async def _send(
    client: httpx.AsyncClient, target: Target, address: IPAddress, policy: FetchPolicy
) -> httpx.Response:
    request = client.build_request(
        "GET",
        # Connect to the address the guard checked, not to the name: resolving the name again
        # could give another answer (DNS rebinding). The Host header and, for https, the SNI
        # and certificate check still use the name.
        target.url.copy_with(host=str(address)),
        headers=_request_headers(target, policy),
        timeout=policy.timeout(),
        extensions=_tls_extensions(target),
    )
    request.headers.pop("Cookie", None)  # a client-side jar is keyed by IP here: never replay it
    return await client.send(request, stream=True, follow_redirects=False)


def _request_headers(target: Target, policy: FetchPolicy) -> dict[str, str]:
    headers = {
        "Host": target.url.netloc.decode("ascii"),
        "User-Agent": policy.user_agent,
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
        "Accept-Encoding": "gzip, deflate",  # the codings _read_body can bound
    }
    if target.url.scheme == "https":
        # The pool keys connections by IP, so a keep-alive TLS connection verified for one
        # name could be reused for another name on the same IP (common behind CDNs).
        headers["Connection"] = "close"
    return headers


def _tls_extensions(target: Target) -> dict[str, str]:
    if target.url.scheme == "https" and target.server_name is not None:
        return {"sni_hostname": target.server_name}
    return {}


def _redirect_location(response: httpx.Response, base: httpx.URL) -> httpx.URL | None:
    if response.status_code not in REDIRECT_STATUS_CODES:
        return None
    location = response.headers.get("Location", "").strip()
    if not location:
        raise PermanentFetchError(f"HTTP {response.status_code} without Location")
    return base.join(location)  # relative to the name, not to the IP that was contacted


async def _read_page(
    requested: str, target: Target, response: httpx.Response, policy: FetchPolicy
) -> FetchedPage:
    _check_status(response)
    media_type, charset = _parse_content_type(response.headers.get("Content-Type", ""))
    if media_type and media_type not in HTML_MEDIA_TYPES:
        raise PermanentFetchError(_clip(f"not HTML: {media_type}"))
    body = await _read_body(response, policy.max_body_bytes)
    if not media_type:
        if not _looks_like_html(body):
            raise PermanentFetchError("not HTML: no Content-Type and no HTML markup")
        media_type = "text/html"
    encoding, html = decode_html(body, charset)
    return FetchedPage(
        url=requested,
        final_url=str(target.url),
        status_code=response.status_code,
        content_type=media_type,
        encoding=encoding,
        html=html,
        body_bytes=len(body),
    )


async def _read_text(
    requested: str, target: Target, response: httpx.Response, policy: FetchPolicy
) -> FetchedPage:
    _check_status(response)
    media_type, charset = _parse_content_type(response.headers.get("Content-Type", ""))
    body = await _read_body(response, policy.max_body_bytes)
    encoding = _codec(charset) or _bom_codec(body) or "utf-8"
    return FetchedPage(
        url=requested,
        final_url=str(target.url),
        status_code=response.status_code,
        content_type=media_type or "text/plain",
        encoding=encoding,
        html=body.decode(encoding, errors="replace").removeprefix("\ufeff"),
        body_bytes=len(body),
    )


def _check_status(response: httpx.Response) -> None:
    code = response.status_code
    if 200 <= code < 300:
        return
    if code in _RETRYABLE_STATUS_CODES or code >= 500:
        retry_after = _retry_after_s(response.headers.get("Retry-After"))
        raise TransientFetchError(f"HTTP {code}", retry_after_s=retry_after, status_code=code)
    raise PermanentFetchError(f"HTTP {code}", status_code=code)


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent or bad."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds()) if when.tzinfo else None


def _parse_content_type(value: str) -> tuple[str, str | None]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", "UTF-8")``."""
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    """Read the body, undoing Content-Encoding ourselves so its size is capped while it
    inflates: a small gzip bomb (or gzip in gzip) never expands past ``limit`` in memory."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PermanentFetchError(f"body larger than {limit} bytes")
    inflate = _inflater(response.headers.get("Content-Encoding", ""))
    body = bytearray()
    async for raw in response.aiter_raw():  # framing (chunked / length) decides, not the header
        body += inflate(raw, limit - len(body) + 1)
        if len(body) > limit:
            raise PermanentFetchError(f"body larger than {limit} bytes")
    return bytes(body)


def _inflater(content_encoding: str) -> Callable[[bytes, int], bytes]:
    """A ``(chunk, max_output) -> bytes`` decoder for the response's Content-Encoding."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c not in ("", "identity")]
    if not codings:
        return lambda chunk, _max_output: chunk
    if codings in (["gzip"], ["x-gzip"]):
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif codings == ["deflate"]:
        decompressor = zlib.decompressobj()  # HTTP "deflate" is the zlib format
    else:
        raise PermanentFetchError(_clip(f"unsupported content encoding: {content_encoding}"))

    def inflate(chunk: bytes, max_output: int) -> bytes:
        try:
            # Output stops at max_output; any input left over is only reached past the cap.
            return decompressor.decompress(chunk, max_output)
        except zlib.error as exc:
            raise PermanentFetchError(f"corrupt {codings[0]} body") from exc

    return inflate


def _looks_like_html(body: bytes) -> bool:
    head = body[:_SNIFF_BYTES].lower()
    return b"<html" in head or b"<!doctype html" in head


# ---- decoding ---------------------------------------------------------------------------

# Labels browsers read as a superset encoding (WHATWG Encoding Standard); pages rely on it.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
}
_LABEL_ALIASES = {"windows-874": "cp874", "x-sjis": "shift_jis", "x-gbk": "gbk"}
# Text codecs that are no charset (or unsafe to honour, like UTF-7).
_REFUSED_CODECS = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_ARABIC_SHARE_FOR_CP1256 = 0.8


def decode_html(body: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Return ``(codec, text)``. The charset comes from, in order: the Content-Type header,
    a BOM, a ``<meta>`` in the first 4 KB, detection; else UTF-8 with replacement."""
    encoding = (
        _codec(declared_charset) or _bom_codec(body) or _meta_codec(body) or _detect_codec(body)
    )
    return encoding, body.decode(encoding, errors="replace").removeprefix("\ufeff")


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when unknown or not a text charset."""
    if not label:
        return None
    label = label.strip().lower()
    try:
        info = codecs.lookup(_LABEL_ALIASES.get(label, label))
    except LookupError:
        return None
    if not info._is_text_encoding or info.name in _REFUSED_CODECS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def _bom_codec(body: bytes) -> str | None:
    return next((codec for bom, codec in _BOMS if body.startswith(bom)), None)


def _meta_codec(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    codec = _codec(match.group(1).decode("ascii")) if match else None
    if codec is not None and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"  # the meta was readable as ASCII, so the page is not UTF-16 (WHATWG)
    return codec


def _detect_codec(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"  # valid UTF-8 with non-ASCII bytes is practically never anything else
    best = charset_normalizer.from_bytes(body).best()
    guess = _codec(best.encoding) if best is not None else None
    if _prefer_cp1256(body[:_SCRIPT_SAMPLE_BYTES], guess):
        return "cp1256"
    return guess or "utf-8"


def _prefer_cp1256(sample: bytes, guess: str | None) -> bool:
    """charset-normalizer often takes short windows-1256 text inside ASCII markup for a Mac
    or CJK code page. Prefer cp1256 when it reads the non-ASCII bytes as Arabic script at
    least as cleanly as the guess reads them as any one script (KOI8-R Russian stays)."""
    if guess == "cp1256":
        return False
    arabic_share = _script_shares(sample.decode("cp1256")).get("ARABIC", 0.0)
    if arabic_share < _ARABIC_SHARE_FOR_CP1256:
        return False
    if guess is None:
        return True
    return arabic_share >= max(_script_shares(sample.decode(guess, "replace")).values(), default=0)


def _script_shares(text: str) -> dict[str, float]:
    """Share of the non-ASCII characters that are letters or marks of each script."""
    non_ascii = [char for char in text if ord(char) > 0x7F]
    scripts = Counter(_script(char) for char in non_ascii)
    scripts.pop(None, None)
    return {str(name): count / len(non_ascii) for name, count in scripts.items()}


def _script(char: str) -> str | None:
    if unicodedata.category(char)[0] not in "LM":
        return None
    words = unicodedata.name(char, "").split()
    if words[:1] in (["HALFWIDTH"], ["FULLWIDTH"]):
        words = words[1:]
    script = words[0] if words else None
    return "CJK" if script in ("HIRAGANA", "KATAKANA") else script
