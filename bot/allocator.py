"""Make glibc hand freed image memory back to the system.

Decodes run in worker threads, and glibc gives each thread its own heap; with its default *dynamic*
mmap threshold, a freed 16 MB Pillow block raises the threshold, later blocks are carved from that
thread's heap, and the heap keeps them after they are freed. Six worker threads each decoding once
then hold six decodes' worth: 8 hostile images peaked at 426 MB with at most two decoding at once.
A fixed 1 MB threshold sends every image-sized allocation to mmap, returned on free: 239 MB
(tests/bench/decode_memory.py). Elsewhere than glibc this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter; setting it also turns the dynamic threshold off
MMAP_THRESHOLD_BYTES = 1024 * 1024


def return_freed_images_to_system() -> bool:
    """True when glibc accepted the fixed threshold."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    log.debug("fixed mmap threshold %s", "set" if ok else "refused")
    return ok
