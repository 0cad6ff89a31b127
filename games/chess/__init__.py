"""Chess: FIDE rules as Numba bitboard kernels, AlphaZero's 4,672-action and 119-plane encoding, FEN, UCI and
SAN notation, PGN import and export, and a fast perft (see ``rules`` for the state and action layout)."""

from __future__ import annotations

from ..base import cache_by_package

# ruff: noqa: E402
cache_by_package(__file__)  # kernels call kernels of other files here: cached code follows every file

from .game import MAX_PLIES, RULES, Chess, chess_params
from .notation import START_FEN, FenError
from .pgn import PgnError, PgnGame, read_pgn, read_pgn_file, write_pgn

__all__ = ["Chess", "RULES", "MAX_PLIES", "START_FEN", "FenError", "chess_params", "from_fen", "to_fen",
           "PgnError", "PgnGame", "read_pgn", "read_pgn_file", "write_pgn"]


def from_fen(fen: str):
    """The state of a FEN (default ``Chess()`` params); ``FenError`` names the wrong field."""
    return _default().from_fen(fen)


def to_fen(state) -> str:
    return _default().to_fen(state)


_GAME = None


def _default() -> Chess:
    global _GAME
    if _GAME is None:
        _GAME = Chess()
    return _GAME
