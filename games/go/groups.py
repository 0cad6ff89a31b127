"""Groups of stones kept incrementally: every stone points to its group's representative and to the next
stone of a circular chain; representatives hold the size and the pseudo-liberty count. Placing a stone
merges, captures and updates the hash, the planes history and the Bloom filter (see ``games.go.rules``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .layout import (
    EMPTY,
    H_CAPT_B,
    H_FRAME,
    H_KO,
    H_SCAN,
    P_BOARD,
    P_GROUP,
    P_LIBS,
    P_NEXT,
    P_SIZE,
    P_STONES,
    filter_add,
    flip_bit,
    load_hash,
    neighbour,
    store_hash,
    zobrist_key,
)


@njit(cache=True)
def merge(group, nxt, libs, stones, a, b):
    """Join groups ``a`` and ``b`` (representatives); the smaller is relabelled. Returns the new one."""
    if stones[a] < stones[b]:
        a, b = b, a
    s = b
    while True:
        group[s] = a
        s = nxt[s]
        if s == b:
            break
    na = nxt[a]
    nxt[a] = nxt[b]
    nxt[b] = na
    libs[a] += libs[b]
    stones[a] += stones[b]
    return a


@njit(cache=True)
def remove_group(params, state, g, color, slot):
    """Take the group ``g`` of ``color`` off the board; its neighbours gain pseudo-liberties.

    Returns (stones removed, XOR of their Zobrist keys)."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    count = 0
    s = g
    while True:  # empty every stone first, so that the second pass credits only surviving groups
        board[s] = EMPTY
        h ^= zobrist_key(params, frame, color, s)
        flip_bit(params, state, slot, color, s)
        count += 1
        s = nxt[s]
        if s == g:
            break
    while True:
        for k in range(4):
            t = neighbour(params, s, k)
            if t >= 0 and board[t] != EMPTY:
                libs[group[t]] += 1
        s = nxt[s]
        if s == g:
            break
    return count, h


@njit(cache=True)
def place_stone(params, state, p, color, hi, slot):
    """Put a stone of ``color`` on the empty point ``p``: merge, capture, and (only ever reached by forced
    placements) remove the own group if it is left without liberties, as Tromp-Taylor self-capture does.

    Updates hash entry ``hi``, planes slot ``slot``, the prisoners, the simple-ko point and ``H_SCAN``;
    returns the number of opposing stones captured.
    """
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    me = color + 1
    opp = 2 - color
    board[p] = me
    group[p] = p
    nxt[p] = p
    stones[p] = 1
    h = load_hash(params, state, hi) ^ zobrist_key(params, state[H_FRAME], color, p)
    flip_bit(params, state, slot, color, p)
    empty = 0
    for k in range(4):
        q = neighbour(params, p, k)
        if q < 0:
            continue
        if board[q] == EMPTY:
            empty += 1
        else:
            libs[group[q]] -= 1  # p was one of q's group's liberty incidences
    libs[p] = empty
    g = p
    for k in range(4):
        q = neighbour(params, p, k)
        if q >= 0 and board[q] == me and group[q] != g:
            g = merge(group, nxt, libs, stones, g, group[q])
    captured = 0
    ko = -1
    for k in range(4):
        q = neighbour(params, p, k)
        if q >= 0 and board[q] == opp and libs[group[q]] == 0:
            if stones[group[q]] == 1:
                ko = q
            n_removed, removed_hash = remove_group(params, state, group[q], 1 - color, slot)
            captured += n_removed
            h ^= removed_hash
    g = group[p]
    if libs[g] == 0:  # self-capture: Tromp-Taylor removes the own group (legal moves never get here)
        lost, removed_hash = remove_group(params, state, g, color, slot)
        h ^= removed_hash
        state[H_CAPT_B + 1 - color] += lost
        state[H_SCAN] = hi
    if captured > 0:
        state[H_CAPT_B + color] += captured
        state[H_SCAN] = hi  # older boards may have more stones than any board from here on
    store_hash(params, state, hi, h)
    filter_add(params, state, h)
    # a single stone that took a single stone and has that point as its only liberty: simple ko
    state[H_KO] = ko if (captured == 1 and board[p] == me and stones[g] == 1 and libs[g] == 1) else -1
    return captured


@njit(cache=True)
def group_hash(params, state, g, color):
    nn = params[P_SIZE] * params[P_SIZE]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    s = g
    while True:
        h ^= zobrist_key(params, frame, color, s)
        s = nxt[s]
        if s == g:
            break
    return h


@njit(cache=True)
def adjacent_count(params, group, board, p, g):
    n = 0
    for k in range(4):
        q = neighbour(params, p, k)
        if q >= 0 and board[q] != EMPTY and group[q] == g:
            n += 1
    return n
