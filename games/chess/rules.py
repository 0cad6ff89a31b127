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

The kernels live in one module per concept, all re-exported here: ``layout`` (indices, flags, masks),
``attacks`` (magic sliding attacks, attacked squares, check), ``actions`` (moves and actions), ``movegen``
(legal generation), ``make`` (making moves, hash, history, repetition, outcome); this module holds the game
API kernels of the ``games.base.Rules`` contract and ``perft``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING
from . import tables as T
from .actions import (  # noqa: F401
    DIR_DF,
    DIR_DR,
    DIR_OF_SIGN,
    KNIGHT_DF,
    KNIGHT_DR,
    KNIGHT_OF_STEP,
    action_to_move,
    move_to_action,
)
from .attacks import (  # noqa: F401
    attacked,
    bishop_attacks,
    checkers_of,
    in_check,
    rook_attacks,
)
from .bits import shr
from .layout import (  # noqa: F401
    BISHOP,
    BLACK_BB,
    BOARD_SIZE,
    CASTLE,
    DARK_SQUARES,
    EP,
    EXTRA_PLANES,
    FILE_A,
    FILE_H,
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
    MODE_MASK,
    NUM_ACTIONS,
    OUTCOME,
    PAWN,
    PLANES_PER_STEP,
    PLY,
    QUEEN,
    RANK_1,
    RANK_3,
    RANK_6,
    RANK_8,
    REPS,
    ROOK,
    SIDE,
    STATE_SIZE,
    WHITE_BB,
)
from .make import (  # noqa: F401
    apply_move,
    compute_hash,
    count_legal,
    insufficient_material,
    legal_moves,
    make,
    repetitions,
    setup,
)
from .movegen import (  # noqa: F401
    generate,
    has_legal_ep,
)

# the names that games.chess.game and agents.material read
_attacked = attacked
_DIR_DR, _DIR_DF, _KNIGHT_DR, _KNIGHT_DF = DIR_DR, DIR_DF, KNIGHT_DR, KNIGHT_DF


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
