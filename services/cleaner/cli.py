"""``newsflow extract``: the cleaner's core on local files.

Each output line holds the extraction fields of the ``ArticleCleaned`` record the
service would publish for that page (the tracking fields of a fetched page aside).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from services.cleaner.app import article_record
from services.cleaner.core import NotAnArticle, clean
from shared.console import print_json_line

__all__ = ["register"]


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def cmd_extract(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        content = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        try:
            extracted = clean(content, args.url)
        except NotAnArticle as error:
            print_json_line({"input": name, "error": f"not an article: {error.reason}"})
            status = 1
            continue
        record = {key: _json_value(value) for key, value in article_record(extracted).items()}
        print_json_line({"input": name, **record})
    return status


def register(commands: Any) -> None:
    extract = commands.add_parser("extract", help="run the cleaner on HTML or text files")
    extract.add_argument("files", nargs="+", help="files, or - for stdin")
    extract.add_argument("--url", help="the page's URL, to resolve relative links")
    extract.set_defaults(run=cmd_extract)
