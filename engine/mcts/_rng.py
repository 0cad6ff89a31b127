"""Randomness of the compiled search: one splitmix64 stream per tree (``Tree.rng``), so a tree's search depends
only on its own seed, whatever the batch it runs in."""

from __future__ import annotations

import numpy as np

from ._options import helper, kernel

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


@kernel
def splitmix64(x):
    """One splitmix64 output for input ``x`` (uint64); also used to derive tree seeds."""
    z = x + GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@kernel
def unit_interval(x):
    """The uint64 ``x`` as a uniform number in (0, 1): never exactly 0 or 1, so logs are safe."""
    return (np.float64(x >> _S11) + 0.5) * _INV_2_53


@helper
def next_u64(rng, b):
    """The next output of stream ``b`` of ``rng`` (uint64[B])."""
    s = rng[b] + GOLDEN
    rng[b] = s
    z = (s ^ (s >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@helper
def uniform(rng, b):
    """Uniform in (0, 1) from stream ``b``."""
    return unit_interval(next_u64(rng, b))


@helper
def normal(rng, b):
    return np.sqrt(-2.0 * np.log(uniform(rng, b))) * np.cos(2.0 * np.pi * uniform(rng, b))


@helper
def gamma(rng, b, alpha):
    """Gamma(alpha, 1) by Marsaglia and Tsang (2000); alpha < 1 through the U^(1/alpha) boost."""
    boost = 1.0
    if alpha < 1.0:
        boost = uniform(rng, b) ** (1.0 / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    while True:
        x = normal(rng, b)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if np.log(uniform(rng, b)) < 0.5 * x * x + d - d * v + d * np.log(v):
            return d * v * boost


@helper
def gumbel(rng, b):
    return -np.log(-np.log(uniform(rng, b)))
