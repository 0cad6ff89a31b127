"""A territory estimate for display: Bouzy's 5/21 dilation-erosion (B. Bouzy, *Mathematical morphology
applied to computer Go*, IJPRAI 2003, after A. Zobrist's influence function, 1969).

Stones start at +128 (Black) / -128 (White); 5 dilations spread influence into empty points that no
opposing influence touches, then 21 erosions remove thin influence, leaving the points each side
surrounds. Every stone counts as alive: this is a picture of the position, not a scoring rule (the game
is scored by Tromp-Taylor, ``Go.score``).
"""

from __future__ import annotations

import numpy as np

DILATIONS, EROSIONS = 5, 21


def _neighbour_counts(values: np.ndarray, predicate) -> np.ndarray:
    """For each point, how many of its on-board neighbours satisfy ``predicate``."""
    hit = predicate(values).astype(np.int32)
    out = np.zeros_like(hit)
    out[1:, :] += hit[:-1, :]
    out[:-1, :] += hit[1:, :]
    out[:, 1:] += hit[:, :-1]
    out[:, :-1] += hit[:, 1:]
    return out


def bouzy_map(board: np.ndarray, dilations: int = DILATIONS, erosions: int = EROSIONS) -> np.ndarray:
    """Influence values ``int32[N, N]`` of a board (0 empty, 1 black, 2 white), positive for Black."""
    v = np.where(board == 1, 128, np.where(board == 2, -128, 0)).astype(np.int32)
    for _ in range(dilations):
        pos_n = _neighbour_counts(v, lambda x: x > 0)
        neg_n = _neighbour_counts(v, lambda x: x < 0)
        grow_b = (v >= 0) & (neg_n == 0)
        grow_w = (v <= 0) & (pos_n == 0)
        v = v + np.where(grow_b, pos_n, 0) - np.where(grow_w, neg_n, 0)
    for _ in range(erosions):
        not_pos = _neighbour_counts(v, lambda x: x <= 0)
        not_neg = _neighbour_counts(v, lambda x: x >= 0)
        v = np.where(v > 0, np.maximum(v - not_pos, 0), np.where(v < 0, np.minimum(v + not_neg, 0), 0))
    return v


def estimate(board: np.ndarray) -> np.ndarray:
    """Ownership ``int8[N, N]``: +1 Black (stone or territory), -1 White, 0 neutral."""
    v = bouzy_map(board)
    own = np.sign(v).astype(np.int8)
    own[board == 1] = 1
    own[board == 2] = -1
    return own
