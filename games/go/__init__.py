"""Go: Numba rules (captures, no suicide, superko, Tromp-Taylor scoring), coordinates, SGF, random playouts.

``games.make("go", size=9, komi=7.5)``; see ``games.go.rules`` for the state layout and ``games.go.coords``
for the coordinate table.
"""

from ..base import cache_by_package

# ruff: noqa: E402
cache_by_package(__file__)  # kernels call kernels of other files here: cached code follows every file

from . import coords, rules
from .game import Go, format_score, parse_colour
from .rules import play_random, random_playout, random_playouts
from .sgf import LoadedGame, SgfGame, load_sgf, parse_sgf, read_sgf, write_sgf

__all__ = ["Go", "coords", "rules", "format_score", "parse_colour", "play_random", "random_playout", "random_playouts",
           "SgfGame", "LoadedGame", "load_sgf", "parse_sgf", "read_sgf", "write_sgf"]
