"""The page's JSON-LD (schema.org) documents, parsed once per page."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from lxml.html import HtmlElement  # type: ignore[import-untyped,unused-ignore]

__all__ = ["json_ld_documents", "json_ld_strings", "json_ld_values"]


def json_ld_documents(tree: HtmlElement) -> list[Any]:
    """Every well-formed ``<script type="application/ld+json">`` of the page, in order."""
    documents = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            documents.append(json.loads(script.text or ""))
        except ValueError:  # broken JSON-LD is common; the other sources remain
            continue
    return documents


def json_ld_values(node: Any, key: str) -> Iterator[Any]:
    """Every value of ``key`` anywhere in JSON-LD documents (they nest in @graph)."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            else:
                yield from json_ld_values(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from json_ld_values(item, key)


def json_ld_strings(documents: Sequence[Any], key: str) -> Iterator[str]:
    """The string values of ``key``; lists of strings are flattened."""
    for value in json_ld_values(list(documents), key):
        items = value if isinstance(value, list) else [value]
        yield from (item for item in items if isinstance(item, str))
