"""The dependency-free core that ``nets``, ``engine`` and ``agents`` share: errors, atomic files, seeding and
process set-up.

Its import closure is the standard library and NumPy only (no torch, Numba, YAML or any package of ours), so
``import nets`` stays light. The layers above it, bottom to top: ``games`` and this core; ``nets``; the search
``engine.mcts``; ``agents``; the learners and runs (``engine.alphazero``, ``engine.dqn``,
``engine.distributed``); the programs (``python -m engine.*``). ``tests/test_layers.py`` enforces it.
"""

from .errors import ConfigError, UserError
from .io import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text
from .process import pin_threads, stop_on_sigterm, tune_allocator
from .seeding import derived_seed, seed_everything

__all__ = ["ConfigError", "UserError", "atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text",
           "derived_seed", "pin_threads", "seed_everything", "stop_on_sigterm", "tune_allocator"]
