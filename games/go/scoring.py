"""Tromp-Taylor area scoring, without allocating (the search kernels compiled without reference counting end
games through it)."""

from __future__ import annotations

from numba import njit

from .layout import (
    BLACK,
    EMPTY,
    H_OUTCOME,
    H_SCORE2,
    P_BOARD,
    P_KOMI2,
    P_SIZE,
    WHITE,
    neighbour,
)

REACHED = 4  # an empty cell marked by ``mark_reach``: 4 | the colours (1 Black, 2 White) its region reaches


@njit(cache=True)
def area(params, state):
    """Tromp-Taylor area: (black, white) = stones plus the empty points that reach only that colour.

    Allocates nothing, so the search kernels compiled without reference counting (``engine.mcts``) can end a
    game: the empty cells of the board itself hold the colours their region reaches while it is counted
    (``mark_reach``), and are emptied again before returning (the state is left as it was)."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    black = 0
    white = 0
    for p in range(nn):
        v = board[p]
        if v == BLACK:
            black += 1
        elif v == WHITE:
            white += 1
    if black + white == nn:
        return black, white
    mark_reach(params, board)
    for p in range(nn):
        v = board[p]
        if v >= REACHED:
            if v == REACHED | BLACK:
                black += 1
            elif v == REACHED | WHITE:
                white += 1
            board[p] = EMPTY
    return black, white


@njit(cache=True)
def mark_reach(params, board):
    """Write into each empty cell of ``board`` (in place) ``REACHED`` plus the colours its empty region reaches
    (bit 0 Black, bit 1 White); stones stay as they are. The reach spreads by alternate forward and backward
    sweeps until no cell changes: at the end of a game the empty regions are small and two or three sweeps
    settle them. The caller empties the marked cells again (``area``, ``ownership``)."""
    nn = board.shape[0]
    for p in range(nn):  # each empty cell starts with the colours of its own neighbours
        if board[p] == EMPTY:
            reach = 0
            for k in range(4):
                t = neighbour(params, p, k)
                if t >= 0 and board[t] < REACHED:
                    reach |= board[t]
            board[p] = REACHED | reach
    changed = True
    forward = True
    while changed:
        changed = False
        for i in range(nn):
            p = i if forward else nn - 1 - i
            v = board[p]
            if v < REACHED or v == REACHED | BLACK | WHITE:
                continue
            reach = v
            for k in range(4):
                t = neighbour(params, p, k)
                if t >= 0 and board[t] >= REACHED:
                    reach |= board[t]
            if reach != v:
                board[p] = reach
                changed = True
        forward = not forward


@njit(cache=True)
def score2(params, state):
    """Twice the Tromp-Taylor score (Black minus White, komi included): an integer even for half komi."""
    black, white = area(params, state)
    return 2 * (black - white) - params[P_KOMI2]


@njit(cache=True)
def finish(params, state):
    s = score2(params, state)
    state[H_SCORE2] = s
    state[H_OUTCOME] = 1 if s > 0 else (-1 if s < 0 else 0)
