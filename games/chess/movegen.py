"""Legal move generation, pin-aware: checkers, pinned pieces and check-evasion targets are computed once per
position, so the last ply of a perft is counted without making its moves."""

from __future__ import annotations

import numpy as np
from numba import njit

from . import tables as T
from .actions import (
    move_to_action,
)
from .attacks import (
    attacked,
    bishop_attacks,
    checkers_of,
    rook_attacks,
)
from .bits import lsb, popcount, shr
from .layout import (
    BISHOP,
    BLACK_BB,
    CASTLE,
    EP,
    FILE_A,
    FILE_H,
    FLAG_CASTLE,
    FLAG_EP,
    KING,
    KNIGHT,
    MODE_COUNT,
    MODE_LIST,
    MODE_MASK,
    PAWN,
    QUEEN,
    RANK_1,
    RANK_3,
    RANK_6,
    RANK_8,
    ROOK,
    SIDE,
    WHITE_BB,
)


@njit(cache=True)
def _emit(mode, us, fr, targets, piece, moves, mask, n):
    if mode == MODE_COUNT:
        return n + popcount(targets)
    while targets:
        to = lsb(targets)
        targets &= targets - 1
        m = fr | (to << 6) | (piece << 15)
        if mode == MODE_LIST:
            moves[n] = m
        else:
            mask[move_to_action(us, m)] = True
        n += 1
    return n


@njit(cache=True)
def _emit_one(mode, us, m, moves, mask, n):
    if mode == MODE_LIST:
        moves[n] = m
    elif mode == MODE_MASK:
        mask[move_to_action(us, m)] = True
    return n + 1


@njit(cache=True)
def _emit_pawns(mode, us, targets, delta, promote, moves, mask, n):
    """Pawn moves to ``targets`` from ``to - delta``; ``promote``: each is four moves (queen .. knight)."""
    if mode == MODE_COUNT:
        return n + popcount(targets) * (4 if promote else 1)
    while targets:
        to = lsb(targets)
        targets &= targets - 1
        m = (to - delta) | (to << 6)  # piece bits: PAWN == 0
        if promote:
            for p in range(QUEEN, PAWN, -1):
                n = _emit_one(mode, us, m | (p << 12), moves, mask, n)
        else:
            n = _emit_one(mode, us, m, moves, mask, n)
    return n


@njit(cache=True)
def _ep_legal(P, b, us, fr, ep, ksq):
    """Does capturing en passant from ``fr`` leave our king safe? (The two pawns leave one rank at once, so
    pins along the rank are missed by the pin mask: test the resulting position directly.)"""
    them_bb = b[WHITE_BB + 1 - us]
    cap = ep - 8 if us == 0 else ep + 8
    occ = ((b[WHITE_BB] | b[BLACK_BB]) ^ (np.int64(1) << fr) ^ (np.int64(1) << cap)) | (np.int64(1) << ep)
    return not attacked(P, b, ksq, us, them_bb ^ (np.int64(1) << cap), occ)


@njit(cache=True)
def generate(P, b, mode, moves, mask):
    """Legal moves of board ``b``: counted (``MODE_COUNT``), listed into ``moves`` or marked in the action
    ``mask`` (``MODE_MASK``, cleared by the caller). Returns their number."""
    us = b[SIDE]
    own = b[WHITE_BB + us]
    them_bb = b[WHITE_BB + 1 - us]
    occ = own | them_bb
    ksq = lsb(b[KING] & own)
    checkers = checkers_of(P, b, us, ksq, occ)
    n = _king_steps(P, b, mode, us, own, them_bb, occ, ksq, moves, mask, 0)
    if checkers & (checkers - 1):
        return n  # double check: only the king moves
    if checkers:
        target = checkers | P[T.BETWEEN + ksq * 64 + lsb(checkers)]
    else:
        target = ~own
    pinned = _pinned(P, b, own, them_bb, occ, ksq)
    n = _piece_moves(P, b, mode, us, own, occ, ksq, target, pinned, moves, mask, n)
    n = _free_pawn_moves(b, mode, us, own, them_bb, occ, target, pinned, moves, mask, n)
    n = _pinned_pawn_moves(P, b, mode, us, own, them_bb, occ, ksq, target, pinned, moves, mask, n)
    ep = b[EP]
    if ep >= 0:
        cands = P[T.PAWN_ATT + (1 - us) * 64 + ep] & b[PAWN] & own
        while cands:
            fr = lsb(cands)
            cands &= cands - 1
            if _ep_legal(P, b, us, fr, ep, ksq):
                n = _emit_one(mode, us, fr | (ep << 6) | FLAG_EP, moves, mask, n)
    if not checkers:
        n = _castling(P, b, mode, us, them_bb, occ, moves, mask, n)
    return n


@njit(cache=True)
def _king_steps(P, b, mode, us, own, them_bb, occ, ksq, moves, mask, n):
    """King steps: each square tested with the king lifted off the board (it must not hide behind itself)."""
    occ_no_king = occ ^ (np.int64(1) << ksq)
    tg = P[T.KING + ksq] & ~own
    while tg:
        to = lsb(tg)
        tg &= tg - 1
        if not attacked(P, b, to, us, them_bb, occ_no_king):
            n = _emit_one(mode, us, ksq | (to << 6) | (KING << 15), moves, mask, n)
    return n


@njit(cache=True)
def _pinned(P, b, own, them_bb, occ, ksq):
    """Pinned pieces: ours alone between the king and an enemy slider on an open line."""
    rq_them = (b[ROOK] | b[QUEEN]) & them_bb
    bq_them = (b[BISHOP] | b[QUEEN]) & them_bb
    pinned = np.int64(0)
    snipers = (rook_attacks(P, ksq, them_bb) & rq_them) | (bishop_attacks(P, ksq, them_bb) & bq_them)
    while snipers:
        s = lsb(snipers)
        snipers &= snipers - 1
        btw = P[T.BETWEEN + ksq * 64 + s] & occ
        if btw and not (btw & (btw - 1)) and (btw & own):
            pinned |= btw
    return pinned


@njit(cache=True)
def _piece_moves(P, b, mode, us, own, occ, ksq, target, pinned, moves, mask, n):
    """Knights (a pinned knight never moves), then diagonal and orthogonal sliders (a pinned one stays on the
    line through the king)."""
    pieces = b[KNIGHT] & own & ~pinned
    while pieces:
        fr = lsb(pieces)
        pieces &= pieces - 1
        n = _emit(mode, us, fr, P[T.KNIGHT + fr] & target, KNIGHT, moves, mask, n)
    pieces = (b[BISHOP] | b[QUEEN]) & own
    while pieces:
        fr = lsb(pieces)
        fb = np.int64(1) << fr
        pieces &= pieces - 1
        att = bishop_attacks(P, fr, occ) & target
        if pinned & fb:
            att &= P[T.LINE + ksq * 64 + fr]
        n = _emit(mode, us, fr, att, BISHOP if b[BISHOP] & fb else QUEEN, moves, mask, n)
    pieces = (b[ROOK] | b[QUEEN]) & own
    while pieces:
        fr = lsb(pieces)
        fb = np.int64(1) << fr
        pieces &= pieces - 1
        att = rook_attacks(P, fr, occ) & target
        if pinned & fb:
            att &= P[T.LINE + ksq * 64 + fr]
        n = _emit(mode, us, fr, att, ROOK if b[ROOK] & fb else QUEEN, moves, mask, n)
    return n


@njit(cache=True)
def _free_pawn_moves(b, mode, us, own, them_bb, occ, target, pinned, moves, mask, n):
    """Moves of the pawns that are not pinned, set-wise: pushes, double pushes, captures, promotions."""
    free = b[PAWN] & own & ~pinned
    empty = ~occ
    if us == 0:
        single = (free << 8) & empty
        double = ((single & RANK_3) << 8) & empty & target
        left = ((free & ~FILE_A) << 7) & them_bb & target
        right = ((free & ~FILE_H) << 9) & them_bb & target
        last = RANK_8
        d_single, d_left, d_right = 8, 7, 9
    else:
        single = shr(free, 8) & empty
        double = shr(single & RANK_6, 8) & empty & target
        left = shr(free & ~FILE_A, 9) & them_bb & target
        right = shr(free & ~FILE_H, 7) & them_bb & target
        last = RANK_1
        d_single, d_left, d_right = -8, -9, -7
    single &= target
    n = _emit_pawns(mode, us, single & ~last, d_single, False, moves, mask, n)
    n = _emit_pawns(mode, us, single & last, d_single, True, moves, mask, n)
    n = _emit_pawns(mode, us, double, 2 * d_single, False, moves, mask, n)
    n = _emit_pawns(mode, us, left & ~last, d_left, False, moves, mask, n)
    n = _emit_pawns(mode, us, left & last, d_left, True, moves, mask, n)
    n = _emit_pawns(mode, us, right & ~last, d_right, False, moves, mask, n)
    n = _emit_pawns(mode, us, right & last, d_right, True, moves, mask, n)
    return n


@njit(cache=True)
def _pinned_pawn_moves(P, b, mode, us, own, them_bb, occ, ksq, target, pinned, moves, mask, n):
    """Moves of the pinned pawns, one by one, along their pin line."""
    d_single = 8 if us == 0 else -8
    pieces = b[PAWN] & own & pinned
    while pieces:
        fr = lsb(pieces)
        pieces &= pieces - 1
        line = P[T.LINE + ksq * 64 + fr] & target
        one = fr + d_single
        if not (occ & (np.int64(1) << one)):
            if line & (np.int64(1) << one):
                n = _emit_pawns(mode, us, np.int64(1) << one, d_single, (one >> 3) == (7 - 7 * us), moves, mask, n)
            two = one + d_single
            if (fr >> 3) == (1 + 5 * us) and not (occ & (np.int64(1) << two)) and line & (np.int64(1) << two):
                n = _emit_pawns(mode, us, np.int64(1) << two, 2 * d_single, False, moves, mask, n)
        caps = P[T.PAWN_ATT + us * 64 + fr] & them_bb & line
        while caps:
            to = lsb(caps)
            caps &= caps - 1
            n = _emit_pawns(mode, us, np.int64(1) << to, to - fr, (to >> 3) == (7 - 7 * us), moves, mask, n)
    return n


@njit(cache=True)
def _castling(P, b, mode, us, them_bb, occ, moves, mask, n):
    """Castling: not out of (the caller checks), through or into check; the rights imply king and rook are
    home."""
    rights = b[CASTLE] >> (2 * us)
    home = 56 * us
    if rights & 1 and not (occ & (np.int64(0x60) << home)) \
            and not attacked(P, b, home + 5, us, them_bb, occ) and not attacked(P, b, home + 6, us, them_bb, occ):
        n = _emit_one(mode, us, (home + 4) | ((home + 6) << 6) | (KING << 15) | FLAG_CASTLE, moves, mask, n)
    if rights & 2 and not (occ & (np.int64(0x0E) << home)) \
            and not attacked(P, b, home + 3, us, them_bb, occ) and not attacked(P, b, home + 2, us, them_bb, occ):
        n = _emit_one(mode, us, (home + 4) | ((home + 2) << 6) | (KING << 15) | FLAG_CASTLE, moves, mask, n)
    return n


@njit(cache=True)
def has_legal_ep(P, b):
    ep = b[EP]
    if ep < 0:
        return False
    us = b[SIDE]
    own = b[WHITE_BB + us]
    ksq = lsb(b[KING] & own)
    cands = P[T.PAWN_ATT + (1 - us) * 64 + ep] & b[PAWN] & own
    while cands:
        fr = lsb(cands)
        cands &= cands - 1
        if _ep_legal(P, b, us, fr, ep, ksq):
            return True
    return False
