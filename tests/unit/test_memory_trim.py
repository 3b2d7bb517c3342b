"""The engine's C heap stays the size of what it holds: freed pages go back, threads share few heaps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mediaflow.memory_trim import (
    THREAD_HEAPS,
    can_release_free_memory,
    malloc_heaps,
    release_free_memory,
)


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(
    not can_release_free_memory() or not Path("/proc/self/status").exists(),
    reason="needs glibc's malloc_trim and /proc to read the resident size (Linux)",
)
def test_freed_heap_is_returned_to_the_system() -> None:
    """The bug: memory the engine freed after a burst of jobs stayed resident, because glibc
    returns pages only from the top of a heap. 80 MB of 4 KB blocks (malloc's heap, not mmap)
    are freed under one block still in use; trimming returns most of it."""
    release_free_memory()
    blocks = [bytes(4096) + bytes([n % 256]) for n in range(20_000)]
    pinned = [bytes(4096) + b"top" for _ in range(10)]  # allocated last: the heap's top stays in use
    del blocks
    freed_but_resident = _rss_mb()
    assert release_free_memory() is True
    returned = freed_but_resident - _rss_mb()
    assert returned > 40, f"only {returned:.1f} MB returned"
    assert len(pinned) == 10


_THREADS_HOLDING_MEMORY = """
import sys, threading
from mediaflow import memory_trim

if sys.argv[1] == "capped":
    assert memory_trim.limit_thread_heaps()
started = threading.Barrier(16)
held = []

def allocate():
    started.wait()  # all 16 alive at once: none can hand a finished thread's heap to another
    held.append([bytes(2048) + bytes([n % 256]) for n in range(500)])  # malloc's, not pymalloc's
    started.wait()

threads = [threading.Thread(target=allocate) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(memory_trim.malloc_heaps())
"""


def _heaps_after_threads(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_HOLDING_MEMORY, mode],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(malloc_heaps() is None, reason="needs glibc's malloc (mallopt, malloc_info)")
def test_threads_share_a_capped_number_of_heaps() -> None:
    """The bug: glibc gave the engine's threads up to 16 heaps of their own (8 per core), and the
    objects that outlive a job, spread over all of them between freed ones, made every heap's top
    creep up: RSS grew ~5 KB per job though Python's objects did not. 16 threads alive at once,
    each allocating: as glibc ships, they get heaps of their own; capped, they share 2. In a fresh
    process each, as the cap is process-wide and cannot be undone."""
    assert _heaps_after_threads("as-shipped") > THREAD_HEAPS  # the check can fail
    assert _heaps_after_threads("capped") <= THREAD_HEAPS
