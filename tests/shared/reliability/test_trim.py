from __future__ import annotations

from typing import Any

from shared.reliability.maintenance import safe_trim_id


def group(name: str, last_delivered: str) -> dict[str, Any]:
    return {"name": name.encode(), "last-delivered-id": last_delivered.encode()}


def test_no_group_means_nothing_is_trimmed() -> None:
    assert safe_trim_id([], {}) is None


def test_everything_acknowledged_trims_up_to_the_last_delivered_entry() -> None:
    assert safe_trim_id([group("a", "100-3")], {"a": None}) == "100-4"


def test_oldest_pending_entry_is_kept() -> None:
    assert safe_trim_id([group("a", "300-0")], {"a": "120-1"}) == "120-1"


def test_the_slowest_group_decides() -> None:
    groups = [group("fast", "500-0"), group("slow", "200-0"), group("stuck", "900-0")]
    oldest = {"fast": None, "slow": None, "stuck": "150-7"}
    assert safe_trim_id(groups, oldest) == "150-7"


def test_a_group_that_read_nothing_keeps_the_whole_stream() -> None:
    assert safe_trim_id([group("new", "0-0"), group("a", "100-0")], {}) == "0-1"
