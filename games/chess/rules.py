"""Chess rules as Numba kernels over flat ``int64`` arrays (bitboards, magic sliding attacks, legal generation).

Move generation is legal, not pseudo-legal: checkers, pinned pieces and check-evasion targets are computed
once per position (the "pin-aware" generator of the Chess Programming Wiki), so counting the moves of the
last ply of a perft needs no make/unmake (bulk counting). Only the king's steps and en-passant captures are
tested square by square.

**State** (``int64[STATE_SIZE]``, one per search node, 1.2 KB):

============  =======================================================================================
index         content
============  =======================================================================================
0..5          piece bitboards: pawns, knights, bishops, rooks, queens, kings (both colours)
6, 7          colour bitboards: white, black
8             side to move (0 white, 1 black)
9             castling rights: 1 white O-O, 2 white O-O-O, 4 black O-O, 8 black O-O-O
10            en-passant target square after a double step next to an enemy pawn, or -1 (the hash and
              the FEN include it only when a capture there is legal, as FIDE 9.2 defines a position)
11            halfmove clock (plies since the last capture or pawn move; fifty-move rule)
12            ply: 2 * (fullmove number - 1) + side to move
13            outcome: ``ONGOING`` or +1 / 0 / -1 from white's view, set by ``apply``
14            Zobrist hash of the position (pieces, side, castling rights, en-passant file)
15            positions of history held (current one included, at most 8)
16            hashes held in the repetition ring (at most 100)
17            repetition counts, 2 bits per history slot (earlier occurrences of that position)
18..49        history: 8 positions x 4 words, a 4-bit piece code per square (0 empty, 1..6 white
              P N B R Q K, 7..12 black), slot ``ply % 8``
50..149       Zobrist hashes of the last 100 positions, slot ``ply % 100`` (threefold repetition
              within the fifty-move window)
============  =======================================================================================

Indices 0..10 are a *board*: the move generator and ``make`` read and write only those, so perft runs on
11-word boards. ``apply`` (the game API) adds the clocks, hash, history, repetition and the outcome.

**Moves** inside the kernels are ``int64``: bits 0-5 from, 6-11 to, 12-14 promotion piece (0 none, else
1 knight .. 4 queen), 15-17 the moving piece (0 pawn .. 5 king), bit 18 en passant, bit 19 castling.

**Actions** (the policy, AlphaZero's 8x8x73 = 4,672; Silver et al. 2018, "A general reinforcement learning
algorithm that masters chess, shogi and Go through self-play"): ``action = plane * 64 + cell``, where
``cell = row * 8 + column`` of the from-square on the board seen from the side to move (row 0 = the far
rank, ranks flipped for black, files kept) and ``plane`` is one of 73 move types: 0..55 queen-like moves
(``direction * 7 + distance - 1``, directions N, NE, E, SE, S, SW, W, NW from the mover's view), 56..63
knight moves, 64..72 underpromotions (``64 + 3 * piece + (file step + 1)``, piece 0 knight, 1 bishop,
2 rook). Promotion to a queen is the plain pawn move; castling is the king's two-square move.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING
from . import tables as T
from .bits import lsb, popcount, shr

# ------------------------------------------------------------------------------------------ state layout
PAWN, KNIGHT, BISHOP, ROOK, QUEEN, KING = 0, 1, 2, 3, 4, 5
WHITE_BB, BLACK_BB = 6, 7
SIDE, CASTLE, EP, HALFMOVE, PLY, OUTCOME, HASH, HIST_LEN, HASH_COUNT, REPS = range(8, 18)
MAILBOX = 18
HISTORY_SLOTS = 8
HASHES = MAILBOX + 4 * HISTORY_SLOTS
HASH_RING = 100
STATE_SIZE = HASHES + HASH_RING
BOARD_SIZE = 11

FLAG_EP = 1 << 18
FLAG_CASTLE = 1 << 19

NUM_ACTIONS = 73 * 64
PLANES_PER_STEP = 14
EXTRA_PLANES = 7

MODE_COUNT, MODE_LIST, MODE_MASK = 0, 1, 2


def _i64(x: int) -> int:
    return x - (1 << 64) if x >= 1 << 63 else x


FILE_A = _i64(0x0101010101010101)
FILE_H = _i64(0x8080808080808080)
RANK_1 = _i64(0xFF)
RANK_3 = _i64(0xFF << 16)
RANK_6 = _i64(0xFF << 40)
RANK_8 = _i64(0xFF << 56)
DARK_SQUARES = _i64(0xAA55AA55AA55AA55)
LIGHT_SQUARES = _i64(~0xAA55AA55AA55AA55 & (2**64 - 1))

# direction index of a queen-like step (sign of rank step + 1) * 3 + (sign of file step + 1)
_DIR_OF_SIGN = np.array([5, 4, 3, 6, -1, 2, 7, 0, 1], dtype=np.int64)
_DIR_DR = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
_DIR_DF = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
_KNIGHT_DR = np.array([2, 1, -1, -2, -2, -1, 1, 2], dtype=np.int64)
_KNIGHT_DF = np.array([1, 2, 2, 1, -1, -2, -2, -1], dtype=np.int64)
# knight move index of (rank step + 2) * 5 + (file step + 2)
_KNIGHT_OF_STEP = np.full(25, -1, dtype=np.int64)
for _k in range(8):
    _KNIGHT_OF_STEP[(_KNIGHT_DR[_k] + 2) * 5 + _KNIGHT_DF[_k] + 2] = _k
del _k


# ------------------------------------------------------------------------------------------ attacks
@njit(cache=True)
def rook_attacks(P, sq, occ):
    idx = shr((occ & P[T.R_MASK + sq]) * P[T.R_MAGIC + sq], P[T.R_SHIFT + sq])
    return P[P[T.R_OFF + sq] + idx]


@njit(cache=True)
def bishop_attacks(P, sq, occ):
    idx = shr((occ & P[T.B_MASK + sq]) * P[T.B_MAGIC + sq], P[T.B_SHIFT + sq])
    return P[P[T.B_OFF + sq] + idx]


@njit(cache=True)
def _attacked(P, b, sq, us, them_bb, occ):
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
def _checkers(P, b, us, ksq, occ):
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
    return _checkers(P, b, us, lsb(b[KING] & own), occ) != 0


# ------------------------------------------------------------------------------------------ actions
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
        plane = 56 + _KNIGHT_OF_STEP[(dr + 2) * 5 + df + 2]
    else:
        dist = max(abs(dr), abs(df))
        sdr = (dr > 0) - (dr < 0)
        sdf = (df > 0) - (df < 0)
        plane = _DIR_OF_SIGN[(sdr + 1) * 3 + sdf + 1] * 7 + dist - 1
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
        dr = _DIR_DR[d] * dist
        df = _DIR_DF[d] * dist
    elif plane < 64:
        dr = _KNIGHT_DR[plane - 56]
        df = _KNIGHT_DF[plane - 56]
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


# ------------------------------------------------------------------------------------------ generation
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
    return not _attacked(P, b, ksq, us, them_bb ^ (np.int64(1) << cap), occ)


@njit(cache=True)
def generate(P, b, mode, moves, mask):
    """Legal moves of board ``b``: counted (``MODE_COUNT``), listed into ``moves`` or marked in the action
    ``mask`` (``MODE_MASK``, cleared by the caller). Returns their number."""
    us = b[SIDE]
    own = b[WHITE_BB + us]
    them_bb = b[WHITE_BB + 1 - us]
    occ = own | them_bb
    ksq = lsb(b[KING] & own)
    rq_them = (b[ROOK] | b[QUEEN]) & them_bb
    bq_them = (b[BISHOP] | b[QUEEN]) & them_bb
    checkers = _checkers(P, b, us, ksq, occ)
    n = 0
    # king steps: each square tested with the king lifted off the board (it must not hide behind itself)
    occ_no_king = occ ^ (np.int64(1) << ksq)
    tg = P[T.KING + ksq] & ~own
    while tg:
        to = lsb(tg)
        tg &= tg - 1
        if not _attacked(P, b, to, us, them_bb, occ_no_king):
            n = _emit_one(mode, us, ksq | (to << 6) | (KING << 15), moves, mask, n)
    if checkers & (checkers - 1):
        return n  # double check: only the king moves
    if checkers:
        target = checkers | P[T.BETWEEN + ksq * 64 + lsb(checkers)]
    else:
        target = ~own
    # pinned pieces: ours alone between the king and an enemy slider on an open line
    pinned = np.int64(0)
    snipers = (rook_attacks(P, ksq, them_bb) & rq_them) | (bishop_attacks(P, ksq, them_bb) & bq_them)
    while snipers:
        s = lsb(snipers)
        snipers &= snipers - 1
        btw = P[T.BETWEEN + ksq * 64 + s] & occ
        if btw and not (btw & (btw - 1)) and (btw & own):
            pinned |= btw
    # knights (a pinned knight never moves)
    pieces = b[KNIGHT] & own & ~pinned
    while pieces:
        fr = lsb(pieces)
        pieces &= pieces - 1
        n = _emit(mode, us, fr, P[T.KNIGHT + fr] & target, KNIGHT, moves, mask, n)
    # diagonal and orthogonal sliders; a pinned one stays on the line through the king
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
    # pawns: set-wise for the free ones
    pawns = b[PAWN] & own
    free = pawns & ~pinned
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
    # pinned pawns, one by one, along their pin line
    pieces = pawns & pinned
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
    # en passant
    ep = b[EP]
    if ep >= 0:
        cands = P[T.PAWN_ATT + (1 - us) * 64 + ep] & pawns
        while cands:
            fr = lsb(cands)
            cands &= cands - 1
            if _ep_legal(P, b, us, fr, ep, ksq):
                n = _emit_one(mode, us, fr | (ep << 6) | FLAG_EP, moves, mask, n)
    # castling: not out of, through or into check; the rights imply king and rook are home
    if not checkers:
        rights = b[CASTLE] >> (2 * us)
        home = 56 * us
        if rights & 1 and not (occ & (np.int64(0x60) << home)) \
                and not _attacked(P, b, home + 5, us, them_bb, occ) and not _attacked(P, b, home + 6, us, them_bb, occ):
            n = _emit_one(mode, us, (home + 4) | ((home + 6) << 6) | (KING << 15) | FLAG_CASTLE, moves, mask, n)
        if rights & 2 and not (occ & (np.int64(0x0E) << home)) \
                and not _attacked(P, b, home + 3, us, them_bb, occ) and not _attacked(P, b, home + 2, us, them_bb, occ):
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


# ------------------------------------------------------------------------------------------ making moves
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


# ------------------------------------------------------------------------------------------ the game API
@njit(cache=True)
def init_state(params):
    s = np.zeros(STATE_SIZE, dtype=np.int64)
    s[PAWN] = np.int64(0x00FF00000000FF00)
    s[KNIGHT] = np.int64(0x4200000000000042)
    s[BISHOP] = np.int64(0x2400000000000024)
    s[ROOK] = np.int64(0x81) | (np.int64(0x81) << 56)
    s[QUEEN] = np.int64(0x08) | (np.int64(0x08) << 56)
    s[KING] = np.int64(0x10) | (np.int64(0x10) << 56)
    s[WHITE_BB] = np.int64(0xFFFF)
    s[BLACK_BB] = np.int64(0xFFFF) << 48
    s[CASTLE] = 15
    s[EP] = -1
    setup(params, s)
    return s


@njit(cache=True)
def legal_mask(params, state, out):
    out[:] = False
    if state[OUTCOME] != ONGOING:
        return 0
    return generate(params, state, MODE_MASK, params[:0], out)


@njit(cache=True)
def apply(params, state, action):
    apply_move(params, state, action_to_move(params, state, action))


@njit(cache=True)
def outcome(params, state):
    return state[OUTCOME]


@njit(cache=True)
def to_play(params, state):
    return state[SIDE]


@njit(cache=True)
def state_hash(params, state):
    return state[HASH]


@njit(cache=True)
def encode(params, state, out):
    """AlphaZero's input planes, from the side to move's view (ranks flipped for black).

    For each of ``params[HISTORY]`` positions, newest first (zeros before the game or FEN start): 6 planes of
    the mover's pieces (P N B R Q K), 6 of the opponent's, and 2 repetition planes (the position occurred
    before once / twice). Then 7 planes: white to move (all ones), ply / 512, the mover's O-O and O-O-O
    rights, the opponent's O-O and O-O-O rights, halfmove clock / 100.
    """
    out[:] = 0.0
    steps = params[T.HISTORY]
    us = state[SIDE]
    flip = 56 if us == 0 else 0  # cell = square ^ flip puts the mover's first rank at the bottom row
    ply = state[PLY]
    held = min(steps, state[HIST_LEN])
    for t in range(held):
        slot = (ply - t) % HISTORY_SLOTS
        base = MAILBOX + 4 * slot
        plane0 = t * PLANES_PER_STEP
        for w in range(4):
            word = state[base + w]
            sq = w * 16
            while word:
                code = word & 15
                if code:
                    code -= 1
                    colour = code // 6
                    piece = code - 6 * colour
                    plane = plane0 + piece + (0 if colour == us else 6)
                    cell = sq ^ flip
                    out[plane, cell >> 3, cell & 7] = 1.0
                word = shr(word, 4)
                sq += 1
        reps = (state[REPS] >> (2 * slot)) & 3
        if reps >= 1:
            out[plane0 + 12] = 1.0
        if reps >= 2:
            out[plane0 + 13] = 1.0
    base = steps * PLANES_PER_STEP
    if us == 0:
        out[base] = 1.0
    out[base + 1] = ply / 512.0
    rights = state[CASTLE]
    mine = rights >> (2 * us)
    theirs = rights >> (2 - 2 * us)
    if mine & 1:
        out[base + 2] = 1.0
    if mine & 2:
        out[base + 3] = 1.0
    if theirs & 1:
        out[base + 4] = 1.0
    if theirs & 2:
        out[base + 5] = 1.0
    out[base + 6] = state[HALFMOVE] / 100.0


# ------------------------------------------------------------------------------------------ perft
@njit(cache=True)
def perft(params, state, depth):
    """Legal move sequences of exactly ``depth`` plies (draws by rule ignored), bulk-counting the last ply."""
    if depth <= 0:
        return np.int64(1)
    if depth == 1:
        return np.int64(count_legal(params, state))
    boards = np.empty((depth, 16), dtype=np.int64)
    moves = np.empty((depth, 256), dtype=np.int64)
    count = np.zeros(depth, dtype=np.int64)
    index = np.zeros(depth, dtype=np.int64)
    no_mask = np.zeros(0, dtype=np.bool_)
    for i in range(BOARD_SIZE):
        boards[0, i] = state[i]
    count[0] = generate(params, boards[0], MODE_LIST, moves[0], no_mask)
    total = np.int64(0)
    ply = 0
    while ply >= 0:
        if index[ply] == count[ply]:
            ply -= 1
            continue
        m = moves[ply, index[ply]]
        index[ply] += 1
        child = boards[ply + 1]
        parent = boards[ply]
        for i in range(BOARD_SIZE):
            child[i] = parent[i]
        make(params, child, m)
        if ply + 2 == depth:
            total += generate(params, child, MODE_COUNT, moves[0], no_mask)
        else:
            ply += 1
            count[ply] = generate(params, child, MODE_LIST, moves[ply], no_mask)
            index[ply] = 0
    return total
