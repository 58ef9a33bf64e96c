"""How many worker processes the runner starts.

``WORKERS=0`` picks the count from the CPU quota the container really has
(cgroup v2 ``cpu.max`` or v1 CFS quota), falling back to the CPUs this process
may run on. With ``SESSION_STORE=memory`` the service runs exactly one worker.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .config import Settings

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _cgroup_v2_quota(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def _cgroup_v1_quota(root: Path) -> float | None:
    for directory in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        base = root / directory
        try:
            quota = int((base / "cpu.cfs_quota_us").read_text())
            period = int((base / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota > 0 and period > 0:
            return quota / period
        return None
    return None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may use: the cgroup quota when there is one, else its affinity."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        affinity = os.cpu_count() or 1
    quota = _cgroup_v2_quota(root)
    if quota is None:
        quota = _cgroup_v1_quota(root)
    if quota is None:
        return max(1, affinity)
    return max(1, min(affinity, math.ceil(quota)))


def worker_count(settings: Settings, root: Path = CGROUP_ROOT) -> int:
    """WORKERS, or the CPUs for 0; always 1 with the memory store.

    The memory store, the daily token budget and the rate-limit windows live in
    the process, so several workers would split one session's history between
    them (config.py refuses an explicit WORKERS above 1 with it).
    """
    store: str = settings.session_store
    if store == "memory":
        return 1
    return settings.workers if settings.workers > 0 else available_cpus(root)
