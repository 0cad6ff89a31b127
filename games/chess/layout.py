"""The layout of a chess state and its moves: piece and field indices, move flags, action counts, bitboard
masks (drawn in ``games.chess.rules``)."""

from __future__ import annotations

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
