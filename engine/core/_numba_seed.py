"""Numba-compiled code keeps its own NumPy generator state: seeding it takes a compiled call."""

import numpy as np
from numba import njit


@njit(cache=True)
def seed_numba(seed):
    np.random.seed(seed)
