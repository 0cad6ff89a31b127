"""The compiled search's public kernels and constants, for code that drives the search from compiled code of its
own (``engine.alphazero._moves``) or reads its option arrays. ``BatchedMCTS`` is the Python face; these are the
pieces under it (see ``engine.mcts._core`` for how they fit together)."""

from __future__ import annotations

from ._core import apply_evaluations, begin_search, encode_planes, rollout_states, step
from ._nodes import copy as copy_array
from ._nodes import init_root
from ._options import (
    EVAL_EXTERNAL,
    EVAL_ROLLOUT,
    EVAL_UNIFORM,
    I_GUMBEL,
    I_MAX_LENGTH,
    I_SIMS_CHEAP,
    I_SIMS_FULL,
    NUM_CFG_F,
    NUM_CFG_I,
    STEP_TOO_MANY_ACTIONS,
    helper,
    kernel,
)
from ._results import advance, summarize, temperature_choice
from ._rng import GOLDEN, splitmix64, unit_interval
from ._select import considered_visit
from ._variants import GUMBEL, PUCT, Variant, variant_for

__all__ = [
    "kernel", "helper", "copy_array", "splitmix64", "unit_interval", "GOLDEN",
    "Variant", "PUCT", "GUMBEL", "variant_for",
    "init_root", "begin_search", "step", "apply_evaluations", "summarize", "advance", "encode_planes",
    "rollout_states", "considered_visit", "temperature_choice",
    "NUM_CFG_F", "NUM_CFG_I", "I_GUMBEL", "I_MAX_LENGTH", "I_SIMS_FULL", "I_SIMS_CHEAP",
    "EVAL_EXTERNAL", "EVAL_UNIFORM", "EVAL_ROLLOUT", "STEP_TOO_MANY_ACTIONS",
]
