"""Final ownership of each point by Tromp-Taylor area scoring: KataGo's ownership target (Wu 2019, §4.1).

A point belongs to Black (+1) if it holds a black stone or is empty and its empty region reaches black stones
only; to White (-1) likewise; otherwise it is neutral (0): dame, and the shared liberties of a seki, whose empty
region reaches both colours. Every stone on the board counts as alive, as in ``rules.area``: summed over the
board the map is Black's area minus White's, and the score margin is that sum minus komi.

``ownership(params, state, out)`` writes the map into ``out`` (``float32[N * N]``, row 0 at the top) and allocates
nothing: ``out`` itself holds the colours each empty region reaches while they spread by alternate forward and
backward sweeps, as ``rules.area`` does on the board.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rules import BLACK, EMPTY, P_BOARD, P_NEIGH, P_SIZE, WHITE

_STONE = 4.0  # out[p] while the reach spreads: a stone (never spread into); empty points hold reach bits 0..3


@njit(cache=True)
def ownership(params, state, out):
    """Tromp-Taylor ownership ``out[p]`` in {+1, 0, -1} (Black's view) of every point; returns Black's area minus
    White's (the sum of ``out``)."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    neigh = params[P_NEIGH]
    for p in range(nn):  # each empty point starts with the colours of its own neighbours
        if board[p] != EMPTY:
            out[p] = _STONE
            continue
        reach = 0
        for k in range(4):
            t = params[neigh + 4 * p + k]
            if t >= 0:
                reach |= board[t]  # EMPTY = 0, BLACK = 1, WHITE = 2: the bits of the colours reached
        out[p] = reach
    changed = True
    forward = True
    while changed:
        changed = False
        for i in range(nn):
            p = i if forward else nn - 1 - i
            v = out[p]
            if v == _STONE or v == BLACK | WHITE:
                continue
            reach = int(v)
            for k in range(4):
                t = params[neigh + 4 * p + k]
                if t >= 0 and out[t] != _STONE:
                    reach |= int(out[t])
            if reach != v:
                out[p] = reach
                changed = True
        forward = not forward
    diff = 0
    for p in range(nn):
        v = board[p]
        if v == BLACK:
            owner = 1
        elif v == WHITE:
            owner = -1
        else:
            reach = int(out[p])
            owner = 1 if reach == BLACK else (-1 if reach == WHITE else 0)
        out[p] = owner
        diff += owner
    return diff


def dead_stones(board: np.ndarray, ownership: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """The stones an ownership estimate gives to the other colour (GTP ``final_status_list dead``): the points
    ``bool[N, N]`` of black stones (``board == BLACK``) whose ownership is below ``-threshold`` and of white stones
    above ``threshold`` (``ownership`` from Black's view, in [-1, 1])."""
    board = np.asarray(board)
    ownership = np.asarray(ownership)
    if board.shape != ownership.shape:
        raise ValueError(f"board {board.shape} and ownership {ownership.shape} differ in shape")
    return ((board == BLACK) & (ownership < -threshold)) | ((board == WHITE) & (ownership > threshold))
