"""The layout of a Go position: cell values, header and ``params`` fields, the ``params`` vector (board size,
komi, ko rule, section offsets, neighbour tables, Zobrist keys) and the accessors of the state's sections.
The layout itself is drawn in ``games.go.rules``."""

from __future__ import annotations

import numpy as np
from numba import njit

EMPTY, BLACK, WHITE = 0, 1, 2  # cell values; colour index c (0 black, 1 white) has stone c + 1
HISTORY = 8  # positions per colour in the planes (AlphaGo Zero)
NUM_PLANES = 2 * HISTORY + 1

KO_POSITIONAL, KO_SITUATIONAL, KO_SIMPLE = 0, 1, 2
KO_RULES = {"positional": KO_POSITIONAL, "situational": KO_SITUATIONAL, "simple": KO_SIMPLE}

# reasons a move is illegal (legality kernels return 0 for a legal move)
LEGAL, OCCUPIED, SUICIDE, KO, SUPERKO = 0, 1, 2, 3, 4

# header fields
H_PLY, H_FIRST, H_PASSES, H_KO, H_OUTCOME, H_CAPT_B, H_CAPT_W, H_FRAME, H_SCORE2, H_LAST, H_SCAN = range(11)
HEADER = 12

# params fields
(P_SIZE, P_KOMI2, P_KO_RULE, P_MAX_MOVES, P_STATE_LEN, P_HASH, P_BITS, P_WORDS, P_BOARD, P_GROUP, P_NEXT,
 P_LIBS, P_STONES, P_NEIGH, P_DIAG, P_ZOBRIST, P_FILTER, P_FILTER_BITS) = range(18)
P_HEADER = 18

MIN_SIZE, MAX_SIZE = 5, 19

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> tuple[int, int]:
    """One step of SplitMix64 (Steele et al. 2014): fixed keys on every machine and NumPy version."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return x, z - (1 << 64) if z >= 1 << 63 else z


def random_keys(count: int, seed: int) -> np.ndarray:
    out = np.empty(count, dtype=np.int64)
    x = seed
    for i in range(count):
        x, out[i] = _splitmix64(x)
    return out


def dihedral_sources(size: int) -> np.ndarray:
    """``src[k, q]``: the point that symmetry ``k`` (``games.base.dihedral``) moves to point ``q``."""
    from ..base import dihedral

    idx = np.arange(size * size).reshape(size, size)
    return np.stack([dihedral(idx, k).ravel() for k in range(8)])


def compose_frames(size: int) -> np.ndarray:
    """``table[k, f]``: the frame of ``T_k o T_f`` (applying symmetry ``k`` to a state in frame ``f``)."""
    src = dihedral_sources(size)
    table = np.zeros((8, 8), dtype=np.int64)
    for k in range(8):
        for f in range(8):
            target = src[f][src[k]]  # (T_k T_f)^-1 (q) = T_f^-1 (T_k^-1 (q))
            table[k, f] = next(g for g in range(8) if np.array_equal(src[g], target))
    return table


def filter_bits(max_moves: int) -> int:
    """Size of the Bloom filter over the board hashes: a power of two, 8 bits per entry or more."""
    return max(256, 1 << int(np.ceil(np.log2(8 * (max_moves + 1)))))


def state_length(size: int, max_moves: int) -> int:
    words = (size * size + 15) // 16
    n = HEADER + 4 * (max_moves + 1) + HISTORY * 2 * words + filter_bits(max_moves) // 16 + 5 * size * size
    return (n + 3) // 4 * 4


def make_params(size: int, komi2: int, ko_rule: int, max_moves: int) -> np.ndarray:
    """The ``int64`` parameter vector of a board: layout, neighbour tables and Zobrist keys."""
    nn = size * size
    words = (nn + 15) // 16
    neigh_at = P_HEADER
    diag_at = neigh_at + 4 * nn
    zob_at = diag_at + 4 * nn
    p = np.zeros(zob_at + 8 * 2 * nn, dtype=np.int64)
    p[P_SIZE], p[P_KOMI2], p[P_KO_RULE], p[P_MAX_MOVES] = size, komi2, ko_rule, max_moves
    p[P_HASH] = HEADER
    p[P_BITS] = HEADER + 4 * (max_moves + 1)
    p[P_WORDS] = words
    p[P_FILTER] = p[P_BITS] + HISTORY * 2 * words
    p[P_FILTER_BITS] = filter_bits(max_moves)
    p[P_BOARD] = p[P_FILTER] + p[P_FILTER_BITS] // 16
    p[P_GROUP] = p[P_BOARD] + nn
    p[P_NEXT] = p[P_GROUP] + nn
    p[P_LIBS] = p[P_NEXT] + nn
    p[P_STONES] = p[P_LIBS] + nn
    p[P_STATE_LEN] = state_length(size, max_moves)
    p[P_NEIGH], p[P_DIAG], p[P_ZOBRIST] = neigh_at, diag_at, zob_at
    for q in range(nn):
        r, c = divmod(q, size)
        for k, (dr, dc) in enumerate(((-1, 0), (0, -1), (0, 1), (1, 0))):
            rr, cc = r + dr, c + dc
            p[neigh_at + 4 * q + k] = rr * size + cc if 0 <= rr < size and 0 <= cc < size else -1
        for k, (dr, dc) in enumerate(((-1, -1), (-1, 1), (1, -1), (1, 1))):
            rr, cc = r + dr, c + dc
            p[diag_at + 4 * q + k] = rr * size + cc if 0 <= rr < size and 0 <= cc < size else -1
    # keys of frame f are the frame-0 keys read through the symmetry: hashes survive transform_state
    base = random_keys(2 * nn, 0x60_2017 + size).reshape(2, nn)
    src = dihedral_sources(size)
    for f in range(8):
        for color in range(2):
            p[zob_at + (f * 2 + color) * nn: zob_at + (f * 2 + color + 1) * nn] = base[color][src[f]]
    return p


# ----------------------------------------------------------------------------------------- sections
@njit(cache=True, inline="always")
def board_view(params, state):
    nn = params[P_SIZE] * params[P_SIZE]
    return state[params[P_BOARD]: params[P_BOARD] + nn]


@njit(cache=True, inline="always")
def load_hash(params, state, i):
    """Hash entry ``i`` from its four 16-bit lanes."""
    o = params[P_HASH] + 4 * i
    return ((np.int64(state[o]) & 0xFFFF) | ((np.int64(state[o + 1]) & 0xFFFF) << 16)
            | ((np.int64(state[o + 2]) & 0xFFFF) << 32) | (np.int64(state[o + 3]) << 48))


@njit(cache=True, inline="always")
def store_hash(params, state, i, h):
    o = params[P_HASH] + 4 * i
    state[o] = h & 0xFFFF
    state[o + 1] = (h >> 16) & 0xFFFF
    state[o + 2] = (h >> 32) & 0xFFFF
    state[o + 3] = (h >> 48) & 0xFFFF


@njit(cache=True, inline="always")
def filter_add(params, state, h):
    """Record hash ``h`` in the Bloom filter (two bits, from two independent parts of the hash)."""
    mask = params[P_FILTER_BITS] - 1
    a = (h >> 40) & mask
    b = (h >> 8) & mask
    state[params[P_FILTER] + (a >> 4)] |= 1 << (a & 15)
    state[params[P_FILTER] + (b >> 4)] |= 1 << (b & 15)


@njit(cache=True, inline="always")
def filter_may_hold(params, state, h):
    """False when ``h`` was never recorded; True when it may have been (then the hashes are scanned)."""
    mask = params[P_FILTER_BITS] - 1
    a = (h >> 40) & mask
    b = (h >> 8) & mask
    return ((state[params[P_FILTER] + (a >> 4)] >> (a & 15)) & 1) == 1 and \
        ((state[params[P_FILTER] + (b >> 4)] >> (b & 15)) & 1) == 1


@njit(cache=True, inline="always")
def flip_bit(params, state, slot, color, p):
    i = params[P_BITS] + (slot * 2 + color) * params[P_WORDS] + (p >> 4)
    state[i] ^= 1 << (p & 15)


@njit(cache=True, inline="always")
def zobrist_key(params, frame, color, p):
    nn = params[P_SIZE] * params[P_SIZE]
    return params[params[P_ZOBRIST] + (frame * 2 + color) * nn + p]


@njit(cache=True, inline="always")
def neighbour(params, p, k):
    return params[params[P_NEIGH] + 4 * p + k]
