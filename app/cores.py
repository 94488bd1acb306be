"""Keeping a server process on one core of its own (`PIN_CORES`, off by default; docs/performance.md).

One process runs at most one core of Python (the GIL), and a single-item request crosses threads twice (event
loop -> the group's worker thread -> event loop). With the threads free to run on any core, every hand-off is a
wake-up on another core and the interpreter's state moves between the cores' caches; on one core it is a switch
with warm caches (single items at saturation: 779 -> 1,189 requests/s in one process, docs/performance.md).

Each process claims a core no other server process on the host (or container) holds: an exclusive lock on a
file per core in the temporary directory, released by the kernel when the process exits, so a replaced worker
finds its predecessor's core free again. A process that finds every allowed core claimed is not pinned.
Only for hosts or containers whose cores are the service's own (a cpuset: `docker run --cpuset-cpus`, the
Kubernetes static CPU manager): elsewhere two containers could pin onto one core.
"""

import fcntl
import logging
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)
_held: list[IO[bytes]] = []  # the claimed core's lock file, kept open for the process's life


def _claim(cores: list[int], directory: Path) -> int | None:
    for core in cores:
        try:  # a file another user left, or one that cannot be made: that core is skipped
            handle = (directory / f"parcel-radar-core-{core}.lock").open("ab")
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _held.append(handle)
        return core
    return None


def pin_to_own_core(directory: Path | None = None) -> int | None:
    """Move every thread of this process to one core no other server process claimed, and keep it there
    (threads started later inherit it); the core, or None where the platform cannot or no core is free."""
    if _held or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    core = _claim(allowed, directory or Path(tempfile.gettempdir()))
    if core is None:
        logger.warning("every core of %s is claimed by another server process: not pinned", allowed)
        return None
    for thread in os.listdir("/proc/self/task"):
        with suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(thread), {core})
    logger.info("pinned to core %d", core)
    return core
