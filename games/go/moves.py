"""The Go kernels of the rules contract (``games.base.Rules``): legality with superko, playing a move,
the network planes and the position hash (see ``games.go.rules`` for the state layout)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING
from .groups import (
    adjacent_count,
    group_hash,
    place_stone,
)
from .layout import (
    EMPTY,
    H_FIRST,
    H_FRAME,
    H_KO,
    H_LAST,
    H_OUTCOME,
    H_PASSES,
    H_PLY,
    H_SCAN,
    HISTORY,
    KO,
    KO_SIMPLE,
    KO_SITUATIONAL,
    LEGAL,
    MAX_SIZE,
    OCCUPIED,
    P_BITS,
    P_BOARD,
    P_GROUP,
    P_HASH,
    P_KO_RULE,
    P_LIBS,
    P_MAX_MOVES,
    P_SIZE,
    P_STATE_LEN,
    P_WORDS,
    SUICIDE,
    SUPERKO,
    filter_add,
    filter_may_hold,
    load_hash,
    neighbour,
    random_keys,
    zobrist_key,
)
from .scoring import finish

# state_hash mixes: side to move, consecutive passes, ko point and symmetry frame
_MIX_KEYS = random_keys(8 + 1 + 4 + MAX_SIZE * MAX_SIZE + 1, 0x5EED_60)
_K_FRAME = 0   # + frame (8 keys)
_K_SIDE = 8    # White to move
_K_PASSES = 9  # + consecutive passes (0..3)
_K_KO = 13     # + ko point + 1


@njit(cache=True)
def init_state(params):
    s = np.zeros(params[P_STATE_LEN], dtype=np.int16)
    filter_add(params, s, np.int64(0))  # the empty start board
    s[H_KO] = -1
    s[H_LAST] = -1
    s[H_OUTCOME] = ONGOING
    return s


@njit(cache=True)
def to_play(params, state):
    return (state[H_FIRST] + state[H_PLY]) & 1


@njit(cache=True)
def outcome(params, state):
    return state[H_OUTCOME]


@njit(cache=True)
def _repeats(params, state, h, end, step_parity):
    """Whether hash ``h`` is among entries ``[0, end)`` (only those of parity ``step_parity`` if >= 0)."""
    c0 = np.int16(h & 0xFFFF)
    c1 = np.int16((h >> 16) & 0xFFFF)
    c2 = np.int16((h >> 32) & 0xFFFF)
    c3 = np.int16((h >> 48) & 0xFFFF)
    o = params[P_HASH]
    start = 0
    step = 1
    if step_parity >= 0:
        start = step_parity
        step = 2
    for i in range(start, end, step):
        j = o + 4 * i
        if state[j] == c0 and state[j + 1] == c1 and state[j + 2] == c2 and state[j + 3] == c3:
            return True
    return False


@njit(cache=True)
def move_status(params, state, p, color):
    """``LEGAL`` or why ``color`` may not play on point ``p``: OCCUPIED, SUICIDE, KO or SUPERKO."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    if board[p] != EMPTY:
        return OCCUPIED
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    me = color + 1
    rule = params[P_KO_RULE]
    if rule == KO_SIMPLE and p == state[H_KO]:
        return KO
    alive = False
    capture_hash = np.int64(0)
    captures = False
    seen0 = -1
    seen1 = -1
    seen2 = -1
    for k in range(4):
        q = neighbour(params, p, k)
        if q < 0:
            continue
        v = board[q]
        if v == EMPTY:
            alive = True
            continue
        g = group[q]
        if g == seen0 or g == seen1 or g == seen2:
            continue
        if k == 0:
            seen0 = g
        elif k == 1:
            seen1 = g
        else:
            seen2 = g
        if libs[g] > 4:  # more pseudo-liberties than p can account for: a liberty elsewhere
            if v == me:
                alive = True
            continue
        adjacent = adjacent_count(params, group, board, p, g)
        if v == me:
            if libs[g] > adjacent:
                alive = True  # the friendly group keeps a liberty elsewhere
        elif libs[g] == adjacent:  # every liberty of that enemy group is p: captured
            alive = True
            if rule != KO_SIMPLE:
                captures = True
                capture_hash ^= group_hash(params, state, g, 1 - color)
    if not alive:
        return SUICIDE
    if rule == KO_SIMPLE:
        return LEGAL
    ply = state[H_PLY]
    # without a capture the board gains a stone: only boards older than the last capture can have as many
    end = ply + 1 if captures else state[H_SCAN]
    if end <= 0:
        return LEGAL
    h = load_hash(params, state, ply) ^ zobrist_key(params, state[H_FRAME], color, p) ^ capture_hash
    if not filter_may_hold(params, state, h):
        return LEGAL
    parity = (ply + 1) & 1 if rule == KO_SITUATIONAL else -1  # situational: same player to move
    return SUPERKO if _repeats(params, state, h, end, parity) else LEGAL


@njit(cache=True)
def legal_mask(params, state, out):
    nn = params[P_SIZE] * params[P_SIZE]
    if state[H_OUTCOME] != ONGOING:
        out[:] = False
        return 0
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    color = (state[H_FIRST] + state[H_PLY]) & 1
    n = 1
    for p in range(nn):
        ok = board[p] == EMPTY and move_status(params, state, p, color) == LEGAL
        out[p] = ok
        n += ok
    out[nn] = True  # pass
    return n


@njit(cache=True)
def apply(params, state, action):
    """Play ``action`` (legal) for the player to move; a point that is not legal is still played, with
    Tromp-Taylor self-capture and no repetition check (the ``force`` of the rules tests)."""
    nn = params[P_SIZE] * params[P_SIZE]
    ply = state[H_PLY]
    words = 2 * params[P_WORDS]
    slot_at = params[P_BITS] + (ply % HISTORY) * words
    new_slot = (ply + 1) % HISTORY
    new_at = params[P_BITS] + new_slot * words
    for w in range(words):
        state[new_at + w] = state[slot_at + w]
    o = params[P_HASH] + 4 * ply
    for w in range(4):
        state[o + 4 + w] = state[o + w]
    color = (state[H_FIRST] + ply) & 1
    if action == nn:
        state[H_PASSES] += 1
        state[H_KO] = -1
    else:
        state[H_PASSES] = 0
        place_stone(params, state, action, color, ply + 1, new_slot)
    state[H_PLY] = ply + 1
    state[H_LAST] = action
    if state[H_PASSES] >= 2 or ply + 1 >= params[P_MAX_MOVES]:
        finish(params, state)


@njit(cache=True)
def place(params, state, p, color):
    """Edit the current position: put a stone of ``color`` on the empty point ``p`` (captures and
    self-capture apply; no legality check, no move recorded, the player to move is unchanged)."""
    ply = state[H_PLY]
    return place_stone(params, state, p, color, ply, ply % HISTORY)


@njit(cache=True)
def encode(params, state, out):
    """AlphaGo Zero planes ``[17, N, N]``: the mover's stones in the last 8 positions (now first), the
    opponent's stones in the same positions, then all ones when Black is to move. Positions before the
    start are all zero."""
    n = params[P_SIZE]
    nn = n * n
    words = params[P_WORDS]
    ply = state[H_PLY]
    me = (state[H_FIRST] + ply) & 1
    for k in range(HISTORY):
        if k > ply:
            out[k] = 0.0
            out[HISTORY + k] = 0.0
            continue
        slot = (ply - k) % HISTORY
        mine = params[P_BITS] + (slot * 2 + me) * words
        theirs = params[P_BITS] + (slot * 2 + 1 - me) * words
        for p in range(nn):
            r = p // n
            c = p - r * n
            out[k, r, c] = (state[mine + (p >> 4)] >> (p & 15)) & 1
            out[HISTORY + k, r, c] = (state[theirs + (p >> 4)] >> (p & 15)) & 1
    out[2 * HISTORY] = 1.0 if me == 0 else 0.0


@njit(cache=True)
def state_hash(params, state):
    """Identity of what the network sees: the last 8 boards (Zobrist, position-dependent mix), side to
    move, consecutive passes, ko point and symmetry frame. The older superko history is not included."""
    ply = state[H_PLY]
    h = np.int64(0)
    for k in range(min(ply + 1, HISTORY)):
        x = np.uint64(load_hash(params, state, ply - k))
        r = np.uint64(7 * k + 1)
        h ^= np.int64((x << r) | (x >> (np.uint64(64) - r)))
    h ^= _MIX_KEYS[_K_FRAME + state[H_FRAME]]
    if (state[H_FIRST] + ply) & 1:
        h ^= _MIX_KEYS[_K_SIDE]
    h ^= _MIX_KEYS[_K_PASSES + min(state[H_PASSES], 3)]
    h ^= _MIX_KEYS[_K_KO + state[H_KO] + 1]
    return h
