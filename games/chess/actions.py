"""Moves and AlphaZero's 8x8x73 actions: ``move_to_action`` and ``action_to_move`` (layout in
``games.chess.rules``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .layout import (
    EP,
    FLAG_CASTLE,
    FLAG_EP,
    KING,
    NUM_ACTIONS,
    PAWN,
    QUEEN,
    SIDE,
    WHITE_BB,
)

# direction index of a queen-like step (sign of rank step + 1) * 3 + (sign of file step + 1)
DIR_OF_SIGN = np.array([5, 4, 3, 6, -1, 2, 7, 0, 1], dtype=np.int64)
DIR_DR = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
DIR_DF = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
KNIGHT_DR = np.array([2, 1, -1, -2, -2, -1, 1, 2], dtype=np.int64)
KNIGHT_DF = np.array([1, 2, 2, 1, -1, -2, -2, -1], dtype=np.int64)
# knight move index of (rank step + 2) * 5 + (file step + 2)
KNIGHT_OF_STEP = np.full(25, -1, dtype=np.int64)
for _k in range(8):
    KNIGHT_OF_STEP[(KNIGHT_DR[_k] + 2) * 5 + KNIGHT_DF[_k] + 2] = _k
del _k


@njit(cache=True)
def move_to_action(us, move):
    """The AlphaZero action index of an internal move made by side ``us``."""
    fr = move & 63
    to = (move >> 6) & 63
    promo = (move >> 12) & 7
    flip = 56 * us
    rf = fr ^ flip
    rt = to ^ flip
    dr = (rt >> 3) - (rf >> 3)
    df = (rt & 7) - (rf & 7)
    if promo != 0 and promo != QUEEN:
        plane = 64 + (promo - 1) * 3 + df + 1
    elif dr * dr + df * df == 5:
        plane = 56 + KNIGHT_OF_STEP[(dr + 2) * 5 + df + 2]
    else:
        dist = max(abs(dr), abs(df))
        sdr = (dr > 0) - (dr < 0)
        sdf = (df > 0) - (df < 0)
        plane = DIR_OF_SIGN[(sdr + 1) * 3 + sdf + 1] * 7 + dist - 1
    return plane * 64 + (rf ^ 56)


@njit(cache=True)
def action_to_move(P, b, action):
    """The internal move an action stands for in board ``b``, or -1 when it names no move of the mover's pieces
    (an empty or enemy from-square, a step off the board, an underpromotion of a non-promoting piece).
    The move is not checked for legality."""
    if action < 0 or action >= NUM_ACTIONS:
        return -1
    plane = action // 64
    rf = (action % 64) ^ 56
    us = b[SIDE]
    flip = 56 * us
    fr = rf ^ flip
    rr = rf >> 3
    rfile = rf & 7
    promo = 0
    if plane < 56:
        d = plane // 7
        dist = plane % 7 + 1
        dr = DIR_DR[d] * dist
        df = DIR_DF[d] * dist
    elif plane < 64:
        dr = KNIGHT_DR[plane - 56]
        df = KNIGHT_DF[plane - 56]
    else:
        u = plane - 64
        promo = 1 + u // 3
        dr = 1
        df = u % 3 - 1
    tr = rr + dr
    tf = rfile + df
    if tr < 0 or tr > 7 or tf < 0 or tf > 7:
        return -1
    to = (tr * 8 + tf) ^ flip
    fb = np.int64(1) << fr
    if not (b[WHITE_BB + us] & fb):
        return -1
    piece = 0
    while not (b[piece] & fb):
        piece += 1
    flags = 0
    if piece == PAWN:
        if tr == 7:
            if promo == 0:
                promo = QUEEN
        elif promo != 0:
            return -1
        if df != 0 and to == b[EP]:
            flags = FLAG_EP
    elif promo != 0:
        return -1
    if piece == KING and (df == 2 or df == -2):
        flags = FLAG_CASTLE
    return fr | (to << 6) | (promo << 12) | (piece << 15) | flags
