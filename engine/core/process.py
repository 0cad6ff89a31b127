"""Process set-up: threads, the allocator and SIGTERM (standard library only)."""

from __future__ import annotations

import os
import sys


def stop_on_sigterm() -> None:
    """``kill`` (SIGTERM, e.g. from ``timeout`` or a cluster scheduler) stops a training command like Ctrl-C:
    it raises KeyboardInterrupt in the main thread, so the run saves its checkpoint before it exits. Repeats
    (``timeout`` forwards the signal that ``pkill`` also sent) are ignored while the command is stopping."""
    import signal

    def _terminate(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)


def pin_threads(n: int = 1) -> None:
    """Pin torch and OpenMP/BLAS threads (two threads on two busy cores collapse; see README), and keep freed
    memory in the process (``tune_allocator``)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
    tune_allocator()


_ALLOCATOR_TUNED = False


def tune_allocator() -> bool:
    """Stop glibc's malloc from handing the network's activation buffers back to the kernel after every call.

    A forward pass allocates and frees tensors of hundreds of KB (the 4x32 Connect Four ResNet: 344 KB per
    activation at batch 64). glibc serves such blocks with ``mmap`` or trims them off the top of the heap when
    they are freed (system calls), so the next call takes a page fault on every 4 KB page it touches again:
    measured on the 2-core VM, up to 440 minor faults per network call in self-play, and self-play 12% faster
    per CPU-second with this tuning (three alternating pairs of runs; PyTorch's CPU performance guide suggests
    jemalloc or tcmalloc for the same reason). Here malloc keeps blocks up to 32 MiB in its heap
    (``M_MMAP_THRESHOLD``), trims only past 256 MiB free (``M_TRIM_THRESHOLD``) and grows by 16 MiB at a time
    (``M_TOP_PAD``): after warm-up a call faults on no page. The price: a process may keep up to 256 MiB of freed
    memory. Bigger arrays (the replay) are still mapped and unmapped as before. Process-wide, once; a no-op
    (False) off glibc."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # malloc.h
    ok = (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 and mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1
          and mallopt(M_TOP_PAD, 16 << 20) == 1)
    _ALLOCATOR_TUNED = ok
    return ok
