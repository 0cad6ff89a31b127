"""``BatchedMCTS``: the Python face of the compiled search, one tree per game for B games at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import typeof

from games.base import IllegalMove, pin_rules_identity

from . import _options as opt
from . import kernels
from .config import MCTSConfig
from .evaluators import CachedEvaluator
from .kernels import EVAL_EXTERNAL, NUM_CFG_F, NUM_CFG_I, STEP_TOO_MANY_ACTIONS
from .tree import (
    ROOT,
    TERMINAL,
    allocate_cache,
    allocate_leaves,
    allocate_tree,
    grow_tree,
)


@dataclass
class SearchResult:
    """What a search says about each root (B trees; A actions; values for the player to move at the root)."""

    visits: np.ndarray        # int32[B, A]   N(root, a)
    policy: np.ndarray        # float32[B, A] training target: visits (pruned) or the Gumbel improved policy
    q: np.ndarray             # float32[B, A] Q(root, a), 0 where unvisited
    value: np.ndarray         # float32[B]    root value: mean of the root's evaluation and all backed-up values
    best_move: np.ndarray     # int64[B]      most visited (or Gumbel's choice); -1 where the game is over
    prior: np.ndarray         # float32[B, A] the root's prior without noise
    full_search: np.ndarray   # bool[B]       playout cap: a full search, i.e. a training target
    simulations: np.ndarray   # int32[B]      simulations run by this search


class NodeEdges(NamedTuple):
    """One node's edges (its legal actions, in increasing order) and their statistics."""

    actions: np.ndarray    # int32[E']   the legal actions
    visits: np.ndarray     # int32[E']   N(s, a)
    value_sum: np.ndarray  # float32[E'] W(s, a) for the player to move at the node
    prior: np.ndarray      # float32[E'] P(s, a) (with noise at a noised root)
    child: np.ndarray      # int32[E']   child nodes (UNVISITED: none)


def tree_seed(seed: int, index: int) -> int:
    """The seed of tree ``index`` in a search seeded with ``seed``. A tree's search depends only on its own seed,
    whatever the batch: tree i of ``BatchedMCTS(game, B, seed=s)`` searches exactly like the single tree of
    ``BatchedMCTS(game, 1)`` after ``set_roots([state], seeds=[tree_seed(s, i)])``."""
    x = int(kernels.splitmix64(np.uint64(int(seed) % 2**64)))
    return int(kernels.splitmix64(np.uint64((x + int(index)) % 2**64)))


def _stream(seed: int) -> np.uint64:
    """Initial state of a tree's random stream (splitmix64) for a seed."""
    return kernels.splitmix64(np.uint64(int(seed) % 2**64))


_ENTRY_CACHE: dict = {}


def compiled_entry(kernel, *args):
    """The compiled entry point of ``kernel`` for these argument types: calling it skips Numba's type dispatch
    (with the game's rules as an argument that dispatch costs ~70 us, more than a whole step)."""
    sig = tuple(typeof(a) for a in args)
    key = (kernel, sig)
    ep = _ENTRY_CACHE.get(key)
    if ep is None:
        try:
            ep = kernel.compile(sig)
        except ReferenceError:
            # Numba's on-disk cache index can name game kernels rebuilt from its older entries and collected
            # since (after an update of the code): re-saving it after a compile fails (the code is compiled: use
            # it), and so can loading from it before one (nothing compiled: compile again without the index).
            # Either way the stale index is dropped so that the next save starts afresh.
            _drop_cache_index(kernel)
            ep = kernel.overloads[sig].entry_point if sig in kernel.overloads else kernel.compile(sig)
        _ENTRY_CACHE[key] = ep
    return ep


def _drop_cache_index(kernel) -> None:
    try:
        Path(kernel._cache._cache_file._index_path).unlink(missing_ok=True)
    except (AttributeError, OSError):  # another Numba layout, or a read-only cache: nothing to repair
        pass


class BatchedMCTS:
    """Monte Carlo tree search over ``batch_size`` games at once, compiled with Numba end to end.

    Typical self-play use::

        search = BatchedMCTS(game, 64, MCTSConfig(simulations=200), seed=1)
        search.set_roots([game.initial_state()] * 64)
        while ...:
            result = search.run(evaluator)                 # all 64 trees, batched evaluator calls
            moves = search.choose(temperature=1.0)         # or result.best_move
            for i, a in enumerate(moves):
                search.advance(i, a)                       # subtree reuse (or search.reset(i, new_state))

    ``run`` makes one evaluator call per step with up to ``B * leaves_per_tree`` leaves; everything else
    (selection, expansion, backup, noise, encoding the leaves) runs in compiled code. The node pool is
    allocated once and reused between moves and games; it grows (``tree`` is then a new set of arrays) only
    when a search could run out of nodes. ``tree`` (``engine.mcts.tree.Tree``) is open for inspection;
    ``edges`` and ``child`` read it by action.
    """

    def __init__(self, game, batch_size: int, config: MCTSConfig | None = None, *, seed: int = 0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.game = game
        self.config = config if config is not None else MCTSConfig()
        self.config.validate()
        self.batch_size = int(batch_size)
        self.num_actions = int(game.num_actions)
        bound = getattr(game, "max_legal_actions", None)
        self.num_edges = int(bound) if bound else self.num_actions  # edge slots per node
        self.seed = int(seed)
        s0 = game.initial_state()
        self._state_size, self._state_dtype = s0.shape[0], s0.dtype
        cfg = self.config
        budget = max(cfg.simulations, cfg.playout_cap_cheap_simulations if cfg.playout_cap else 0)
        capacity = cfg.max_nodes if cfg.max_nodes > 0 else budget + 2
        self.tree = allocate_tree(self.batch_size, capacity, self.num_edges, self._state_size, self._state_dtype)
        self.leaves = allocate_leaves(self.batch_size * cfg.leaves_per_tree, game.plane_shape, self.num_actions,
                                      self.num_edges, self._state_size, self._state_dtype)
        self._no_cache = allocate_cache(1, self.num_actions)
        self._legal = np.zeros(self.num_actions, np.bool_)
        self._rng = np.random.default_rng(self.seed)
        self.cfg_f = np.zeros(NUM_CFG_F, np.float64)
        self.cfg_i = np.zeros(NUM_CFG_I, np.int64)
        self._fill_config(cfg.simulations, None)
        B, A = self.batch_size, self.num_actions
        self._out = (np.zeros((B, A), np.int32), np.zeros((B, A), np.float32), np.zeros((B, A), np.float32),
                     np.zeros(B, np.float32), np.zeros(B, np.int64), np.zeros((B, A), np.float32))
        self.last_steps = 0
        self._searching = np.zeros(self.batch_size, np.bool_)  # trees in an asynchronous search (start_searches)
        self._all_trees = np.ones(self.batch_size, np.bool_)
        self._async = None         # (evaluator, inner, cache table, by_states) of the asynchronous searches
        self._compile()
        for b in range(self.batch_size):
            self.tree.rng[b] = _stream(tree_seed(self.seed, b))
        self.set_roots([s0] * self.batch_size)

    def _compile(self) -> None:
        """Look up (compile, or load from Numba's cache) the kernels for this game once."""
        pin_rules_identity(self.game.rules)
        rules, params, t, lv, f, c = self.game.rules, self.game.params, self.tree, self.leaves, self.cfg_f, self.cfg_i
        out, v = self._out, self._variant
        active = np.ones(self.batch_size, np.bool_)
        self._ep = {
            "init_root": compiled_entry(kernels.init_root, rules, params, t, 0, self._legal),
            "advance": compiled_entry(kernels.advance, rules, params, t, 0, 0, self._legal),
            "begin": compiled_entry(kernels.begin_search, v, t, f, c, active, lv.work, True),
            "step": compiled_entry(kernels.step, rules, params, v, t, lv, self._no_cache, f, c, 0, True),
            "summarize": compiled_entry(kernels.summarize, v, t, f, c, active, *out, lv.work),
        }
        self._compiled_variant = v

    # ------------------------------------------------------------------------------------------- roots
    def set_roots(self, states, seeds=None) -> None:
        """Start a fresh tree from each of the B ``states``; ``seeds`` (B integers) restart the trees' streams."""
        if len(states) != self.batch_size:
            raise ValueError(f"expected {self.batch_size} states, got {len(states)}")
        for i, s in enumerate(states):
            self.reset(i, s, None if seeds is None else seeds[i])

    def reset(self, i: int, state: np.ndarray, seed: int | None = None) -> None:
        """Start tree ``i`` afresh from ``state`` (a new game in slot i); ``seed`` restarts its random stream."""
        self._check_index(i)
        self._check_idle(i)
        state = np.asarray(state)
        if state.shape != (self._state_size,) or state.dtype != self._state_dtype:
            raise ValueError(f"a {self.game.name} state is {self._state_dtype}[{self._state_size}], got "
                             f"{state.dtype}{list(state.shape)}")
        if seed is not None:
            self.tree.rng[i] = _stream(seed)
        self.tree.state[i, ROOT] = state
        if not self._ep["init_root"](self.game.rules, self.game.params, self.tree, i, self._legal):
            self._too_many_actions()

    def advance(self, i: int, action: int) -> None:
        """Play ``action`` in tree ``i``: its child becomes the root, keeping its statistics (``reuse_tree``);
        a child never expanded starts a fresh tree. Root noise is mixed in again at the next search."""
        self._check_index(i)
        self._check_idle(i)
        root = self.tree.state[i, ROOT]
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise IllegalMove(f"action {action!r} is not an integer action index")
        action = int(action)
        if not 0 <= action < self.num_actions or self.tree.flags[i, ROOT] == TERMINAL \
                or not self.game.legal_mask(root)[action]:
            raise IllegalMove(f"action {action} is not legal at the root of tree {i}")
        if not self.config.reuse_tree:
            self.reset(i, self.game.apply(root, action))
            return
        if not self._ep["advance"](self.game.rules, self.game.params, self.tree, i, action, self._legal):
            self._too_many_actions()

    def root_state(self, i: int) -> np.ndarray:
        self._check_index(i)
        return self.tree.state[i, ROOT].copy()

    def edges(self, i: int, node: int = ROOT) -> NodeEdges:
        """The statistics of ``node`` in tree ``i``, one entry per legal action (copies)."""
        self._check_index(i)
        if not 0 <= node < self.tree.num_nodes[i]:
            raise IndexError(f"node {node} is not in tree {i} ({self.tree.num_nodes[i]} nodes)")
        t, ne = self.tree, int(self.tree.num_edges[i, node])
        return NodeEdges(actions=t.edge_action[i, node, :ne].copy(), visits=t.visit_count[i, node, :ne].copy(),
                         value_sum=t.value_sum[i, node, :ne].copy(), prior=t.prior[i, node, :ne].copy(),
                         child=t.child[i, node, :ne].copy())

    def child(self, i: int, action: int, node: int = ROOT) -> int:
        """The node reached from ``node`` of tree ``i`` by ``action``: UNVISITED (-1) if not created."""
        e = self.edges(i, node)
        hit = np.flatnonzero(e.actions == action)
        if hit.size == 0:
            raise IllegalMove(f"action {action} is not legal at node {node} of tree {i}")
        return int(e.child[hit[0]])

    def tree_size(self, i: int) -> int:
        """Nodes in tree ``i``."""
        self._check_index(i)
        return int(self.tree.num_nodes[i])

    def _check_index(self, i) -> None:
        if not 0 <= i < self.batch_size:
            raise IndexError(f"tree index {i} is out of range 0..{self.batch_size - 1}")

    def _check_idle(self, i) -> None:
        if getattr(self, "_searching", None) is not None and self._searching[i]:
            raise ValueError(f"tree {i} is in the middle of a search: step until it ends before changing its root")

    # ------------------------------------------------------------------------------------------- search
    def _fill_config(self, simulations: int, evaluator) -> tuple[int, object]:
        """Write the config arrays for this search; returns (evaluator kind, cache table or None)."""
        cfg, f, c = self.config, self.cfg_f, self.cfg_i
        self._variant = kernels.variant_for(cfg)  # the code of the search: compiled once per variant
        if getattr(self, "_compiled_variant", self._variant) is not self._variant:
            self._compile()
        f[opt.F_C_BASE] = cfg.c_base
        f[opt.F_C_INIT] = cfg.c_init
        visits = np.arange(opt.PUCT_TABLE, dtype=np.float64)
        f[opt.F_TABLE:] = (np.log((1.0 + visits + cfg.c_base) / cfg.c_base) + cfg.c_init) * np.sqrt(visits)
        f[opt.F_FPU] = cfg.fpu_reduction
        f[opt.F_FPU_ROOT] = cfg.fpu_reduction_root
        # a virtual loss only matters to other descents of the same tree in the same step
        f[opt.F_VIRTUAL_LOSS] = cfg.virtual_loss if cfg.leaves_per_tree > 1 else 0.0
        alpha = cfg.dirichlet_alpha if cfg.dirichlet_alpha is not None else self.game.dirichlet_alpha
        f[opt.F_DIRICHLET_ALPHA] = alpha
        f[opt.F_DIRICHLET_EPS] = cfg.dirichlet_epsilon
        f[opt.F_C_VISIT] = cfg.gumbel_c_visit
        f[opt.F_C_SCALE] = cfg.gumbel_c_scale
        f[opt.F_GUMBEL_SCALE] = cfg.gumbel_scale
        f[opt.F_FORCED_K] = cfg.forced_playouts_k
        f[opt.F_FULL_PROB] = cfg.playout_cap_full_prob if cfg.playout_cap else 1.0
        c[opt.I_LEAVES] = cfg.leaves_per_tree
        c[opt.I_GUMBEL] = int(cfg.gumbel)
        c[opt.I_MAX_CONSIDERED] = cfg.gumbel_max_considered
        c[opt.I_RESCALE] = int(cfg.gumbel_rescale_values)
        c[opt.I_FORCED] = int(cfg.forced_playouts)
        c[opt.I_PRUNE] = int(cfg.policy_target_pruning)
        c[opt.I_MAX_LENGTH] = self.game.max_game_length
        c[opt.I_SIMS_FULL] = simulations
        c[opt.I_SIMS_CHEAP] = cfg.playout_cap_cheap_simulations if cfg.playout_cap else simulations
        c[opt.I_NOISE] = int(cfg.dirichlet_epsilon > 0)
        c[opt.I_DECISIVE] = int(cfg.decisive_moves)
        cache = None
        inner = evaluator
        if isinstance(evaluator, CachedEvaluator):
            cache = evaluator.table_for(self.num_actions)
            inner = evaluator.inner
        builtin = getattr(inner, "builtin", None)
        kind = EVAL_EXTERNAL
        if builtin is not None and cache is None:
            kind, rollouts = builtin
            c[opt.I_ROLLOUTS] = rollouts
        c[opt.I_EVAL_KIND] = kind
        c[opt.I_WANT_STATES] = int(kind == EVAL_EXTERNAL and hasattr(inner, "evaluate_states"))
        c[opt.I_WANT_PLANES] = int(kind == EVAL_EXTERNAL and not c[opt.I_WANT_STATES])
        c[opt.I_CACHE] = int(cache is not None)
        return kind, cache

    def _ensure_capacity(self, simulations: int) -> None:
        need = int(self.tree.num_nodes.max()) + simulations + 1
        have = self.tree.visit_count.shape[1]
        if need > have:
            self.tree = grow_tree(self.tree, max(need, have + have // 2))

    def run(self, evaluator, simulations: int | None = None, active=None) -> SearchResult:
        """Search every tree (``active``: bool[B], default all) with ``simulations`` each (default
        ``config.simulations``; the full budget under the playout cap) and return the results."""
        if self._searching.any():
            raise ValueError("asynchronous searches are under way (start_searches): step until they end")
        sims = self.config.simulations if simulations is None else int(simulations)
        if sims < 0:
            raise ValueError(f"simulations must be >= 0, got {sims}")
        cfg = self.config
        self._ensure_capacity(max(sims, cfg.playout_cap_cheap_simulations if cfg.playout_cap else 0))
        kind, cache = self._fill_config(sims, evaluator)
        self._async = None  # the config arrays are this search's now
        active = np.ones(self.batch_size, np.bool_) if active is None else np.ascontiguousarray(active, np.bool_)
        if active.shape != (self.batch_size,):
            raise ValueError(f"active must be a bool[{self.batch_size}] mask")
        tree, lv, f, c = self.tree, self.leaves, self.cfg_f, self.cfg_i
        self._ep["begin"](self._variant, tree, f, c, active, self.leaves.work, True)
        rules, params = self.game.rules, self.game.params
        table = cache if cache is not None else self._no_cache
        step = self._ep["step"]
        if kind != EVAL_EXTERNAL:  # evaluated inside the compiled step: one call does the whole search
            if step(rules, params, self._variant, tree, lv, table, f, c, 0, True) == STEP_TOO_MANY_ACTIONS:
                self._too_many_actions()
            self.last_steps = 0
            return self.result()
        inner = evaluator.inner if cache is not None else evaluator
        by_states = bool(c[opt.I_WANT_STATES])
        n, steps = 0, 0
        while True:
            n = step(rules, params, self._variant, tree, lv, table, f, c, n, True)
            if n <= 0:
                if n == STEP_TOO_MANY_ACTIONS:
                    self._too_many_actions()
                if n < 0:
                    self._bad_evaluation(-n - 1)
                break
            steps += 1
            self._evaluate_leaves(inner, by_states, n)
        self.last_steps = steps
        return self.result()

    # ------------------------------------------------------------------------------------------- asynchronous
    def start_searches(self, active, evaluator, simulations: int | None = None) -> None:
        """Begin a search on each tree flagged in ``active`` (bool[B]) while the other trees go on with theirs.

        ``run`` searches a set of trees in lockstep: a tree whose search ends early (its simulations reached
        finished games, which need no evaluation) leaves its slot of the evaluator's batch empty until the last
        tree is done. Here every tree searches at its own pace: each ``step`` makes one evaluator call for the
        leaves of all trees in a search and returns the trees whose search has just ended; their caller reads
        ``result()``, moves (``advance`` or ``reset``) and starts their next search while the others continue.
        A tree searches exactly as it would under ``run`` (trees never share statistics), so results depend on
        each tree's own seed only. ``evaluator`` serves every step until the searches are over."""
        active = np.ascontiguousarray(active, np.bool_)
        if active.shape != (self.batch_size,):
            raise ValueError(f"active must be a bool[{self.batch_size}] mask")
        if (active & self._searching).any():
            raise ValueError(f"trees {np.flatnonzero(active & self._searching).tolist()} are already searching")
        sims = self.config.simulations if simulations is None else int(simulations)
        if sims < 0:
            raise ValueError(f"simulations must be >= 0, got {sims}")
        cfg = self.config
        self._ensure_capacity(max(sims, cfg.playout_cap_cheap_simulations if cfg.playout_cap else 0))
        if self._async is not None and self._async[0] is not evaluator and self._searching.any():
            raise ValueError("the searches under way use another evaluator: step until they end")
        key = (sims, tuple(cfg.__dict__.values()))
        if self._async is None or self._async[0] is not evaluator or self._async[4] != key:
            # (the config arrays are written once for a series of searches: a game's worth of moves each)
            kind, cache = self._fill_config(sims, evaluator)
            inner = evaluator.inner if cache is not None else evaluator
            table = cache if cache is not None else self._no_cache
            self._async = (evaluator, inner, table, bool(self.cfg_i[opt.I_WANT_STATES]), key)
        self._ep["begin"](self._variant, self.tree, self.cfg_f, self.cfg_i, active, self.leaves.work, False)
        self._searching |= active

    def step(self) -> np.ndarray:
        """One step of the searches begun by ``start_searches``: every searching tree gathers its next leaves, one
        evaluator call evaluates them all, and the evaluations are applied. Returns bool[B], the trees whose
        search ended in this step: read them with ``result()`` and start their next search before the next
        step, so that no tree misses one."""
        if self._async is None:
            raise ValueError("no search under way: start_searches first")
        _, inner, table, by_states, _ = self._async
        leaves, rules, params, step = self.leaves, self.game.rules, self.game.params, self._ep["step"]
        n = step(rules, params, self._variant, self.tree, leaves, table, self.cfg_f, self.cfg_i, 0, True)
        if n == STEP_TOO_MANY_ACTIONS:
            self._searching[:] = False
            self._too_many_actions()
        if n > 0:
            self._evaluate_leaves(inner, by_states, n)
            bad = step(rules, params, self._variant, self.tree, leaves, table, self.cfg_f, self.cfg_i, n,
                       False)
            if bad < 0:
                self._searching[:] = False
                self._bad_evaluation(-bad - 1)
        done = self._searching & (self.tree.sims_left <= 0)
        self._searching &= ~done
        return done

    def driver(self, kernel, *extra):
        """Bind a compiled driver ``kernel(rules, params, variant, tree, leaves, cache, cfg_f, cfg_i, n, searching,
        *extra)`` to the searches begun by ``start_searches`` and return ``call(n, *extra) -> code``. With
        ``gather`` and ``evaluate`` it replaces ``step`` and whatever the caller does between steps in compiled
        code (the self-play move loop of ``engine.alphazero._moves``): the kernel applies the ``n`` evaluations
        of the last leaves (``kernels.apply_evaluations``), does its work and keeps ``searching`` (this search's
        mask, shared) up to date. Its code: 0 or a code of its own below ``STEP_TOO_MANY_ACTIONS``, returned as
        is, or a negative code of ``step``, raised here as ``step`` raises it."""
        if self._async is None:
            raise ValueError("no search under way: start_searches first")
        table = self._async[2]
        rules, params = self.game.rules, self.game.params
        variant = self._variant
        ep = compiled_entry(kernel, rules, params, variant, self.tree, self.leaves, table, self.cfg_f, self.cfg_i, 0,
                    self._searching, *extra)

        def call(n: int, *args) -> int:
            code = ep(rules, params, variant, self.tree, self.leaves, table, self.cfg_f, self.cfg_i, n,
                      self._searching, *args)
            if code == STEP_TOO_MANY_ACTIONS:
                self._searching[:] = False
                self._too_many_actions()
            if STEP_TOO_MANY_ACTIONS < code < 0:
                self._searching[:] = False
                self._bad_evaluation(-code - 1)
            return code

        return call

    def gather(self) -> int:
        """Gather the next leaves of the searches under way (a driver kernel has applied the last evaluations):
        their number, for ``evaluate``; 0 when no tree needs an evaluation (every search has ended)."""
        if self._async is None:
            raise ValueError("no search under way: start_searches first")
        _, _, table, _, _ = self._async
        n = self._ep["step"](self.game.rules, self.game.params, self._variant, self.tree, self.leaves, table,
                             self.cfg_f, self.cfg_i, 0, True)
        if n == STEP_TOO_MANY_ACTIONS:
            self._searching[:] = False
            self._too_many_actions()
        return n

    def evaluate(self, n: int) -> None:
        """One call of the searches' evaluator on the ``n`` leaves gathered by ``gather``."""
        if self._async is None:
            raise ValueError("no search under way: start_searches first")
        _, inner, _, by_states, _ = self._async
        self._evaluate_leaves(inner, by_states, n)

    def abandon_searches(self) -> None:
        """Drop the searches under way (no leaves are in flight between steps): their trees keep the simulations
        done so far and may be reset, advanced or searched again."""
        self.tree.sims_left[self._searching] = 0
        self._searching[:] = False

    @property
    def searching(self) -> np.ndarray:
        """bool[B]: the trees in the middle of an asynchronous search (a copy)."""
        return self._searching.copy()

    def _evaluate_leaves(self, inner, by_states: bool, n: int) -> None:
        """One evaluator call for the ``n`` gathered leaves (planes, or states for evaluators that take them)."""
        leaves = self.leaves
        if by_states:
            logits, values = inner.evaluate_states(leaves.states[:n], leaves.legal[:n])
        else:
            logits, values = inner(leaves.planes[:n], leaves.legal[:n])
        self._take(logits, values, n)

    def _take(self, logits, values, n: int) -> None:
        """Copy the evaluator's output into the leaf buffers (the compiled step checks the numbers)."""
        logits = np.asarray(logits)
        values = np.asarray(values)
        if logits.shape != (n, self.num_actions):
            raise ValueError(f"the evaluator returned logits of shape {logits.shape}, expected {(n, self.num_actions)}")
        if values.size != n:
            raise ValueError(f"the evaluator returned {values.size} values for {n} positions")
        np.copyto(self.leaves.logits[:n], logits, casting="same_kind")
        np.copyto(self.leaves.value[:n], values.reshape(n), casting="same_kind")

    def _too_many_actions(self) -> None:
        raise ValueError(f"a {self.game.name} position has more than {self.num_edges} legal actions, the bound "
                         f"max_legal_actions of {type(self.game).__name__}: raise it")

    def _bad_evaluation(self, leaf: int) -> None:
        value = float(self.leaves.value[leaf])
        if not -1.0001 <= value <= 1.0001:
            raise ValueError(f"the evaluator returned value {value} for leaf {leaf}; values are for the player to "
                             "move, in [-1, 1]")
        raise ValueError(f"the evaluator returned NaN logits for leaf {leaf}")

    # ------------------------------------------------------------------------------------------- results
    def result(self, trees=None) -> SearchResult:
        """The current statistics of every root (after ``run``), or of the roots of ``trees`` (tree indices:
        row ``j`` of each array is tree ``trees[j]``; an asynchronous search summarises only the trees whose
        search has just ended)."""
        t = self.tree
        visits, policy, q, value, best, prior = self._out
        if trees is None:
            self._ep["summarize"](self._variant, t, self.cfg_f, self.cfg_i, self._all_trees, visits, policy, q,
                                  value, best, prior, self.leaves.work)
            return SearchResult(visits=visits.copy(), policy=policy.copy(), q=q.copy(), value=value.copy(),
                                best_move=best.copy(), prior=prior.copy(), full_search=t.full_search.copy(),
                                simulations=t.sims_done.copy())
        rows = np.asarray(trees, np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self.batch_size):
            raise IndexError(f"tree indices must be in [0, {self.batch_size}), got {rows.tolist()}")
        which = np.zeros(self.batch_size, np.bool_)
        which[rows] = True
        self._ep["summarize"](self._variant, t, self.cfg_f, self.cfg_i, which, visits, policy, q, value, best, prior,
                              self.leaves.work)
        return SearchResult(visits=visits[rows], policy=policy[rows], q=q[rows], value=value[rows],  # copies
                            best_move=best[rows], prior=prior[rows], full_search=t.full_search[rows],
                            simulations=t.sims_done[rows])

    def choose(self, temperature: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
        """A move per tree (int64[B], -1 where the game is over): visit counts ** (1 / T), T = 0 the most
        visited (ties broken by ``rng``); with Gumbel the sequential-halving winner (its noise already samples).
        Draws exactly one number from ``rng`` (default: this search's seeded generator) per tree."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        rng = self._rng if rng is None else rng
        res = self.result()
        out = np.full(self.batch_size, -1, np.int64)
        draws = rng.random(self.batch_size)
        for b in range(self.batch_size):
            if res.best_move[b] < 0:
                continue
            if self.config.gumbel:
                out[b] = res.best_move[b]
                continue
            counts = res.visits[b].astype(np.float64)
            if counts.sum() == 0:
                counts = res.prior[b].astype(np.float64)
            out[b] = kernels.temperature_choice(counts, float(temperature), float(draws[b]), -1)
        return out
