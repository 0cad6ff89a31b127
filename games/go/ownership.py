"""Final ownership of each point by Tromp-Taylor area scoring: KataGo's ownership target (Wu 2019, §4.1).

A point belongs to Black (+1) if it holds a black stone or is empty and its empty region reaches black stones
only; to White (-1) likewise; otherwise it is neutral (0): dame, and the shared liberties of a seki, whose empty
region reaches both colours. Every stone on the board counts as alive, as in ``rules.area``: summed over the
board the map is Black's area minus White's, and the score margin is that sum minus komi.

``ownership(params, state, out)`` writes the map into ``out`` (``float32[N * N]``, row 0 at the top) and allocates
nothing: the board's empty cells hold the colours each empty region reaches for a moment (``scoring.mark_reach``,
as ``scoring.area`` counts them), and are emptied again.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rules import BLACK, EMPTY, P_BOARD, P_SIZE, WHITE
from .scoring import REACHED, mark_reach


@njit(cache=True)
def ownership(params, state, out):
    """Tromp-Taylor ownership ``out[p]`` in {+1, 0, -1} (Black's view) of every point; returns Black's area minus
    White's (the sum of ``out``)."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    mark_reach(params, board)  # the empty cells hold the colours their region reaches, for a moment
    diff = 0
    for p in range(nn):
        v = board[p]
        if v == BLACK:
            owner = 1
        elif v == WHITE:
            owner = -1
        else:
            owner = 1 if v == REACHED | BLACK else (-1 if v == REACHED | WHITE else 0)
            board[p] = EMPTY
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
