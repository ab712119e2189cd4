"""Keep freed tensor memory in the process, so that the next forward pass does not page it back in from the kernel.

On Linux with glibc, a block larger than malloc's mmap threshold (at most 32 MiB as glibc adjusts it) is a fresh
mmap, and freeing it gives the pages back to the kernel; freed memory at the top of the heap is trimmed back too.
A CPU forward pass allocates and frees its activations on every call, and a batch of four 640 px tiles through
yolov8n-p2 has buffers above 32 MiB (with both thresholds at 256 MiB, 1.4 of 4.7 million faults remained).
Each call then touches every page of them anew, and each first touch is a page fault that the kernel answers
with a zeroed page: 3.4 million faults and 6.8 s of system time for five 2560x2560 photos (BENCHMARKS.md,
"Sliced inference on real images against SAHI"). With both thresholds at 1 GiB, freed blocks stay in malloc's
heap and are reused: no faults, the prediction 1.32x faster, and the peak RSS only 4% higher, because the same
blocks are reused call after call. Raising only one of the two thresholds does not help.

    from tinydet.malloc import keep_freed_memory
    keep_freed_memory()   # once, before the work; True when the setting was made

The setting is process-wide and lasts until the process ends. It is left alone where the user chose malloc
settings (the MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ variables or GLIBC_TUNABLES), and it does nothing
off glibc (macOS, Windows, musl), whose allocators are not affected in the same way or are set otherwise.
"""

from __future__ import annotations

import ctypes
import os
import platform

# mallopt(3) parameter numbers (malloc.h); the value is a C int, so at most 2**31 - 1
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 1 << 30  # larger than any activation buffer of the models tinydet runs at their usual sizes

USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds to THRESHOLD_BYTES (once per process); True when they are set."""
    global _done
    if _done is None:
        _done = _set_thresholds(os.environ, platform.libc_ver()[0])
    return _done


def _set_thresholds(environ, libc_name: str) -> bool:
    if libc_name != "glibc" or any(name in environ for name in USER_SETTINGS):
        return False
    try:  # the symbols already loaded into the process, libc's among them (find_library would start ldconfig)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES))
