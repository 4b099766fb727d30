"""``newsflow extract``: the cleaner's core on local files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from services.cleaner.core import NotAnArticle, clean
from shared.console import print_json_line

__all__ = ["register"]


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
        print_json_line(
            {
                "input": name,
                "title": extracted.title,
                "text": extracted.text,
                "description": extracted.description,
                "authors": extracted.authors,
                "published_at": extracted.published_at.isoformat()
                if extracted.published_at
                else None,
                "site_name": extracted.site_name,
                "language_hint": extracted.language_hint,
                "extraction_method": extracted.method,
            }
        )
    return status


def register(commands: Any) -> None:
    extract = commands.add_parser("extract", help="run the cleaner on HTML or text files")
    extract.add_argument("files", nargs="+", help="files, or - for stdin")
    extract.add_argument("--url", help="the page's URL, to resolve relative links")
    extract.set_defaults(run=cmd_extract)
