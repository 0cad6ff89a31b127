"""One seed for every random stream of a process, and seeds derived from it for parts of a run."""

from __future__ import annotations

import hashlib
import random
import sys

import numpy as np


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy, Numba-compiled code and torch (when imported) from one number."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    from ._numba_seed import seed_numba  # Numba loads here, not when the core is imported

    seed_numba(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def derived_seed(seed: int, *keys) -> int:
    """A 63-bit seed from the run's seed and some keys (iteration, stage): stable across processes."""
    h = hashlib.sha256(repr((int(seed), *keys)).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1
