"""Setting up positions outside play (SGF setup, GTP edits, symmetry transforms) and checking the
incremental groups against the board."""

from __future__ import annotations

import numpy as np
from numba import njit

from .layout import (
    EMPTY,
    H_FRAME,
    H_PLY,
    HISTORY,
    P_BITS,
    P_BOARD,
    P_GROUP,
    P_LIBS,
    P_NEXT,
    P_SIZE,
    P_STONES,
    P_WORDS,
    filter_add,
    flip_bit,
    load_hash,
    neighbour,
    store_hash,
    zobrist_key,
)


@njit(cache=True)
def rebuild(params, state):
    """Recompute groups, chains and pseudo-liberties from the board cells (setup positions and symmetry
    transforms; not on the hot path). Returns the number of groups without a liberty."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    done = np.zeros(nn, dtype=np.bool_)
    stack = np.empty(nn, dtype=np.int64)
    dead = 0
    for p in range(nn):
        group[p] = 0
        nxt[p] = 0
        libs[p] = 0
        stones[p] = 0
    for p in range(nn):
        if board[p] == EMPTY or done[p]:
            continue
        v = board[p]
        done[p] = True
        stack[0] = p
        top = 1
        last = p
        group[p] = p
        nxt[p] = p
        count = 0
        pseudo = 0
        while top > 0:
            top -= 1
            s = stack[top]
            count += 1
            for k in range(4):
                t = neighbour(params, s, k)
                if t < 0:
                    continue
                if board[t] == EMPTY:
                    pseudo += 1
                elif board[t] == v and not done[t]:
                    done[t] = True
                    group[t] = p
                    nxt[t] = nxt[last]  # splice into the chain after the last stone added
                    nxt[last] = t
                    last = t
                    stack[top] = t
                    top += 1
        libs[p] = pseudo
        stones[p] = count
        if pseudo == 0:
            dead += 1
    return dead


@njit(cache=True)
def board_hash(params, state):
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    for p in range(nn):
        if board[p] != EMPTY:
            h ^= zobrist_key(params, frame, board[p] - 1, p)
    return h


@njit(cache=True)
def sync_current(params, state):
    """After editing the board cells of the current ply: hash entry and planes slot from the board."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    words = params[P_WORDS]
    slot = state[H_PLY] % HISTORY
    at = params[P_BITS] + slot * 2 * words
    for w in range(2 * words):
        state[at + w] = 0
    for p in range(nn):
        if board[p] != EMPTY:
            flip_bit(params, state, slot, board[p] - 1, p)
    h = board_hash(params, state)
    store_hash(params, state, state[H_PLY], h)
    filter_add(params, state, h)


@njit(cache=True)
def remove_libertyless(params, state):
    """Take off every group without a liberty (an invalid setup, as gomill does); returns stones removed."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    doomed = np.zeros(nn, dtype=np.bool_)
    for p in range(nn):
        if board[p] != EMPTY and libs[group[p]] == 0:
            doomed[p] = True
    removed = 0
    for p in range(nn):
        if doomed[p]:
            board[p] = EMPTY
            removed += 1
    rebuild(params, state)
    sync_current(params, state)
    return removed


@njit(cache=True)
def check_groups(params, state):
    """Consistency of the incremental structures with a fresh rebuild (for tests): True when they agree."""
    nn = params[P_SIZE] * params[P_SIZE]
    fresh = state.copy()
    rebuild(params, fresh)
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    fgroup = fresh[params[P_GROUP]: params[P_GROUP] + nn]
    flibs = fresh[params[P_LIBS]: params[P_LIBS] + nn]
    fstones = fresh[params[P_STONES]: params[P_STONES] + nn]
    for p in range(nn):
        if board[p] == EMPTY:
            continue
        for q in range(nn):  # same partition into groups
            if board[q] != EMPTY and (group[p] == group[q]) != (fgroup[p] == fgroup[q]):
                return False
        if libs[group[p]] != flibs[fgroup[p]] or stones[group[p]] != fstones[fgroup[p]]:
            return False
    if load_hash(params, state, state[H_PLY]) != board_hash(params, state):
        return False
    return True
