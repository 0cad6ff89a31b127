"""The compiled search loop: begin a search, gather leaves (descend, create, emit), apply their evaluations.

Everything here is ``@njit(cache=True)`` over the arrays of ``engine.mcts.tree`` and takes the game's ``rules``
namedtuple of kernels and the search's ``variant`` (``engine.mcts._variants``) as arguments, so each game and
variant gets its own compiled copy. The driver (``engine.mcts.search.BatchedMCTS``) makes one call per *step*:
``step`` applies the evaluations of the previous step's leaves and gathers the next ones (up to
``leaves_per_tree`` per tree, kept apart by virtual loss). The other pieces: options and return codes in
``_options``, random streams in ``_rng``, nodes and backup in ``_nodes``, selection rules in ``_select``, the
variants in ``_variants``, summaries and subtree reuse in ``_results``; ``engine.mcts.kernels`` is the public face.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.base import ONGOING

from ._nodes import NO_EXACT_VALUE, backup, cache_probe, cache_slot, copy, create_child, decisive, expand, revert
from ._options import (
    EVAL_EXTERNAL,
    EVAL_ROLLOUT,
    EVAL_UNIFORM,  # noqa: F401  (imported from here by engine.mcts.evaluators)
    F_FULL_PROB,
    F_VIRTUAL_LOSS,
    I_CACHE,
    I_DECISIVE,
    I_EVAL_KIND,
    I_LEAVES,
    I_MAX_LENGTH,
    I_ROLLOUTS,
    I_SIMS_CHEAP,
    I_SIMS_FULL,
    I_WANT_PLANES,
    I_WANT_STATES,
    STEP_TOO_MANY_ACTIONS,
    helper,
    kernel,
)
from ._rng import splitmix64, uniform  # noqa: F401  (splitmix64: imported from here by engine.mcts.evaluators)
from ._select import considered_visit  # noqa: F401  (imported from here by tests)
from .tree import EXPANDED, PENDING, ROOT, TERMINAL, UNVISITED

_loop = njit(cache=True, _nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True, inline="always")
"""Helpers that take the Tree / Leaves / Cache tuples: inlined into their caller in Numba's IR, so the tuples are
never passed by value in the compiled code (that costs compile time, not run time)."""

# what one simulation of _simulate came to
_SIM_LEAF = 0       # a leaf for the evaluator was written
_SIM_DONE = 1       # finished on the spot (terminal node, cache hit)
_SIM_WAIT = 2       # collision or full pool: this tree stops gathering for this step
_SIM_TOO_MANY = 3   # a position with more legal actions than edge slots


# ------------------------------------------------------------------------------------------------ roots
@helper
def prepare_root(variant, prior, num_edges, root_prior, root_fresh, full_search, gumbel_logits, rng, cf, ci, b, work):
    """A root that has just been evaluated, or a search that starts on an expanded root: keep the clean prior of
    a fresh root, then the variant's root noise (Dirichlet on fresh roots of full searches; Gumbel)."""
    fresh = root_fresh[b]
    if fresh:
        root_fresh[b] = False
        for e in range(num_edges[b, ROOT]):
            root_prior[b, e] = prior[b, ROOT, e]
    variant.perturb_root(prior, num_edges, full_search, gumbel_logits, rng, cf, ci, b, fresh, work)


@kernel
def begin_search(variant, t, cf, ci, active, work, others_idle):
    """Start a search on every active tree: draw full or cheap (playout cap), reset the per-search counters.
    With ``others_idle`` the other trees get an empty search; otherwise they are left alone (they may be in the
    middle of theirs: ``BatchedMCTS.start_searches``)."""
    B = t.num_nodes.shape[0]
    E = t.child.shape[2]
    p_full = cf[F_FULL_PROB]
    for b in range(B):
        if not active[b] and not others_idle:
            continue
        t.sims_done[b] = 0
        t.root_sims[b] = 0
        for e in range(E):
            t.root_visits[b, e] = 0
        if not active[b] or t.flags[b, ROOT] == TERMINAL:
            t.sims_left[b] = 0
            t.search_sims[b] = 0
            continue
        full = True
        if p_full < 1.0:
            full = uniform(t.rng, b) < p_full
        t.full_search[b] = full
        sims = ci[I_SIMS_FULL] if full else ci[I_SIMS_CHEAP]
        t.sims_left[b] = sims
        t.search_sims[b] = sims
        if t.flags[b, ROOT] == EXPANDED:
            prepare_root(variant, t.prior, t.num_edges, t.root_prior, t.root_fresh, t.full_search, t.gumbel_logits,
                         t.rng, cf, ci, b, work)


# ------------------------------------------------------------------------------------------------ leaves
@helper
def encode_planes(rules, params, state, planes):
    """The network input planes of ``state`` into ``planes`` (zeroed first: encoders write only the ones)."""
    for x in range(planes.shape[0]):
        for y in range(planes.shape[1]):
            for z in range(planes.shape[2]):
                planes[x, y, z] = 0.0
    rules.encode(params, state, planes)


@_loop
def _emit(rules, params, state, lv, ci, l, b, node):
    """Write leaf ``l`` (tree ``b``, node ``node``) for the evaluator: its planes, state or hash as asked."""
    st = state[b, node]
    lv.tree[l] = b
    lv.node[l] = node
    if ci[I_WANT_PLANES] != 0:
        encode_planes(rules, params, st, lv.planes[l])
    if ci[I_WANT_STATES] != 0:
        copy(lv.states[l], st)
    if ci[I_CACHE] != 0:
        lv.hash[l] = rules.state_hash(params, st)


@_loop
def _apply_leaf(rules, params, variant, t, lv, cf, ci, l):
    """Expand leaf ``l`` with its evaluation and back the value up (a root is prepared instead).
    False if the evaluation is unusable (NaN logits, value outside [-1, 1])."""
    b = lv.tree[l]
    node = lv.node[l]
    value = lv.value[l]
    if not (-1.0001 <= value <= 1.0001):  # also NaN
        return False
    if not expand(t.prior, t.edge_action, t.num_edges, t.raw_value, t.flags, b, node, lv.logits, l, value):
        return False
    if ci[I_DECISIVE] != 0:
        exact = decisive(rules, params, t.state, lv.scratch, lv.scratch_legal, t.prior, t.edge_action, t.num_edges,
                         t.raw_value, b, node, lv.work)
        if exact != NO_EXACT_VALUE:
            value = exact
    if node == ROOT:
        prepare_root(variant, t.prior, t.num_edges, t.root_prior, t.root_fresh, t.full_search, t.gumbel_logits,
                     t.rng, cf, ci, b, lv.work)
    else:
        backup(t.value_sum, t.parent, t.parent_edge, t.player, cf[F_VIRTUAL_LOSS], b, node, value)
    return True


@kernel
def apply_evaluations(rules, params, variant, t, lv, cache, cf, ci, n_in):
    """Expand the ``n_in`` evaluated leaves in ``lv`` and back their values up (a root is prepared instead), storing
    the evaluations in the cache when it is on. Returns 0, or -(1 + l) if the evaluation of leaf ``l`` is
    unusable. (Apart from ``step`` so that a driver kernel can apply evaluations without linking the gather.)"""
    use_cache = ci[I_CACHE] != 0
    A = lv.logits.shape[1]
    for l in range(n_in):
        if not _apply_leaf(rules, params, variant, t, lv, cf, ci, l):
            return -(l + 1)
        if use_cache:
            key = lv.hash[l]
            slot = cache_slot(key, cache.keys.shape[0])
            cache.keys[slot] = key
            cache.filled[slot] = True
            for a in range(A):
                cache.logits[slot, a] = lv.logits[l, a]
            cache.value[slot] = lv.value[l]
    return 0


# ------------------------------------------------------------------------------------------------ built-in evaluators
@kernel
def rollout_value(rules, params, src, scratch, legal, rng, r, rollouts, max_length):
    """Mean result of ``rollouts`` uniformly random games from ``src``, for the player to move at ``src``."""
    mover = rules.to_play(params, src)
    total = 0.0
    for _ in range(rollouts):
        copy(scratch, src)
        out = rules.outcome(params, scratch)
        ply = 0
        while out == ONGOING and ply < max_length:
            n_legal = rules.legal_mask(params, scratch, legal)
            if n_legal == 0:
                break
            pick = min(np.int64(uniform(rng, r) * n_legal), n_legal - 1)
            a = 0
            while True:
                if legal[a]:
                    if pick == 0:
                        break
                    pick -= 1
                a += 1
            rules.apply(params, scratch, a)
            out = rules.outcome(params, scratch)
            ply += 1
        if out != ONGOING:
            total += out if mover == 0 else -out
    return total / rollouts


@kernel
def rollout_states(rules, params, states, scratch, mask, rng, rollouts, max_length, out):
    """Rollout values of standalone states (``RolloutEvaluator.evaluate_states``); ``rng``: uint64[1]."""
    for l in range(states.shape[0]):
        out[l] = rollout_value(rules, params, states[l], scratch, mask, rng, 0, rollouts, max_length)


@_loop
def _evaluate_builtin(rules, params, variant, t, lv, cf, ci, lo, hi):
    """Evaluate leaves ``lo..hi-1`` in place and apply them: uniform logits, and a value of 0 (uniform) or
    from random rollouts."""
    rollouts = ci[I_ROLLOUTS] if ci[I_EVAL_KIND] == EVAL_ROLLOUT else 0
    for l in range(lo, hi):
        for a in range(lv.logits.shape[1]):
            lv.logits[l, a] = 0.0
        if rollouts > 0:
            b = lv.tree[l]
            lv.value[l] = rollout_value(rules, params, t.state[b, lv.node[l]], lv.states[l], lv.legal[l], t.rng, b,
                                        rollouts, ci[I_MAX_LENGTH])
        else:
            lv.value[l] = 0.0
    for l in range(lo, hi):
        _apply_leaf(rules, params, variant, t, lv, cf, ci, l)


# ------------------------------------------------------------------------------------------------ gathering
@_loop
def _descend(rules, params, variant, t, lv, cf, ci, b, slot):
    """Select from the root down to a node not yet expanded, adding a virtual visit and loss on every edge, and
    create the leaf's node. Returns (leaf, node reached, created): leaf -1 when the pool is full at that node,
    -2 when the new node has more legal actions than edge slots."""
    visit_count = t.visit_count
    node_visits = t.node_visits
    vl = cf[F_VIRTUAL_LOSS]
    n = ROOT
    created = False
    while True:
        if t.flags[b, n] != EXPANDED:
            return n, n, created
        if n == ROOT:
            e = variant.select_root(visit_count, t.value_sum, t.prior, t.num_edges, node_visits, t.raw_value,
                                    t.gumbel_logits, t.root_visits, t.search_sims, t.root_sims, t.full_search, cf,
                                    ci, b, lv.work)
        else:
            e = variant.select_interior(visit_count, t.value_sum, t.prior, t.num_edges, node_visits, t.raw_value, cf,
                                        ci, b, n, lv.work)
        if e < 0:  # no legal action in a position the rules call unfinished: score it as it stands
            return n, n, created
        c = t.child[b, n, e]
        if c == UNVISITED and t.num_nodes[b] >= visit_count.shape[1]:
            return -1, n, created  # pool full (the driver sizes it so this does not happen): end this search
        visit_count[b, n, e] += 1
        node_visits[b, n] += 1
        t.value_sum[b, n, e] -= vl
        if n == ROOT:
            t.root_visits[b, e] += 1
            t.root_sims[b] += 1
        if c == UNVISITED:
            c = create_child(rules, params, visit_count, t.value_sum, t.prior, t.child, t.edge_action, t.num_edges,
                             t.parent, t.parent_edge, node_visits, t.raw_value, t.flags, t.player, t.state,
                             t.num_nodes, lv.legal, slot, b, n, e)
            if c < 0:
                return -2, n, created
            created = True
        n = c


@_loop
def _cache_hit(rules, params, t, lv, cache, cf, ci, b, leaf):
    """Expand ``leaf`` from the cache and back it up if its position is there (counting hits and misses)."""
    slot = cache_probe(rules, params, t.state, b, leaf, cache.keys, cache.filled)
    if slot < 0:
        cache.stats[1] += 1
        return False
    cache.stats[0] += 1
    expand(t.prior, t.edge_action, t.num_edges, t.raw_value, t.flags, b, leaf, cache.logits, slot, cache.value[slot])
    value = cache.value[slot]
    if ci[I_DECISIVE] != 0:
        exact = decisive(rules, params, t.state, lv.scratch, lv.scratch_legal, t.prior, t.edge_action, t.num_edges,
                         t.raw_value, b, leaf, lv.work)
        if exact != NO_EXACT_VALUE:
            value = exact
    backup(t.value_sum, t.parent, t.parent_edge, t.player, cf[F_VIRTUAL_LOSS], b, leaf, value)
    return True


@_loop
def _simulate(rules, params, variant, t, lv, cache, cf, ci, b, slot):
    """One simulation of tree ``b``: descend, then back a terminal node or a cache hit up on the spot, or write
    the leaf to ``slot`` for the evaluator. Returns a ``_SIM_*`` code."""
    vl = cf[F_VIRTUAL_LOSS]
    leaf, n, created = _descend(rules, params, variant, t, lv, cf, ci, b, slot)
    if leaf == -2:
        return _SIM_TOO_MANY
    if leaf == -1:  # pool full
        revert(t.visit_count, t.value_sum, t.node_visits, t.parent, t.parent_edge, t.root_visits, t.root_sims, vl,
               b, n)
        t.sims_left[b] = 0
        return _SIM_WAIT
    if t.flags[b, leaf] == PENDING and not created:  # collision with a leaf in flight: wait for the next step
        revert(t.visit_count, t.value_sum, t.node_visits, t.parent, t.parent_edge, t.root_visits, t.root_sims, vl,
               b, leaf)
        return _SIM_WAIT
    t.sims_left[b] -= 1
    t.sims_done[b] += 1
    if t.flags[b, leaf] != PENDING:  # terminal
        backup(t.value_sum, t.parent, t.parent_edge, t.player, vl, b, leaf, t.raw_value[b, leaf])
        return _SIM_DONE
    if ci[I_CACHE] != 0 and _cache_hit(rules, params, t, lv, cache, cf, ci, b, leaf):
        return _SIM_DONE
    _emit(rules, params, t.state, lv, ci, slot, b, leaf)
    return _SIM_LEAF


@_loop
def _gather_tree(rules, params, variant, t, lv, cache, cf, ci, b, L):
    """Tree ``b``'s leaves for this step, written from slot ``L``: up to ``leaves_per_tree``, fewer when its
    budget is spent or a descent collides; with a built-in evaluator the whole search runs here. Returns the
    next free slot, or ``STEP_TOO_MANY_ACTIONS``."""
    if t.sims_left[b] <= 0:
        return L
    if t.flags[b, ROOT] == TERMINAL:
        t.sims_left[b] = 0
        return L
    builtin = ci[I_EVAL_KIND] != EVAL_EXTERNAL
    if t.flags[b, ROOT] == PENDING:  # a root never evaluated: evaluate it first (not counted as a simulation)
        for a in range(lv.legal.shape[1]):
            lv.legal[L, a] = False
        for e in range(t.num_edges[b, ROOT]):
            lv.legal[L, t.edge_action[b, ROOT, e]] = True
        _emit(rules, params, t.state, lv, ci, L, b, ROOT)
        if not builtin:
            return L + 1
        _evaluate_builtin(rules, params, variant, t, lv, cf, ci, L, L + 1)
    first = L
    while t.sims_left[b] > 0:
        gathered = 0
        while t.sims_left[b] > 0 and gathered < ci[I_LEAVES]:
            code = _simulate(rules, params, variant, t, lv, cache, cf, ci, b, L)
            if code == _SIM_LEAF:
                L += 1
                gathered += 1
            elif code == _SIM_WAIT:
                break
            elif code == _SIM_TOO_MANY:
                return STEP_TOO_MANY_ACTIONS
        if not builtin:
            break
        _evaluate_builtin(rules, params, variant, t, lv, cf, ci, first, L)
        L = first
    return L


@kernel
def step(rules, params, variant, t, lv, cache, cf, ci, n_in, gather):
    """One round trip of a search.

    First the ``n_in`` evaluations in ``lv`` (from the previous step) are applied: leaves expanded, values
    backed up. Then (if ``gather``; without it the call only applies) each tree runs simulations until it has
    ``leaves_per_tree`` leaves in flight, its budget is spent or a descent collides with a leaf already in
    flight. A descent selects from the root, adding a virtual loss on every edge, and creates the leaf's node
    (its state copied once, here); terminal nodes and cache hits are backed up on the spot. With a built-in
    evaluator (``I_EVAL_KIND``) each tree's leaves are evaluated and applied here, step after step, until its
    search is done (trees are independent, so the result is the same as with round trips, and each tree's
    arrays stay in cache).

    Returns the number of leaves written to ``lv`` for the evaluator (0: every search is done), -(1 + l) if
    the evaluation of leaf ``l`` is unusable, or ``STEP_TOO_MANY_ACTIONS``.
    """
    if n_in > 0:
        bad = apply_evaluations(rules, params, variant, t, lv, cache, cf, ci, n_in)
        if bad < 0:
            return bad
    if not gather:
        return 0
    L = 0
    for b in range(t.num_nodes.shape[0]):
        L = _gather_tree(rules, params, variant, t, lv, cache, cf, ci, b, L)
        if L < 0:
            return L
    return L
