"""glibc heap settings for a long-running node. ROS-free; no-ops where glibc is not the allocator.

Every configure starts new threads (device capture, stereo worker, publisher, network helpers)
and glibc gives threads their own heap arenas (up to 8 per core). Memory freed by a cleanup then
stays scattered over many arenas: measured, 200 configure/activate/deactivate/cleanup cycles
grew RSS by ~200 MB with the default, and stayed flat (±2 MB after the first 20) with 2 arenas,
which also start ~100 MB smaller. Trimming after a cleanup hands what the device and networks
freed back to the system.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8      # glibc malloc.h
# The largest mmap threshold glibc accepts on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
MAX_MMAP_THRESHOLD = 32 * 1024 * 1024


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(count: int = 2) -> bool:
    """Cap the number of heap arenas (call before threads start); whether it was applied."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, count))


def reuse_large_buffers() -> bool:
    """Keep freed buffers up to 32 MB in the heap for the next message instead of unmapping them; whether
    it was applied. For a process that receives large messages: rclpy allocates each one afresh, and by
    default glibc hands freed large buffers back to the system (unmapped, or trimmed off the heap's top),
    so every page of the next one faults again (measured: a subscriber to every topic of sim.yaml took
    ~80,000 page faults/s and 48 % of a core; 4/s and 36 % with this)."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MAX_MMAP_THRESHOLD)
                and libc.mallopt(M_TRIM_THRESHOLD, 4 * MAX_MMAP_THRESHOLD))


def trim() -> None:
    """Collect Python's cycles (a closed device, a retired network), then return free heap memory
    to the system."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
