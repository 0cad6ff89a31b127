"""Attacks on bitboards: magic sliding attacks from the tables of ``games.chess.tables``, attacked squares,
checkers and check."""

from __future__ import annotations

from numba import njit

from . import tables as T
from .bits import lsb, shr
from .layout import (
    BISHOP,
    BLACK_BB,
    KING,
    KNIGHT,
    PAWN,
    QUEEN,
    ROOK,
    SIDE,
    WHITE_BB,
)


@njit(cache=True)
def rook_attacks(P, sq, occ):
    idx = shr((occ & P[T.R_MASK + sq]) * P[T.R_MAGIC + sq], P[T.R_SHIFT + sq])
    return P[P[T.R_OFF + sq] + idx]


@njit(cache=True)
def bishop_attacks(P, sq, occ):
    idx = shr((occ & P[T.B_MASK + sq]) * P[T.B_MAGIC + sq], P[T.B_SHIFT + sq])
    return P[P[T.B_OFF + sq] + idx]


@njit(cache=True)
def attacked(P, b, sq, us, them_bb, occ):
    """Is ``sq`` attacked by the pieces in ``them_bb`` (the side not ``us``) with occupancy ``occ``?"""
    if P[T.KNIGHT + sq] & b[KNIGHT] & them_bb:
        return True
    if P[T.PAWN_ATT + us * 64 + sq] & b[PAWN] & them_bb:  # their pawns stand where our pawn on sq would attack
        return True
    if P[T.KING + sq] & b[KING] & them_bb:
        return True
    if rook_attacks(P, sq, occ) & (b[ROOK] | b[QUEEN]) & them_bb:
        return True
    if bishop_attacks(P, sq, occ) & (b[BISHOP] | b[QUEEN]) & them_bb:
        return True
    return False


@njit(cache=True)
def checkers_of(P, b, us, ksq, occ):
    them_bb = b[WHITE_BB + 1 - us]
    c = (P[T.KNIGHT + ksq] & b[KNIGHT]) | (P[T.PAWN_ATT + us * 64 + ksq] & b[PAWN])
    c |= rook_attacks(P, ksq, occ) & (b[ROOK] | b[QUEEN])
    c |= bishop_attacks(P, ksq, occ) & (b[BISHOP] | b[QUEEN])
    return c & them_bb


@njit(cache=True)
def in_check(P, b):
    us = b[SIDE]
    own = b[WHITE_BB + us]
    occ = b[WHITE_BB] | b[BLACK_BB]
    return checkers_of(P, b, us, lsb(b[KING] & own), occ) != 0
