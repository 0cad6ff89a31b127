"""Random Go games (playouts that never fill their own eyes) for the benchmark and pure Monte-Carlo players."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING
from .layout import (
    EMPTY,
    H_CAPT_B,
    H_CAPT_W,
    H_OUTCOME,
    H_PLY,
    LEGAL,
    P_BOARD,
    P_DIAG,
    P_MAX_MOVES,
    P_NEIGH,
    P_SIZE,
)
from .moves import (
    apply,
    move_status,
    to_play,
)

# The Monte-Carlo Go policy of Brügmann (1993) and MoGo (Gelly et al. 2006): uniform over the legal moves
# that do not fill one's own eye, pass when none is left, to the end of the game (two passes or the
# maximum length), scored by Tromp-Taylor. The picker keeps a list of empty points and draws from it,
# moving a rejected point out of the drawing range (libego's trick), so it never builds the whole legal
# mask; the list is rebuilt only after captures. (Numba's cache tracks only the source file of each function;
# ``games.base.cache_by_package`` in ``games/go/__init__.py`` makes it follow every file of the package, so
# these playouts never run stale copies of the rules after an edit there.)


@njit(cache=True)
def is_own_eye(params, board, p, color):
    """An empty point whose neighbours are all ``color`` and whose diagonals hold at most one enemy stone
    (none on the edge): filling it would only hurt, so random play leaves it."""
    me = color + 1
    for k in range(4):
        q = params[params[P_NEIGH] + 4 * p + k]
        if q >= 0 and board[q] != me:
            return False
    enemy = 0
    off = 0
    for k in range(4):
        q = params[params[P_DIAG] + 4 * p + k]
        if q < 0:
            off = 1
        elif board[q] != EMPTY and board[q] != me:
            enemy += 1
    return enemy + off < 2


@njit(cache=True)
def _collect_empty(board, nn, empties):
    n = 0
    for p in range(nn):
        if board[p] == EMPTY:
            empties[n] = p
            n += 1
    return n


@njit(cache=True)
def play_random(params, state, max_moves):
    """Play up to ``max_moves`` random moves on ``state`` (in place), stopping at the end of the game;
    returns the number of moves played."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    empties = np.empty(nn, dtype=np.int64)
    n_empty = _collect_empty(board, nn, empties)
    played = 0
    while state[H_OUTCOME] == ONGOING and played < max_moves:
        played += 1
        color = to_play(params, state)
        k = n_empty
        chosen = nn
        while k > 0:
            i = np.random.randint(k)
            p = empties[i]
            if not is_own_eye(params, board, p, color) and move_status(params, state, p, color) == LEGAL:
                chosen = p
                break
            k -= 1  # move the rejected point past the drawing range
            empties[i] = empties[k]
            empties[k] = p
        if chosen == nn:
            apply(params, state, nn)
            continue
        captured = state[H_CAPT_B] + state[H_CAPT_W]
        apply(params, state, chosen)
        if state[H_CAPT_B] + state[H_CAPT_W] != captured:
            n_empty = _collect_empty(board, nn, empties)
        else:
            n_empty -= 1
            empties[i] = empties[n_empty]
    return played


@njit(cache=True)
def random_playout(params, state):
    """Play random moves on ``state`` (in place) to the end of the game; returns the outcome for Black."""
    play_random(params, state, params[P_MAX_MOVES] + 1)
    return state[H_OUTCOME]


@njit(cache=True)
def random_playouts(params, start, n_games):
    """``n_games`` playouts from ``start``: (black wins, white wins, draws, total moves)."""
    work = start.copy()
    wins_b = 0
    wins_w = 0
    draws = 0
    moves = 0
    for _ in range(n_games):
        for i in range(start.shape[0]):  # an explicit loop: Numba's slice assignment is many times slower
            work[i] = start[i]
        r = random_playout(params, work)
        if r > 0:
            wins_b += 1
        elif r < 0:
            wins_w += 1
        else:
            draws += 1
        moves += work[H_PLY] - start[H_PLY]
    return wins_b, wins_w, draws, moves



@njit(cache=True)
def playout_values(params, states, out):
    """Pure Monte-Carlo evaluation: the result of one random playout (the policy above) from each of
    ``states``, for the player to move there (+1 win, 0 draw, -1 loss); the states are left unchanged."""
    work = np.empty(states.shape[1], dtype=states.dtype)
    for l in range(states.shape[0]):
        for i in range(states.shape[1]):
            work[i] = states[l, i]
        mover = to_play(params, work)
        r = random_playout(params, work)
        out[l] = r if mover == 0 else -r


@njit(cache=True)
def seed_playouts(seed):
    """Seed the generator the playouts draw from (Numba keeps its own, apart from NumPy's)."""
    np.random.seed(seed)
