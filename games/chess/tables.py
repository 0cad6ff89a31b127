"""Precomputed chess tables, packed into the game's ``params`` array.

Numba freezes a global NumPy array into every compiled function that reads it (a 110k-entry table costs
about a second per function to load from the cache), so the lookup tables travel in ``params``, the
``int64`` array every kernel of the game API already receives first. ``params`` holds:

* the configuration (``params[HISTORY]``: positions of history in the network input, 1..8);
* knight, king and pawn attack sets per square; squares strictly ``BETWEEN`` two aligned squares and the
  full ``LINE`` through them (for pins and check evasions); the castling-rights mask of each square;
* magic bitboards for sliding pieces (fancy magics: per square a relevant-occupancy mask, a magic
  multiplier, a shift and an offset into one shared attack table; Kannan's scheme as described on the Chess
  Programming Wiki). The magics are found at import by a seeded search (deterministic, ~0.1 s);
* Zobrist keys (Zobrist 1970, "A new hashing method with application for game playing"): 12 x 64 piece-square
  keys, 16 castling-rights keys, 8 en-passant-file keys and the side-to-move key.

Squares: ``a1 = 0, b1 = 1, ..., h1 = 7, a2 = 8, ..., h8 = 63`` (``rank * 8 + file``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .bits import popcount, shr

# ------------------------------------------------------------------------------------------ layout of params
HISTORY = 0
"""params[HISTORY]: number of positions (current + previous) in the network input planes, 1..8."""
HEADER = 8
KNIGHT = HEADER
KING = KNIGHT + 64
PAWN_ATT = KING + 64  # [colour * 64 + sq]: squares a pawn of that colour on sq attacks
BETWEEN = PAWN_ATT + 128  # [a * 64 + b]: squares strictly between a and b when on one line, else 0
LINE = BETWEEN + 4096  # [a * 64 + b]: the whole line through a and b (edge to edge) when aligned, else 0
CASTLE_MASK = LINE + 4096  # rights &= mask[from] & mask[to]
R_MASK = CASTLE_MASK + 64
R_MAGIC = R_MASK + 64
R_SHIFT = R_MAGIC + 64
R_OFF = R_SHIFT + 64  # absolute index into params of the square's first attack entry
B_MASK = R_OFF + 64
B_MAGIC = B_MASK + 64
B_SHIFT = B_MAGIC + 64
B_OFF = B_SHIFT + 64
ZOBRIST = B_OFF + 64
Z_CASTLE = ZOBRIST + 12 * 64  # 16 keys, one per castling-rights value
Z_EP = Z_CASTLE + 16  # 8 keys, one per en-passant file
Z_SIDE = Z_EP + 8  # black to move
ATTACKS = Z_SIDE + 1

ROOK_DIRS = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.int64)  # (rank step, file step)
BISHOP_DIRS = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=np.int64)
MAGIC_SEED = 0x2545F4914F6CDD1D
ZOBRIST_SEED = 0x9E3779B97F4A7C15 - (1 << 64)  # as int64


@njit(cache=True)
def _xorshift(seed):
    """xorshift64* step (Vigna 2016); ``seed`` is a 1-element state array."""
    x = seed[0]
    x ^= shr(x, 12)
    x ^= x << 25
    x ^= shr(x, 27)
    seed[0] = x
    return x * np.int64(2685821657736338717)


@njit(cache=True)
def _slide(sq, occ, dirs, edges):
    """Slow reference attacks of a slider on ``sq`` (stop at the first blocker); ``edges``: drop the last square."""
    r0, f0 = sq // 8, sq % 8
    out = np.int64(0)
    for d in range(dirs.shape[0]):
        dr, df = dirs[d, 0], dirs[d, 1]
        r, f = r0 + dr, f0 + df
        while 0 <= r < 8 and 0 <= f < 8:
            if edges and not (0 <= r + dr < 8 and 0 <= f + df < 8):
                break
            b = np.int64(1) << (r * 8 + f)
            out |= b
            if occ & b:
                break
            r += dr
            f += df
    return out


@njit(cache=True)
def _find_magics(params, dirs, known, mask_at, magic_at, shift_at, off_at, start, seed):
    """Fill one slider's magic entries and its attack table from ``params[start]``; returns the next free index.

    ``known[sq]`` is tried first (the magics this search found once, stored below so that imports skip the
    0.4 s search); a zero or a wrong entry makes the search run for that square.
    """
    pos = start
    occs = np.empty(4096, dtype=np.int64)
    atts = np.empty(4096, dtype=np.int64)
    used = np.empty(4096, dtype=np.int64)
    epoch = np.zeros(4096, dtype=np.int64)
    trial = 0
    for sq in range(64):
        mask = _slide(sq, np.int64(0), dirs, True)
        bits = popcount(mask)
        n = 1 << bits
        sub = np.int64(0)
        for i in range(n):  # Carry-Rippler enumeration of every subset of the mask
            occs[i] = sub
            atts[i] = _slide(sq, sub, dirs, False)
            sub = (sub - mask) & mask
        first = True
        while True:
            trial += 1
            if first and known[sq] != 0:
                magic = known[sq]
            else:
                magic = _xorshift(seed) & _xorshift(seed) & _xorshift(seed)  # sparse candidates work best
            first = False
            if popcount((mask * magic) & np.int64(-72057594037927936)) < 6:  # top byte 0xFF00...
                continue
            ok = True
            for i in range(n):
                idx = shr(occs[i] * magic, 64 - bits)
                if epoch[idx] != trial:
                    epoch[idx] = trial
                    used[idx] = atts[i]
                elif used[idx] != atts[i]:
                    ok = False
                    break
            if ok:
                break
        params[mask_at + sq] = mask
        params[magic_at + sq] = magic
        params[shift_at + sq] = 64 - bits
        params[off_at + sq] = pos
        for i in range(n):
            params[pos + shr(occs[i] * magic, 64 - bits)] = atts[i]
        pos += n
    return pos


@njit(cache=True)
def _fill_basic(params):
    knight = np.array([[2, 1], [1, 2], [-1, 2], [-2, 1], [-2, -1], [-1, -2], [1, -2], [2, -1]], dtype=np.int64)
    for sq in range(64):
        r, f = sq // 8, sq % 8
        k = np.int64(0)
        for i in range(8):
            rr, ff = r + knight[i, 0], f + knight[i, 1]
            if 0 <= rr < 8 and 0 <= ff < 8:
                k |= np.int64(1) << (rr * 8 + ff)
        params[KNIGHT + sq] = k
        k = np.int64(0)
        for dr in range(-1, 2):
            for df in range(-1, 2):
                rr, ff = r + dr, f + df
                if (dr or df) and 0 <= rr < 8 and 0 <= ff < 8:
                    k |= np.int64(1) << (rr * 8 + ff)
        params[KING + sq] = k
        for colour in range(2):
            rr = r + 1 if colour == 0 else r - 1
            k = np.int64(0)
            if 0 <= rr < 8:
                for ff in (f - 1, f + 1):
                    if 0 <= ff < 8:
                        k |= np.int64(1) << (rr * 8 + ff)
            params[PAWN_ATT + colour * 64 + sq] = k
    # between and line: walk every direction from a
    for a in range(64):
        ra, fa = a // 8, a % 8
        for dr in range(-1, 2):
            for df in range(-1, 2):
                if dr == 0 and df == 0:
                    continue
                # the full line through a in this direction (both ways, edge to edge)
                full = np.int64(1) << a
                for sgn in (-1, 1):
                    r, f = ra + sgn * dr, fa + sgn * df
                    while 0 <= r < 8 and 0 <= f < 8:
                        full |= np.int64(1) << (r * 8 + f)
                        r += sgn * dr
                        f += sgn * df
                btw = np.int64(0)
                r, f = ra + dr, fa + df
                while 0 <= r < 8 and 0 <= f < 8:
                    b = r * 8 + f
                    params[BETWEEN + a * 64 + b] = btw
                    params[LINE + a * 64 + b] = full
                    btw |= np.int64(1) << b
                    r += dr
                    f += df
    for sq in range(64):
        params[CASTLE_MASK + sq] = 15
    params[CASTLE_MASK + 4] = 15 & ~3  # e1: white loses both rights
    params[CASTLE_MASK + 7] = 15 & ~1  # h1: white king side
    params[CASTLE_MASK + 0] = 15 & ~2  # a1: white queen side
    params[CASTLE_MASK + 60] = 15 & ~12  # e8
    params[CASTLE_MASK + 63] = 15 & ~4  # h8
    params[CASTLE_MASK + 56] = 15 & ~8  # a8
    seed = np.array([ZOBRIST_SEED], dtype=np.int64)
    for i in range(ZOBRIST, ATTACKS):
        params[i] = _xorshift(seed)
    params[Z_CASTLE] = 0  # no rights: no key, so the hash of a bare position is the XOR of its pieces


def _table_size() -> int:
    """Entries of the rook and bishop attack tables (2**bits of each square's relevant-occupancy mask)."""
    total = 0
    for dirs in (ROOK_DIRS, BISHOP_DIRS):
        for sq in range(64):
            total += 1 << bin(int(_slide(sq, np.int64(0), dirs, True)) & (2**64 - 1)).count("1")
    return total


def build_params(history: int = 8, search: bool = False) -> np.ndarray:
    """The ``params`` array of chess: configuration, attack tables, magics and Zobrist keys.

    ``search=True`` ignores the stored magics and finds them again from ``MAGIC_SEED`` (the test that
    checks the stored ones do that).
    """
    params = np.zeros(ATTACKS + _table_size(), dtype=np.int64)
    params[HISTORY] = history
    _fill_basic(params)
    seed = np.array([MAGIC_SEED], dtype=np.int64)
    rook = np.zeros(64, np.int64) if search else np.array(ROOK_MAGICS, dtype=np.uint64).view(np.int64)
    bishop = np.zeros(64, np.int64) if search else np.array(BISHOP_MAGICS, dtype=np.uint64).view(np.int64)
    pos = _find_magics(params, ROOK_DIRS, rook, R_MASK, R_MAGIC, R_SHIFT, R_OFF, ATTACKS, seed)
    pos = _find_magics(params, BISHOP_DIRS, bishop, B_MASK, B_MAGIC, B_SHIFT, B_OFF, pos, seed)
    assert pos == params.shape[0]
    return params


# Found by ``build_params(search=True)`` (seeded search above); stored so that imports skip the search.
ROOK_MAGICS = (
    0x8000908064c000, 0x40200040001000, 0x180100080a0010a, 0x8880041000800800,
    0x1200100201200804, 0x200020004011008, 0x2180010000800600, 0x200005088210204,
    0x400800040008021, 0x400400020005000, 0x8240801000200080, 0x8611001004200900,
    0x8180800c001800, 0x100800200800400, 0xa02000102000408, 0x8020802300104280,
    0x80004000402000, 0xe010104000402000, 0x800808010002000, 0xa280210008100100,
    0x1818014000800, 0xa002010100080400, 0x80240001020870, 0x1020004048845,
    0x81826280004004, 0x2020810900284000, 0x200100080802000, 0x200080080100080,
    0x8083080100100500, 0x4406000901000400, 0x5020080800100, 0x90204200008114,
    0x10400094800420, 0x900804000802002, 0x201001841002000, 0x4100080080801000,
    0x4540040080800800, 0x2001004040020, 0x281195814001002, 0x1240800040800100,
    0x880042000524004, 0x2c080410206002c, 0x801200241050010, 0x8400080010008080,
    0x8000500090010, 0x82009084020008, 0x4012000108020004, 0x9000104d08860004,
    0x2004204114800100, 0x148802112400300, 0x202842000100880, 0x1b080080900080,
    0x1a002008100600, 0x4008004020080, 0x5181000600040300, 0x44401128a00,
    0x8044110480002441, 0x2008110084402202, 0x90806005090010c1, 0x420310a004a42,
    0x23001004020801, 0x882001008040102, 0x230088118020c, 0x19025040042,
)
BISHOP_MAGICS = (
    0x45010808008680, 0x2002080204004898, 0x210009a10400006, 0x824050200810200,
    0x6061105004090, 0x10108c0000000, 0x814040282104004, 0x12012201106800,
    0x10823014100c1040, 0x80c2088802808c, 0x281108410404000, 0x101212041826200,
    0x20141028221058, 0x2201020202200202, 0x82a801482000, 0x8401411044,
    0x7103014300404, 0x2091110010100, 0x42140012040c0808, 0x800808802004020,
    0x90c4004210140000, 0x800200900a01000, 0xd0400201108810, 0x80820183814412a0,
    0xa01008202202b4, 0x1c2021a09500402, 0x84440208042400, 0x800400400c090100,
    0xba10040010802100, 0xd182009006005000, 0x5011021001009004, 0x20420200510400,
    0x292104000468800, 0x43009091c0500, 0x280441000020025, 0x42820080080080,
    0x440101010010040, 0x1000900100808080, 0x108108120089800, 0x44010200012682,
    0xc002500420900400, 0x40482210710800, 0x2060024000200, 0x281020a44000800,
    0xa0021200a4000200, 0x1301000840840, 0x2868500108444220, 0x4111041000200,
    0x8044020842080200, 0x220104210200, 0x21201044000, 0x280884040028,
    0x4012114010858003, 0x81004082b88, 0x3892700508208002, 0x220a041b060400,
    0x812020284014881, 0x10434a282103100, 0x490400824020800, 0x4a20002c00208800,
    0xa011020200, 0x4002940a02482202, 0x5100100202140406, 0x2102000840540c1,
)
