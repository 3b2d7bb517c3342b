"""Give the engine's freed heap back to the system now and then (glibc's `malloc_trim`).

The engine runs many short-lived threads (moto starts one per state; waitress serves requests
on a pool) and glibc gives threads heaps of their own, returning a freed page to the system only
from the top of a heap. After a burst of jobs the engine's resident memory stays at its
high-water mark though Python has freed the objects: ~20 MB after 100 jobs, measured with
`bench/bench_engine_memory.py`. `malloc_trim(0)` releases every whole free page of every heap
(glibc 2.8 and later), in a few milliseconds. Where the C library has no `malloc_trim` (musl,
macOS) this does nothing. A well-kept library for it does not exist: it is one libc call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

TRIM_EVERY_SECONDS = 30.0


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_malloc_trim = _find_malloc_trim()


def can_release_free_memory() -> bool:
    return _malloc_trim is not None


def release_free_memory() -> bool:
    """Return the heaps' free pages to the system; True if any was returned."""
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False
