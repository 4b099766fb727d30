"""The PromQL that the rules and the dashboard use, and the metric names it reads."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.deploy.tools import INFRA, load_yaml_documents

__all__ = [
    "DASHBOARD",
    "RULES",
    "dashboard_expressions",
    "metric_names",
    "rule_expressions",
]

RULES = INFRA / "prometheus/newsflow.rules.yml"
DASHBOARD = INFRA / "grafana/dashboards/newsflow.json"

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_LABEL_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENTIFIER = re.compile(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "bool", "offset", "inf"}
_SERIES_SUFFIXES = ("_bucket", "_count", "_sum")


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions(path: Path = DASHBOARD) -> list[str]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    return [t["expr"] for p in dashboard_panels(dashboard) for t in p.get("targets", [])]


def rule_expressions(path: Path = RULES) -> list[str]:
    [rules] = load_yaml_documents(path)
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def metric_names(expression: str) -> set[str]:
    """Metric names an expression selects (recording rules' names, with a colon, excluded).

    A small scanner, not a PromQL parser: it drops strings, label matchers, groupings and
    ranges, then keeps the identifiers that are not functions, keywords or numbers.
    Histogram series are reported by their family name (``x_bucket`` -> ``x``).
    """
    text = _STRINGS.sub('""', expression)
    text = _LABEL_MATCHERS.sub("", text)
    text = _GROUPING.sub("", text)
    text = _RANGE.sub("", text)
    names = set()
    for name, call in _IDENTIFIER.findall(text):
        if call or name in _KEYWORDS or ":" in name:
            continue
        for suffix in _SERIES_SUFFIXES:
            if name.endswith(suffix):
                name = name.removesuffix(suffix)
                break
        names.add(name)
    return names
