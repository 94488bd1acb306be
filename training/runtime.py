"""Process settings shared by the long batch jobs (simulation and training replay)."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a batch job that builds millions of records without cycles.

    Reference counting still frees them; the collector would only rescan every long-lived record again and
    again (a sixth of the training replay's time and a third of the simulator's, measured). Worker processes of
    such a job call `gc.disable()` at start for the same reason.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
