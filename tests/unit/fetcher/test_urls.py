"""canonical_url: one spelling per page (pure, table-driven)."""

from __future__ import annotations

import pytest

from services.fetcher.urls import canonical_url, host_key


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        # scheme and host case, trailing dot, default ports, empty path
        ("HTTP://Example.COM/News", "http://example.com/News"),
        ("https://example.com.:443", "https://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        # IDNA host
        ("https://Bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
        ("https://موقع.مثال/خبر", "https://xn--4gbrim.xn--mgbh0fb/%D8%AE%D8%A8%D8%B1"),
        # fragment dropped
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com/a?b=1#", "https://example.com/a?b=1"),
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/a/.", "https://example.com/a/"),
        ("https://example.com/a/%2e%2E/b", "https://example.com/b"),
        # percent-encoding: hex case, unreserved decoded, reserved kept, unsafe encoded
        ("https://example.com/%7euser/%41", "https://example.com/~user/A"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/%d8%ae", "https://example.com/%D8%AE"),
        # tracking parameters dropped, whatever their case
        ("https://example.com/a?utm_source=x&utm_Medium=y", "https://example.com/a"),
        ("https://example.com/a?id=3&fbclid=abc&gclid=1", "https://example.com/a?id=3"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&ref_src=twsrc", "https://example.com/a"),
        ("https://example.com/a?UTM_CAMPAIGN=z&p=2", "https://example.com/a?p=2"),
        # meaningful query kept, sorted by name, repeated names in their order
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?tag=z&id=1&tag=a", "https://example.com/a?id=1&tag=z&tag=a"),
        ("https://example.com/a?q=a+b&q2=a%20b", "https://example.com/a?q=a+b&q2=a%20b"),
        ("https://example.com/a?flag&x=", "https://example.com/a?flag&x="),
        ("https://example.com/a?&&b=1&", "https://example.com/a?b=1"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a?q=%e2%82%ac", "https://example.com/a?q=%E2%82%AC"),
        (
            "https://example.com/a?url=https://x.org/?y=1",
            "https://example.com/a?url=https://x.org/?y=1",
        ),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_canonical_url_is_idempotent():
    once = canonical_url("HTTPS://Bücher.example:443/./a/../%7eb?z=1&utm_id=2&a=%c3%a4#f")
    assert once == "https://xn--bcher-kva.example/~b?a=%C3%A4&z=1"
    assert canonical_url(once) == once


@pytest.mark.parametrize("url", ["not a url", "https:///path", "http://example.com:99999/"])
def test_canonical_url_rejects_urls_without_a_usable_host(url):
    with pytest.raises(ValueError, match=r"host|port"):
        canonical_url(url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://News.Example/a", "news.example"),
        ("http://news.example:8080/a", "news.example:8080"),
        ("https://news.example:443/a", "news.example"),
        ("http://user@127.0.0.1:9000/", "127.0.0.1:9000"),
    ],
)
def test_host_key(url, host):
    assert host_key(url) == host
