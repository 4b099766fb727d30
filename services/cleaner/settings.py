from __future__ import annotations

import math
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PORT", "CleanerSettings", "available_cpus"]

DEFAULT_PORT = 9102
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max ..."


def available_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a container's CPU quota.

    ``os.cpu_count()`` counts the host's CPUs even in a container limited to one.
    """
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = _CGROUP_CPU_MAX.read_text(encoding="ascii").split()[:2]
        if quota != "max":
            count = min(count or 1, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to read
    return max(1, count or 1)


class CleanerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_CLEANER_", extra="ignore")

    # Extraction is CPU-bound and runs in worker processes, one page at a time each.
    workers: int = Field(default_factory=available_cpus, ge=1, le=64)
    # A page still being extracted after this is a recorded failure; its worker is killed.
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    # Workers are replaced after this many pages, which bounds what the parser can leak ...
    max_pages_per_worker: int = Field(default=500, ge=1)
    # ... or as soon as one's resident memory passes this after a page (a worker holds
    # about 100 MB in steady state).
    max_worker_mb: int = Field(default=512, ge=64)
    # Larger HTML is refused unread: no news article needs it.
    max_page_mb: float = Field(default=5.0, gt=0)
