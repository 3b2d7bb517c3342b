"""Keep the engine's C heap the size of what it holds (glibc's malloc: fewer heaps, trimmed).

The engine runs many short-lived threads (moto starts one per state; waitress serves requests
on a pool), and glibc gives threads heaps of their own, up to 8 per core (16 on 2 cores).
Two things follow, both measured with `bench/bench_engine_memory.py`:

- A heap returns a freed page to the system only from its top, so after a burst of jobs the
  engine's resident memory stayed at its high-water mark though Python had freed the objects
  (~20 MB after 100 jobs). `malloc_trim(0)` releases every whole free page of every heap
  (glibc 2.8 and later), in a few milliseconds: `release_free_memory`, every 30 s.
- Objects that outlive a job (an awake S3 key, a job record, a finished execution) land in
  whichever of the 16 heaps their thread was given, between the freed data of the jobs around
  them, so each heap's top crept up: RSS grew ~5 KB per job over 1,000 jobs (smaps: all of it
  in the thread heaps) though what Python holds was flat. With the heaps capped at 2
  (`limit_thread_heaps`, glibc's `M_ARENA_MAX`) the holes are reused: flat from the 500th job
  on, 14 MB less overall, and the same CPU per job (the GIL lets one thread allocate at a time
  anyway, so a heap of its own per thread bought no parallelism).

Where the C library is not glibc (musl, macOS) these do nothing. A well-kept library for them
does not exist: each is one libc call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

TRIM_EVERY_SECONDS = 30.0
THREAD_HEAPS = 2  # glibc counts the main heap too: the main thread's and one shared by the others
_M_ARENA_MAX = -8  # mallopt's parameter number for the heap cap (glibc's malloc.h)


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def _glibc_function(name: str, argtypes: list[type], restype: type) -> Callable[..., int] | None:
    function = getattr(_LIBC, name, None) if _LIBC is not None else None
    if function is not None:
        function.argtypes, function.restype = argtypes, restype
    return function


_malloc_trim = _glibc_function("malloc_trim", [ctypes.c_size_t], ctypes.c_int)
_mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int], ctypes.c_int)
_malloc_info = _glibc_function("malloc_info", [ctypes.c_int, ctypes.c_void_p], ctypes.c_int)
_fopen = _glibc_function("fopen", [ctypes.c_char_p, ctypes.c_char_p], ctypes.c_void_p)
_fclose = _glibc_function("fclose", [ctypes.c_void_p], ctypes.c_int)


def can_release_free_memory() -> bool:
    return _malloc_trim is not None


def release_free_memory() -> bool:
    """Return the heaps' free pages to the system; True if any was returned."""
    return bool(_malloc_trim(0)) if _malloc_trim is not None else False


def limit_thread_heaps(count: int = THREAD_HEAPS) -> bool:
    """Let glibc create at most `count` heaps from now on (threads share them); True if set.

    Heaps created before the call stay; threads started later share the capped ones. Process-wide
    and for the process's lifetime, as glibc's MALLOC_ARENA_MAX would be.
    """
    return bool(_mallopt(_M_ARENA_MAX, count)) if _mallopt is not None else False


def malloc_heaps() -> int | None:
    """How many heaps glibc's malloc has now (its `malloc_info` report), or None off glibc."""
    if _malloc_info is None or _fopen is None or _fclose is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "malloc_info.xml"
        stream = _fopen(str(report).encode(), b"w")
        if not stream:
            return None
        try:
            _malloc_info(0, stream)
        finally:
            _fclose(stream)
        return len(re.findall(r'<heap nr="\d+">', report.read_text()))
