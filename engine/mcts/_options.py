"""The compiled search's options and conventions: the config arrays, the compile decorators, the return codes.

Configuration travels as two small arrays (``cfg_f`` floats, ``cfg_i`` integers) indexed by the ``F_*`` and
``I_*`` constants, so changing a number never recompiles. What changes the code (PUCT or Gumbel selection) is
a ``Variant`` of compiled functions instead (``engine.mcts._variants``), one compiled copy of the search each.
"""

from __future__ import annotations

from numba import njit

# cfg_f: float hyperparameters ------------------------------------------------------------------------
F_C_BASE = 0
F_C_INIT = 1
F_FPU = 2
F_FPU_ROOT = 3
F_VIRTUAL_LOSS = 4
F_DIRICHLET_ALPHA = 5
F_DIRICHLET_EPS = 6
F_C_VISIT = 7
F_C_SCALE = 8
F_GUMBEL_SCALE = 9
F_FORCED_K = 10
F_FULL_PROB = 11
F_TABLE = 12         # cfg_f[F_TABLE + N] = c(s) * sqrt(N) for N < PUCT_TABLE (no log or sqrt in the inner loop)
PUCT_TABLE = 4096
NUM_CFG_F = F_TABLE + PUCT_TABLE

# cfg_i: integer options ------------------------------------------------------------------------------
I_LEAVES = 0         # leaves gathered per tree per step
I_GUMBEL = 1         # 1: the Gumbel variant is in use (the move loop plays its winner); 0: PUCT
I_MAX_CONSIDERED = 2
I_RESCALE = 3        # Gumbel: min-max rescale completed Q to [0, 1]
I_FORCED = 4         # forced playouts at the root (full searches)
I_PRUNE = 5          # policy-target pruning (full searches)
I_WANT_PLANES = 6    # encode gathered leaves into planes
I_WANT_STATES = 7    # copy gathered leaf states out
I_CACHE = 8          # look leaves up in / store evaluations into the cache
I_EVAL_KIND = 9      # EVAL_EXTERNAL, EVAL_UNIFORM or EVAL_ROLLOUT
I_ROLLOUTS = 10      # rollouts per leaf (EVAL_ROLLOUT)
I_MAX_LENGTH = 11    # rollout length cap (the game's max_game_length)
I_SIMS_FULL = 12
I_SIMS_CHEAP = 13
I_NOISE = 14         # 1: mix Dirichlet noise into fresh roots (full searches)
I_DECISIVE = 15      # 1: two-ply look-ahead at each expansion (decisive and anti-decisive moves)
NUM_CFG_I = 16

EVAL_EXTERNAL = 0
EVAL_UNIFORM = 1
EVAL_ROLLOUT = 2

STEP_TOO_MANY_ACTIONS = -(1 << 40)
"""What ``step`` returns for a position with more legal actions than the E edge slots."""

kernel = njit(cache=True, _nrt=False)
"""Compiled without reference counting (nothing here allocates: the counting of array arguments and views took
a third of the time of a simulation); callable from Python."""
helper = njit(cache=True, _nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)
"""Called from compiled code only: no Python wrapper to build (a fifth less compile time)."""
