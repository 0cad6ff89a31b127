"""Making moves on a board (``make``) and the bookkeeping of a full state: hash, history planes, repetitions,
the fifty-move rule and the outcome (``apply_move``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING
from . import tables as T
from .attacks import (
    in_check,
)
from .bits import lsb, popcount
from .layout import (
    BISHOP,
    CASTLE,
    DARK_SQUARES,
    EP,
    FLAG_CASTLE,
    FLAG_EP,
    HALFMOVE,
    HASH,
    HASH_COUNT,
    HASH_RING,
    HASHES,
    HIST_LEN,
    HISTORY_SLOTS,
    KING,
    KNIGHT,
    LIGHT_SQUARES,
    MAILBOX,
    MODE_COUNT,
    MODE_LIST,
    OUTCOME,
    PAWN,
    PLY,
    QUEEN,
    REPS,
    ROOK,
    SIDE,
    WHITE_BB,
)
from .movegen import (
    generate,
    has_legal_ep,
)


@njit(cache=True)
def make(P, b, m):
    """Play internal move ``m`` on board ``b`` (indices 0..10) in place; returns the captured piece or -1.

    The en-passant square is set after a double step when an enemy pawn stands beside it (whether the
    capture is legal is decided by the generator)."""
    fr = m & 63
    to = (m >> 6) & 63
    promo = (m >> 12) & 7
    piece = (m >> 15) & 7
    us = b[SIDE]
    them = 1 - us
    fb = np.int64(1) << fr
    tb = np.int64(1) << to
    captured = -1
    if b[WHITE_BB + them] & tb:
        for t in range(KING):
            if b[t] & tb:
                b[t] ^= tb
                captured = t
                break
        b[WHITE_BB + them] ^= tb
    b[piece] ^= fb | tb
    b[WHITE_BB + us] ^= fb | tb
    new_ep = -1
    if piece == PAWN:
        if m & FLAG_EP:
            cb = np.int64(1) << (to - 8 if us == 0 else to + 8)
            b[PAWN] ^= cb
            b[WHITE_BB + them] ^= cb
            captured = PAWN
        elif promo:
            b[PAWN] ^= tb
            b[promo] |= tb
        elif to - fr == 16 or fr - to == 16:
            mid = (fr + to) >> 1
            if P[T.PAWN_ATT + us * 64 + mid] & b[PAWN] & b[WHITE_BB + them]:
                new_ep = mid
    elif m & FLAG_CASTLE:
        if to > fr:
            rb = (np.int64(1) << (to + 1)) | (np.int64(1) << (to - 1))
        else:
            rb = (np.int64(1) << (to - 2)) | (np.int64(1) << (to + 1))
        b[ROOK] ^= rb
        b[WHITE_BB + us] ^= rb
    b[CASTLE] &= P[T.CASTLE_MASK + fr] & P[T.CASTLE_MASK + to]
    b[EP] = new_ep
    b[SIDE] = them
    return captured


# ------------------------------------------------------------------------------------------ bookkeeping
@njit(cache=True)
def compute_hash(P, s):
    h = np.int64(0)
    for colour in range(2):
        for piece in range(6):
            bb = s[piece] & s[WHITE_BB + colour]
            while bb:
                h ^= P[T.ZOBRIST + (colour * 6 + piece) * 64 + lsb(bb)]
                bb &= bb - 1
    h ^= P[T.Z_CASTLE + s[CASTLE]]
    if s[EP] >= 0 and has_legal_ep(P, s):  # an en-passant square nobody can use is not part of the position
        h ^= P[T.Z_EP + (s[EP] & 7)]
    if s[SIDE]:
        h ^= P[T.Z_SIDE]
    return h


@njit(cache=True)
def insufficient_material(s):
    """Neither side can mate by any series of legal moves: K v K, K+N v K, and kings with bishops all on
    squares of one colour (the cases python-chess and FIDE's dead-position rule agree on)."""
    if s[PAWN] | s[ROOK] | s[QUEEN]:
        return False
    minors = s[KNIGHT] | s[BISHOP]
    if minors == 0:
        return True
    if s[KNIGHT]:
        return popcount(minors) == 1
    return (s[BISHOP] & DARK_SQUARES) == 0 or (s[BISHOP] & LIGHT_SQUARES) == 0


@njit(cache=True)
def _write_mailbox(s, slot):
    base = MAILBOX + 4 * slot
    for i in range(4):
        s[base + i] = 0
    for colour in range(2):
        for piece in range(6):
            bb = s[piece] & s[WHITE_BB + colour]
            code = np.int64(1 + colour * 6 + piece)
            while bb:
                sq = lsb(bb)
                bb &= bb - 1
                s[base + (sq >> 4)] |= code << ((sq & 15) * 4)


@njit(cache=True)
def _outcome_now(P, s, repetitions):
    """Game end: checkmate, stalemate, insufficient material, fifty-move rule, threefold repetition."""
    if generate(P, s, MODE_COUNT, P[:0], P[:0] != 0) == 0:
        if in_check(P, s):
            return -1 if s[SIDE] == 0 else 1
        return 0
    if insufficient_material(s) or s[HALFMOVE] >= 100 or repetitions >= 2:
        return 0
    return ONGOING


@njit(cache=True)
def _record(P, s, first):
    """After the board changed: hash, repetitions, history and outcome (``first``: a fresh position)."""
    h = compute_hash(P, s)
    s[HASH] = h
    ply = s[PLY]
    repetitions = 0
    if first:
        s[HASH_COUNT] = 0
        s[HIST_LEN] = 0
        s[REPS] = 0
    else:
        # equal hashes imply no pawn move or capture in between, so the halfmove clock bounds the search
        k = 2
        limit = min(s[HALFMOVE], s[HASH_COUNT])
        while k <= limit:
            if s[HASHES + (ply - k) % HASH_RING] == h:
                repetitions += 1
            k += 2
    s[HASHES + ply % HASH_RING] = h
    s[HASH_COUNT] = min(s[HASH_COUNT] + 1, HASH_RING)
    slot = ply % HISTORY_SLOTS
    s[REPS] = (s[REPS] & ~(np.int64(3) << (2 * slot))) | (np.int64(min(repetitions, 3)) << (2 * slot))
    s[HIST_LEN] = min(s[HIST_LEN] + 1, HISTORY_SLOTS)
    _write_mailbox(s, slot)
    s[OUTCOME] = _outcome_now(P, s, repetitions)


@njit(cache=True)
def setup(params, s):
    """Complete a state whose board (0..10), halfmove clock and ply are set: a fresh position, no history."""
    _record(params, s, True)


@njit(cache=True)
def apply_move(params, state, move):
    """Play an internal (legal) move with full bookkeeping."""
    piece = (move >> 15) & 7
    captured = make(params, state, move)
    state[PLY] += 1
    if piece == PAWN or captured >= 0:
        state[HALFMOVE] = 0
    else:
        state[HALFMOVE] += 1
    _record(params, state, False)


@njit(cache=True)
def repetitions(s):
    """Earlier occurrences of the current position (2 = threefold repetition)."""
    return (s[REPS] >> (2 * (s[PLY] % HISTORY_SLOTS))) & 3


@njit(cache=True)
def legal_moves(params, state, moves):
    """Internal legal moves of the position into ``moves`` (int64[256]), ignoring draws by rule."""
    return generate(params, state, MODE_LIST, moves, params[:0] != 0)


@njit(cache=True)
def count_legal(params, state):
    return generate(params, state, MODE_COUNT, params[:0], params[:0] != 0)
