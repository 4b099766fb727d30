"""``newsflow status`` and ``newsflow dlq``: what ops reads and does by hand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from redis import Redis

from shared.console import print_json_line, print_table
from shared.ops import (
    GroupStatus,
    drop_dead_letters,
    list_dead_letters,
    pipeline_status,
    replay_dead_letters,
)
from shared.settings import SharedSettings
from shared.streams import PIPELINE_STREAMS

__all__ = ["register"]


def _redis() -> Redis:
    return Redis.from_url(SharedSettings().redis_url)


def cmd_status(args: argparse.Namespace) -> int:
    statuses = pipeline_status(_redis())
    if args.json:
        for status in statuses:
            print_json_line(status.to_json())
        return 0
    rows = []
    for s in statuses:
        groups: list[GroupStatus | None] = [*s.groups] or [None]
        for g in groups:
            rows.append(
                [s.stream, str(s.length), str(s.dead_letters)]
                + (
                    [g.name, str(g.consumers), "?" if g.lag is None else str(g.lag),
                     str(g.pending), "-" if g.oldest_pending_age_s is None
                     else f"{g.oldest_pending_age_s:.1f}"]
                    if g else ["-", "-", "-", "-", "-"]
                )
            )  # fmt: skip
    print_table(
        ["stream", "length", "dead", "group", "consumers", "lag", "pending", "oldest pending s"],
        rows,
    )
    return 0


def _selected(args: argparse.Namespace, redis: Redis) -> list[Any]:
    streams = (args.stream,) if args.stream else PIPELINE_STREAMS
    ids = tuple(args.ids) if getattr(args, "ids", None) else ()
    if not ids and not getattr(args, "all", True):
        print("name dead-letter ids, or --all", file=sys.stderr)
        raise SystemExit(2)
    return list_dead_letters(redis, streams=streams, ids=ids, limit=args.limit)


def cmd_dlq(args: argparse.Namespace) -> int:
    redis = _redis()
    if args.action == "list":
        entries = list_dead_letters(
            redis, streams=(args.stream,) if args.stream else PIPELINE_STREAMS, limit=args.limit
        )
        if args.json:
            for entry in entries:
                print_json_line(entry.to_json())
        else:
            print_table(
                ["id", "origin", "error", "deliveries", "last failed"],
                [[e.id, e.origin_stream, e.fields.get("error", ""), e.fields.get("deliveries", ""),
                  e.fields.get("last_failed_at", "")] for e in entries],
            )  # fmt: skip
        return 0
    entries = _selected(args, redis)
    if args.action == "show":
        for entry in entries:
            print_json_line({**entry.to_json(), "payload": entry.payload})
        return 0 if entries else 1
    if args.action == "replay":
        print(f"replayed {replay_dead_letters(redis, entries)} entr(y/ies)")
        return 0
    print(f"dropped {drop_dead_letters(redis, entries)} entr(y/ies)")
    return 0


def register(commands: Any) -> None:
    status = commands.add_parser("status", help="streams, groups, lag, pending, dead letters")
    status.add_argument("--json", action="store_true", help="JSON Lines, one per stream")
    status.set_defaults(run=cmd_status)

    dlq = commands.add_parser("dlq", help="inspect, replay or drop dead-lettered entries")
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("--json", action="store_true")
    for name, text in (
        ("show", "print entries with their decoded payload"),
        ("replay", "put payloads back on their origin stream"),
        ("drop", "delete entries"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("ids", nargs="*", help="dead-letter entry ids")
        if name != "show":
            action.add_argument("--all", action="store_true", help="every dead letter")
    for action in actions.choices.values():
        action.add_argument("--stream", choices=PIPELINE_STREAMS, help="origin stream")
        action.add_argument("--limit", type=int, default=100)
    dlq.set_defaults(run=cmd_dlq)
