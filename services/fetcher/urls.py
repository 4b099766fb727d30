"""Canonical URLs: one spelling per page, so the same article submitted twice is seen once.

``canonical_url`` is pure (no I/O). It keeps everything a server may read and drops what
only a browser or an analytics tool reads:

* scheme and host lower-cased, the host IDNA-encoded (``bücher.de`` -> ``xn--bcher-kva.de``)
  and without a trailing dot; the default port dropped;
* the path with dot segments removed (RFC 3986 5.2.4) and percent-encoding normalised:
  hex digits upper-cased, unreserved characters decoded, characters that must be encoded
  (spaces, non-ASCII) encoded as UTF-8; an empty path is ``/``;
* the fragment dropped (never sent to the server);
* tracking parameters dropped (``utm_*``, ``fbclid``, ``gclid``, ...), the rest kept with
  their values as sent, sorted by name; repeated names keep their relative order.

The fetcher still requests the URL it was given; the canonical form is the key of the
shared "recently fetched" record.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

import idna

__all__ = ["TRACKING_PARAMETERS", "TRACKING_PREFIXES", "canonical_url", "host_key"]

TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref_src",
        "ref_url",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt_mc",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left as they are in a path or query: unreserved, sub-delims, ":" and "@",
# plus "/" (path) and "?" (query). "%" is handled separately.
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def canonical_url(url: str) -> str:
    """The canonical spelling of an http(s) URL; raises ValueError if it has no host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if not parts.hostname:
        raise ValueError(f"no host in URL {url!r}")
    netloc = _netloc(parts, scheme)
    path = _remove_dot_segments(_normalise_escapes(parts.path or "/", _PATH_SAFE))
    query = _query(parts.query)
    return urlunsplit((scheme, netloc, path or "/", query, ""))


def host_key(url: str) -> str:
    """The host part of the canonical URL (``name`` or ``name:port``): the unit of politeness."""
    return urlsplit(canonical_url(url)).netloc.rpartition("@")[2]


def _netloc(parts: SplitResult, scheme: str) -> str:
    host = _host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {exc}") from exc
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    return f"{userinfo}{at}{netloc}"


def _host(hostname: str) -> str:
    host = hostname.lower().removesuffix(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"bad host name {hostname!r}: {exc}") from exc


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on whole segments."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") or not path.startswith("/") else "/" + result


def _normalise_escapes(text: str, safe: frozenset[str]) -> str:
    """Upper-case escapes, decode escaped unreserved characters, escape what must be."""
    decoded = _PERCENT_ESCAPE.sub(_unescape_unreserved, text)
    out: list[str] = []
    for index, char in enumerate(decoded):
        if char in safe:
            out.append(char)
        elif char == "%" and _PERCENT_ESCAPE.match(decoded, index):
            out.append(char)  # an escape kept by _unescape_unreserved
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else f"%{match.group(1).upper()}"


def _query(query: str) -> str:
    kept: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, _ = item.partition("=")
        if _is_tracking(unquote_plus(name).strip().lower()):
            continue
        kept.append((_normalise_escapes(name, _QUERY_SAFE - {"&", "="}), item))
    kept.sort(key=lambda pair: pair[0])  # sort() is stable: repeated names keep their order
    return "&".join(_normalise_escapes(item, _QUERY_SAFE) for _, item in kept)


def _is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)
