"""Supervised learning from game records and teacher engines (AlphaGo's first stage, Leela Chess Zero's first nets):
``python -m engine.supervised GAME --teacher SPEC | --records FILES | --data DIR`` (see ``engine.supervised.cli``).

* ``teachers``: labels from any ``agents.make`` player (exact for the Connect Four solver and minimax, MultiPV
  soft targets and WDL values for UCI engines, the move and the result for GTP programs and others);
* ``generate``: the teacher's games against itself with random or book openings, random moves and sampling,
  one teacher process per core, written as shards (``data``);
* ``records``: PGN / SGF / move-list files read one game at a time, with filters, malformed games skipped;
* ``train``: the self-play learner over epochs, held-out top-1 / top-3 agreement, checkpoints in the self-play
  format (``alphazero:PATH`` plays them; ``engine.selfplay --init PATH`` starts self-play from them).
"""

from .data import DataError, Dataset, ShardBuilder, load_dataset
from .teachers import Label, Teacher, make_teacher

__all__ = ["Dataset", "DataError", "Label", "ShardBuilder", "Teacher", "load_dataset", "make_teacher"]
