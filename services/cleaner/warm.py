"""Imported once by the worker pool's fork server, so that every worker forked from it
starts with what each would otherwise load for itself: the cleaner's modules, and the
jusText stop lists of every language (about a second of work, which trafilatura does
lazily, on the first page that needs its jusText fallback).
"""

from __future__ import annotations

from trafilatura.external import jt_stoplist_init

import services.cleaner.core  # noqa: F401 -- imported for the workers to inherit

__all__: list[str] = []

jt_stoplist_init()
