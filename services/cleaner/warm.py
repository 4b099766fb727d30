"""Imported once by the worker pool's fork server, so that every worker forked from it
starts with what each would otherwise load for itself: the cleaner's modules, and the
jusText stop lists of every language (about a second of work, which trafilatura does
lazily, on the first page that needs its jusText fallback), all kept out of the
garbage collector's full collections.
"""

from __future__ import annotations

import gc

from trafilatura.external import jt_stoplist_init

import services.cleaner.core  # noqa: F401 -- imported for the workers to inherit

__all__: list[str] = []

jt_stoplist_init()
# What is loaded now lives as long as the workers: out of the garbage collector's sight,
# a full collection in a worker skips it (about 40,000 objects) and leaves the pages it
# shares with the fork server unwritten, hence shared.
gc.freeze()
