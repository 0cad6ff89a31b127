"""Numba kernels of the batched MCTS: selection, expansion, backup, virtual loss, leaf gathering, root noise,
Gumbel sequential halving, playout caps, forced playouts, subtree reuse and root summaries.

The tree keeps the statistics of a node's legal actions only, in ``E`` edge slots (``edge_action`` maps a slot to
its action): selection and memory scale with the legal moves (about 30 in chess), not the 4,672 actions of
the policy. Evaluator logits and the root results are over all ``A`` actions.

Everything here is ``@njit(cache=True)`` over the arrays of ``engine.mcts.tree`` and takes the game's
``rules`` namedtuple of kernels as an argument (as ``engine.perft`` does), so each game gets its own
compiled copy. The public kernels take the tree and leaf buffers as named tuples and unpack the arrays they
use into locals; helpers take plain arrays (a tuple of twenty arrays passed down a chain of compiled calls
costs seconds of compile time per level). Everything is compiled without Numba's reference counting
(``_nrt=False``): nothing here allocates, and the counting of array arguments and views took a third of the
time of a simulation. The driver (``engine.mcts.search.BatchedMCTS``) makes one call per *step*: ``step``
applies the evaluations of the previous step's leaves and gathers the next ones (up to ``leaves_per_tree``
per tree, kept apart by virtual loss).

Configuration travels as two small arrays (``cfg_f`` floats, ``cfg_i`` integers) indexed by the ``F_*`` and
``I_*`` constants, so changing a hyperparameter never recompiles.

Randomness comes from one splitmix64 stream per tree (``tree.rng``): a tree's search depends only on its own
seed, whatever the batch it runs in.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.base import ONGOING

from .tree import EXPANDED, NO_PARENT, PENDING, ROOT, TERMINAL, UNVISITED

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
I_GUMBEL = 1         # 1: Gumbel root + completed-Q interior selection; 0: PUCT
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

_kernel = njit(cache=True, _nrt=False)
"""Compiled without reference counting (nothing here allocates); callable from Python."""
_helper = njit(cache=True, _nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)
"""Called from compiled code only: no Python wrapper to build (a fifth less compile time)."""

EVAL_EXTERNAL = 0
EVAL_UNIFORM = 1
EVAL_ROLLOUT = 2

# what step returns besides a leaf count
STEP_TOO_MANY_ACTIONS = -(1 << 40)  # a position with more legal actions than the E edge slots

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_INV_2_53 = 1.0 / 9007199254740992.0
_TINY_PRIOR = 1e-30


# ------------------------------------------------------------------------------------------------ RNG
@_kernel
def splitmix64(x):
    """One splitmix64 output for input ``x`` (uint64); also used to derive tree seeds."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_helper
def _next_u64(rng, b):
    s = rng[b] + _GOLDEN
    rng[b] = s
    z = (s ^ (s >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@_helper
def _uniform(rng, b):
    """Uniform in (0, 1): never exactly 0 or 1, so logs are safe."""
    return (np.float64(_next_u64(rng, b) >> _S11) + 0.5) * _INV_2_53


@_helper
def _normal(rng, b):
    return np.sqrt(-2.0 * np.log(_uniform(rng, b))) * np.cos(2.0 * np.pi * _uniform(rng, b))


@_helper
def _gamma(rng, b, alpha):
    """Gamma(alpha, 1) by Marsaglia and Tsang (2000); alpha < 1 through the U^(1/alpha) boost."""
    boost = 1.0
    if alpha < 1.0:
        boost = _uniform(rng, b) ** (1.0 / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    while True:
        x = _normal(rng, b)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if np.log(_uniform(rng, b)) < 0.5 * x * x + d - d * v + d * np.log(v):
            return d * v * boost


@_helper
def _gumbel(rng, b):
    return -np.log(-np.log(_uniform(rng, b)))


# ------------------------------------------------------------------------------------------------ nodes
@_helper
def _copy(dst, src):
    """dst[:] = src as a plain loop (Numba's slice assignment guards against overlap with a temporary)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@_helper
def _init_node(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, node_visits, raw_value,
               flags, player, state, b, c, legal_out):
    """Fill node ``c`` from its state: player, terminal value, one edge per legal action (the legal mask also
    goes to ``legal_out``). False if the position has more legal actions than edge slots."""
    st = state[b, c]
    node_visits[b, c] = 0
    raw_value[b, c] = 0.0
    num_edges[b, c] = 0
    mover = rules.to_play(params, st)
    player[b, c] = mover
    out = rules.outcome(params, st)
    if out != ONGOING:
        flags[b, c] = TERMINAL
        raw_value[b, c] = out if mover == 0 else -out  # outcome is from the first player's view
        for a in range(legal_out.shape[0]):
            legal_out[a] = False
        return True
    flags[b, c] = PENDING
    if rules.legal_mask(params, st, legal_out) > child.shape[2]:
        return False
    e = 0
    for a in range(legal_out.shape[0]):
        if legal_out[a]:
            edge_action[b, c, e] = a
            child[b, c, e] = UNVISITED
            visit_count[b, c, e] = 0
            value_sum[b, c, e] = 0.0
            prior[b, c, e] = 0.0
            e += 1
    num_edges[b, c] = e
    return True


@_helper
def _create_child(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, parent, parent_edge,
                  node_visits, raw_value, flags, player, state, num_nodes, legal, slot, b, n, e):
    """Append the child of node ``n`` along edge ``e``: its state is copied once, here; its legal mask goes to
    ``legal[slot]``. Returns its index, or -1 if it has more legal actions than edge slots."""
    c = num_nodes[b]
    num_nodes[b] = c + 1
    for i in range(state.shape[2]):
        state[b, c, i] = state[b, n, i]
    rules.apply(params, state[b, c], edge_action[b, n, e])
    parent[b, c] = n
    parent_edge[b, c] = e
    child[b, n, e] = c
    if not _init_node(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, node_visits,
                      raw_value, flags, player, state, b, c, legal[slot]):
        return -1
    return c


@_helper
def _cache_probe(rules, params, state, b, node, keys, filled):
    """The cache slot holding the evaluation of ``state[b, node]``, or -1."""
    key = rules.state_hash(params, state[b, node])
    slot = _cache_slot(key, keys.shape[0])
    return slot if (filled[slot] and keys[slot] == key) else -1


@_kernel
def init_root(rules, params, t, b, legal_scratch):
    """Make ``t.state[b, ROOT]`` (already written) a fresh one-node tree; False if it has too many legal actions."""
    t.num_nodes[b] = 1
    t.parent[b, ROOT] = NO_PARENT
    t.parent_edge[b, ROOT] = -1
    t.root_fresh[b] = True
    t.sims_left[b] = 0
    return _init_node(rules, params, t.visit_count, t.value_sum, t.prior, t.child, t.edge_action, t.num_edges,
                      t.node_visits, t.raw_value, t.flags, t.player, t.state, b, ROOT, legal_scratch)


@_helper
def _expand(prior, edge_action, num_edges, raw_value, flags, b, n, logits, row, value):
    """Priors = softmax of ``logits[row]`` over the node's legal actions; the node becomes selectable.
    False on NaN logits."""
    m = -np.inf
    for e in range(num_edges[b, n]):
        x = logits[row, edge_action[b, n, e]]
        if np.isnan(x):
            return False
        if x > m:
            m = x
    total = 0.0
    for e in range(num_edges[b, n]):
        x = logits[row, edge_action[b, n, e]]
        p = 1.0 if x == m else np.exp(x - m)  # uniform logits need no exp
        prior[b, n, e] = p
        total += p
    inv = 1.0 / total
    for e in range(num_edges[b, n]):
        prior[b, n, e] *= inv
    raw_value[b, n] = value
    flags[b, n] = EXPANDED
    return True


NO_EXACT_VALUE = 2.0
"""What ``_decisive`` returns when the look-ahead proves nothing (values are in [-1, 1])."""


@_helper
def _decisive(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value, b, n, work):
    """Decisive and anti-decisive moves (Teytaud and Teytaud 2010) at node ``n``, a two-ply look-ahead.

    A move that wins on the spot gets the whole prior: the node is a win for its mover (returns 1). Otherwise
    every move after which the opponent wins on the spot loses, so its prior goes to the other moves; if every
    move loses that way the node is lost (returns -1). Both are exact, and the raw value is set to them.
    Returns ``NO_EXACT_VALUE`` when neither holds.

    Without it a network prior that misses an immediate win or the only block (in a position unlike its
    self-play games) keeps the search off that move for hundreds of simulations: the first-play urgency values
    an unvisited move below the visited ones."""
    st = state[b, n]
    me = rules.to_play(params, st)
    won = 1 if me == 0 else -1  # outcomes are from the first player's view
    ne = num_edges[b, n]
    after = scratch[0]
    reply = scratch[1]
    for e in range(ne):
        _copy(after, st)
        rules.apply(params, after, edge_action[b, n, e])
        if rules.outcome(params, after) == won:
            for f in range(ne):
                prior[b, n, f] = 0.0
            prior[b, n, e] = 1.0
            raw_value[b, n] = 1.0
            return 1.0
    safe_prior = 0.0
    safe = 0
    for e in range(ne):
        _copy(after, st)
        rules.apply(params, after, edge_action[b, n, e])
        loses = False
        if rules.outcome(params, after) == ONGOING and rules.to_play(params, after) != me:
            rules.legal_mask(params, after, scratch_legal)
            for a in range(scratch_legal.shape[0]):
                if scratch_legal[a]:
                    _copy(reply, after)
                    rules.apply(params, reply, a)
                    if rules.outcome(params, reply) == -won:
                        loses = True
                        break
        work[e] = 1.0 if loses else 0.0
        if not loses:
            safe += 1
            safe_prior += prior[b, n, e]
    if safe == ne:
        return NO_EXACT_VALUE
    if safe == 0:  # lost whatever the mover does: the prior stays as it was
        raw_value[b, n] = -1.0
        return -1.0
    for e in range(ne):
        if work[e] != 0.0:
            prior[b, n, e] = 0.0
        elif safe_prior > 0.0:
            prior[b, n, e] /= safe_prior
        else:  # the network gave the safe moves no weight at all
            prior[b, n, e] = 1.0 / safe
    return NO_EXACT_VALUE


# ------------------------------------------------------------------------------------------------ selection
@_helper
def _puct_scale(cf, nv):
    """c(s) * sqrt(N(s)) with c(s) = log((1 + N(s) + c_base) / c_base) + c_init (tabulated for small N)."""
    if nv < PUCT_TABLE:
        return cf[F_TABLE + nv]
    c_base = cf[F_C_BASE]
    return (np.log((1.0 + nv + c_base) / c_base) + cf[F_C_INIT]) * np.sqrt(np.float64(nv))


@_helper
def _select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, n, fpu_reduction,
                 forced_k):
    """argmax_a Q(s,a) + c(s) P(s,a) sqrt(N(s)) / (1 + N(s,a)) over the edges of node ``n``.

    Unvisited actions take the first-play-urgency value Q(s) - fpu_reduction * sqrt(sum of visited priors)
    (Q(s) the node's running mean), never below -1; among them only the largest prior can win, so one pass
    suffices.
    With ``forced_k > 0`` (root, forced playouts) a visited child below sqrt(k P(s,a) N(s)) visits is taken first.
    """
    ne = num_edges[b, n]
    nv = node_visits[b, n]
    if forced_k > 0.0:
        deficit = 0.0
        forced = -1
        for e in range(ne):
            cnt = visit_count[b, n, e]
            if cnt > 0:
                d = np.sqrt(forced_k * prior[b, n, e] * nv) - cnt
                if d > deficit:
                    deficit = d
                    forced = e
        if forced >= 0:
            return forced
    scale = _puct_scale(cf, nv)
    best = -np.inf
    best_e = -1
    visited_prior = 0.0
    w_sum = 0.0
    best_p = -1.0
    best_pe = -1
    for e in range(ne):
        p = np.float64(prior[b, n, e])
        cnt = visit_count[b, n, e]
        if cnt == 0:
            if p > best_p:
                best_p = p
                best_pe = e
        else:
            w = np.float64(value_sum[b, n, e])
            w_sum += w
            visited_prior += p
            s = w / cnt + scale * p / (1.0 + cnt)
            if s > best:
                best = s
                best_e = e
    if best_pe >= 0:
        fpu_value = (raw_value[b, n] + w_sum) / (1.0 + nv)
        if fpu_reduction != 0.0:
            # never below a loss: an unvisited move valued under -1 loses to a visited move known to lose, and a
            # move the prior disfavours (an immediate win) would then never be tried
            fpu_value = max(fpu_value - fpu_reduction * np.sqrt(visited_prior), -1.0)
        s = fpu_value + scale * best_p
        if s > best:
            best_e = best_pe
    return best_e


@_helper
def _sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, n, out):
    """out[e] = sigma(completedQ(e)) = (c_visit + max_b N(b)) * c_scale * q(e) (Danihelka et al. 2022, eq. 8).

    Unvisited actions are completed with v_mix, the node's raw value mixed with the prior-weighted Q of the
    visited actions (appendix D); q is min-max rescaled to [0, 1] when ``I_RESCALE`` (as in mctx).
    """
    ne = num_edges[b, n]
    sum_n = 0
    sum_p = 0.0
    weighted_q = 0.0
    max_n = 0
    for e in range(ne):
        cnt = visit_count[b, n, e]
        if cnt > 0:
            p = max(np.float64(prior[b, n, e]), _TINY_PRIOR)
            sum_n += cnt
            sum_p += p
            weighted_q += p * value_sum[b, n, e] / cnt
            if cnt > max_n:
                max_n = cnt
    v_mix = np.float64(raw_value[b, n])
    if sum_n > 0:
        v_mix = (v_mix + sum_n * weighted_q / sum_p) / (1.0 + sum_n)
    lo = np.inf
    hi = -np.inf
    for e in range(ne):
        cnt = visit_count[b, n, e]
        q = value_sum[b, n, e] / cnt if cnt > 0 else v_mix
        out[e] = q
        lo = min(lo, q)
        hi = max(hi, q)
    scale = (cf[F_C_VISIT] + max_n) * cf[F_C_SCALE]
    if ci[I_RESCALE] != 0:
        scale /= max(hi - lo, 1e-8)
    else:
        lo = 0.0
    for e in range(ne):
        out[e] = (out[e] - lo) * scale


@_kernel
def considered_visit(m, n, i):
    """Sequential halving as one visit schedule: the visit count an action must have to be chosen at root
    simulation ``i`` of ``n``, with ``m`` actions considered (halved each phase, phases of equal budget)."""
    if m <= 1:
        return i
    log2m = 0
    while (1 << log2m) < m:
        log2m += 1
    base = 0
    pos = 0
    k = m
    while True:
        extra = max(1, n // (log2m * k))
        if i < pos + extra * k:
            return base + (i - pos) // k
        pos += extra * k
        base += extra
        k = max(2, k // 2)


@_helper
def _select_gumbel_root(visit_count, value_sum, prior, num_edges, raw_value, gumbel_logits, root_visits, target,
                        cf, ci, b, work):
    """The root edge with ``target`` visits this search that maximises g + logits + sigma(completedQ)."""
    _sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, ROOT, work)
    best = -np.inf
    best_e = -1
    any_best = -np.inf
    any_e = -1
    for e in range(num_edges[b, ROOT]):
        s = gumbel_logits[b, e] + work[e]
        if root_visits[b, e] == target and s > best:
            best = s
            best_e = e
        if s > any_best:
            any_best = s
            any_e = e
    return best_e if best_e >= 0 else any_e


@_helper
def _select_gumbel_interior(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, ci, b, n, work):
    """argmax_a pi'(a) - N(s,a) / (1 + N(s)) with pi' = softmax(logits + sigma(completedQ)) (eq. 14)."""
    ne = num_edges[b, n]
    _sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, n, work)
    # softmax(log p + sigma) = p exp(sigma - max sigma) / sum (no logarithms on the way down the tree)
    smax = -np.inf
    for e in range(ne):
        smax = max(smax, work[e])
    total = 0.0
    for e in range(ne):
        p = max(np.float64(prior[b, n, e]), _TINY_PRIOR) * np.exp(work[e] - smax)
        work[e] = p
        total += p
    inv_visits = 1.0 / (1.0 + node_visits[b, n])
    best = -np.inf
    best_e = -1
    for e in range(ne):
        s = work[e] / total - visit_count[b, n, e] * inv_visits
        if s > best:
            best = s
            best_e = e
    return best_e


# ------------------------------------------------------------------------------------------------ backup
@_helper
def _revert(visit_count, value_sum, node_visits, parent, parent_edge, root_visits, root_sims, vl, b, node):
    """Take back the virtual visits and losses of the path from the root to ``node`` (a collision)."""
    c = node
    while c != ROOT:
        p = parent[b, c]
        e = parent_edge[b, c]
        visit_count[b, p, e] -= 1
        node_visits[b, p] -= 1
        value_sum[b, p, e] += vl
        if p == ROOT:
            root_visits[b, e] -= 1
            root_sims[b] -= 1
        c = p


@_helper
def _backup(value_sum, parent, parent_edge, player, vl, b, node, value):
    """Add ``value`` (for the player to move at ``node``) along the path, flipping it where the mover changes,
    and remove the path's virtual losses (the virtual visits stay: they become real)."""
    v = np.float64(value)
    c = node
    while c != ROOT:
        p = parent[b, c]
        if player[b, p] != player[b, c]:
            v = -v
        value_sum[b, p, parent_edge[b, c]] += v + vl
        c = p


@_helper
def _cache_slot(key, size):
    return np.int64((np.uint64(key) * _GOLDEN) >> _S32) & (size - 1)


# ------------------------------------------------------------------------------------------------ roots
@_helper
def _prepare_root(prior, num_edges, root_prior, root_fresh, full_search, gumbel_logits, rng, cf, ci, b, work):
    """A root that has just been evaluated, or a search that starts on an expanded root: keep the clean
    prior of a fresh root and mix in Dirichlet noise (full searches), and draw the root's Gumbel noise."""
    ne = num_edges[b, ROOT]
    if root_fresh[b]:
        root_fresh[b] = False
        for e in range(ne):
            root_prior[b, e] = prior[b, ROOT, e]
        eps = cf[F_DIRICHLET_EPS]
        if ci[I_NOISE] != 0 and ci[I_GUMBEL] == 0 and full_search[b] and eps > 0.0:
            alpha = cf[F_DIRICHLET_ALPHA]
            total = 0.0
            for e in range(ne):
                g = _gamma(rng, b, alpha)
                work[e] = g
                total += g
            if total > 0.0:
                for e in range(ne):
                    prior[b, ROOT, e] = (1.0 - eps) * prior[b, ROOT, e] + eps * work[e] / total
    if ci[I_GUMBEL] != 0:
        scale = cf[F_GUMBEL_SCALE]
        for e in range(ne):
            g = _gumbel(rng, b) * scale if scale > 0.0 else 0.0
            gumbel_logits[b, e] = np.log(max(np.float64(prior[b, ROOT, e]), _TINY_PRIOR)) + g


@_kernel
def begin_search(t, cf, ci, active, work, others_idle):
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
            full = _uniform(t.rng, b) < p_full
        t.full_search[b] = full
        sims = ci[I_SIMS_FULL] if full else ci[I_SIMS_CHEAP]
        t.sims_left[b] = sims
        t.search_sims[b] = sims
        if t.flags[b, ROOT] == EXPANDED:
            _prepare_root(t.prior, t.num_edges, t.root_prior, t.root_fresh, t.full_search, t.gumbel_logits, t.rng,
                          cf, ci, b, work)


# ------------------------------------------------------------------------------------------------ steps
@_helper
def encode_planes(rules, params, state, planes):
    """The network input planes of ``state`` into ``planes`` (zeroed first: encoders write only the ones)."""
    for x in range(planes.shape[0]):
        for y in range(planes.shape[1]):
            for z in range(planes.shape[2]):
                planes[x, y, z] = 0.0
    rules.encode(params, state, planes)


@_helper
def _emit(rules, params, state, planes_out, states_out, hash_out, ci, l, b, node):
    """Write leaf ``l`` (tree ``b``, node ``node``) for the evaluator: its planes, state or hash as asked."""
    st = state[b, node]
    if ci[I_WANT_PLANES] != 0:
        encode_planes(rules, params, st, planes_out[l])
    if ci[I_WANT_STATES] != 0:
        _copy(states_out[l], st)
    if ci[I_CACHE] != 0:
        hash_out[l] = rules.state_hash(params, st)


@_helper
def _apply_leaf(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value, flags,
                value_sum, parent, parent_edge, player, root_prior, root_fresh, full_search, gumbel_logits, rng,
                leaf_tree, leaf_node, leaf_logits, leaf_value, cf, ci, l, work):
    """Expand leaf ``l`` with its evaluation and back the value up (a root is prepared instead).
    False if the evaluation is unusable (NaN logits, value outside [-1, 1])."""
    b = leaf_tree[l]
    node = leaf_node[l]
    value = leaf_value[l]
    if not (-1.0001 <= value <= 1.0001):  # also NaN
        return False
    if not _expand(prior, edge_action, num_edges, raw_value, flags, b, node, leaf_logits, l, value):
        return False
    if ci[I_DECISIVE] != 0:
        exact = _decisive(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value, b,
                          node, work)
        if exact != NO_EXACT_VALUE:
            value = exact
    if node == ROOT:
        _prepare_root(prior, num_edges, root_prior, root_fresh, full_search, gumbel_logits, rng, cf, ci, b, work)
    else:
        _backup(value_sum, parent, parent_edge, player, cf[F_VIRTUAL_LOSS], b, node, value)
    return True


@_helper
def _evaluate_builtin(rules, params, ci, lo, hi, logits, values, states, legal, leaf_tree, leaf_node, state, rng):
    """Uniform logits, and a value of 0 (uniform) or from random rollouts, for leaves ``lo..hi-1``."""
    rollouts = ci[I_ROLLOUTS] if ci[I_EVAL_KIND] == EVAL_ROLLOUT else 0
    for l in range(lo, hi):
        for a in range(logits.shape[1]):
            logits[l, a] = 0.0
        if rollouts > 0:
            b = leaf_tree[l]
            values[l] = rollout_value(rules, params, state[b, leaf_node[l]], states[l], legal[l], rng, b, rollouts,
                                      ci[I_MAX_LENGTH])
        else:
            values[l] = 0.0


@_kernel
def apply_evaluations(rules, params, t, lv, cache, cf, ci, n_in):
    """Expand the ``n_in`` evaluated leaves in ``lv`` and back their values up (a root is prepared instead), storing
    the evaluations in the cache when it is on. Returns 0, or -(1 + l) if the evaluation of leaf ``l`` is
    unusable. (Apart from ``step`` so that a driver kernel can apply evaluations without linking the gather.)"""
    hash_out = lv.hash
    leaf_logits = lv.logits
    leaf_value = lv.value
    cache_keys = cache.keys
    use_cache = ci[I_CACHE] != 0
    A = leaf_logits.shape[1]
    for l in range(n_in):
        if not _apply_leaf(rules, params, t.state, lv.scratch, lv.scratch_legal, t.prior, t.edge_action,
                           t.num_edges, t.raw_value, t.flags, t.value_sum, t.parent, t.parent_edge, t.player,
                           t.root_prior, t.root_fresh, t.full_search, t.gumbel_logits, t.rng, lv.tree, lv.node,
                           leaf_logits, leaf_value, cf, ci, l, lv.work):
            return -(l + 1)
        if use_cache:
            slot = _cache_slot(hash_out[l], cache_keys.shape[0])
            cache_keys[slot] = hash_out[l]
            cache.filled[slot] = True
            for a in range(A):
                cache.logits[slot, a] = leaf_logits[l, a]
            cache.value[slot] = leaf_value[l]
    return 0


@_kernel
def step(rules, params, t, lv, cache, cf, ci, n_in, gather):
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
    visit_count = t.visit_count
    value_sum = t.value_sum
    prior = t.prior
    child = t.child
    edge_action = t.edge_action
    num_edges = t.num_edges
    parent = t.parent
    parent_edge = t.parent_edge
    node_visits = t.node_visits
    raw_value = t.raw_value
    flags = t.flags
    player = t.player
    state = t.state
    num_nodes = t.num_nodes
    sims_left = t.sims_left
    sims_done = t.sims_done
    search_sims = t.search_sims
    full_search = t.full_search
    root_fresh = t.root_fresh
    root_prior = t.root_prior
    root_visits = t.root_visits
    root_sims = t.root_sims
    gumbel_logits = t.gumbel_logits
    rng = t.rng
    legal = lv.legal
    planes_out = lv.planes
    states_out = lv.states
    hash_out = lv.hash
    leaf_tree = lv.tree
    leaf_node = lv.node
    leaf_logits = lv.logits
    leaf_value = lv.value
    work = lv.work
    scratch = lv.scratch
    scratch_legal = lv.scratch_legal
    cache_keys = cache.keys
    cache_filled = cache.filled
    cache_logits = cache.logits
    cache_value = cache.value
    cache_stats = cache.stats
    B = num_nodes.shape[0]
    capacity = visit_count.shape[1]
    A = legal.shape[1]
    k = ci[I_LEAVES]
    use_cache = ci[I_CACHE] != 0
    gumbel = ci[I_GUMBEL] != 0
    decisive = ci[I_DECISIVE] != 0
    builtin = ci[I_EVAL_KIND] != EVAL_EXTERNAL
    vl = cf[F_VIRTUAL_LOSS]
    fpu = cf[F_FPU]
    fpu_root = cf[F_FPU_ROOT]

    # ---- the previous step's evaluations
    if n_in > 0:
        bad = apply_evaluations(rules, params, t, lv, cache, cf, ci, n_in)
        if bad < 0:
            return bad
    if not gather:
        return 0

    # ---- gather the next leaves
    L = 0
    for b in range(B):
        if sims_left[b] <= 0:
            continue
        root_flag = flags[b, ROOT]
        if root_flag == TERMINAL:
            sims_left[b] = 0
            continue
        if root_flag == PENDING:  # a root never evaluated: evaluate it first (not counted as a simulation)
            for a in range(A):
                legal[L, a] = False
            for e in range(num_edges[b, ROOT]):
                legal[L, edge_action[b, ROOT, e]] = True
            leaf_tree[L] = b
            leaf_node[L] = ROOT
            _emit(rules, params, state, planes_out, states_out, hash_out, ci, L, b, ROOT)
            if not builtin:
                L += 1
                continue
            _evaluate_builtin(rules, params, ci, L, L + 1, leaf_logits, leaf_value, states_out, legal, leaf_tree,
                              leaf_node, state, rng)
            _apply_leaf(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value, flags,
                        value_sum, parent, parent_edge, player, root_prior, root_fresh, full_search, gumbel_logits,
                        rng, leaf_tree, leaf_node, leaf_logits, leaf_value, cf, ci, L, work)
        forced_k = cf[F_FORCED_K] if (ci[I_FORCED] != 0 and full_search[b] and not gumbel) else 0.0
        num_considered = min(ci[I_MAX_CONSIDERED], num_edges[b, ROOT])
        first = L
        while sims_left[b] > 0:
            gathered = 0
            while sims_left[b] > 0 and gathered < k:
                # ---- descend
                n = ROOT
                leaf = -1
                created = False
                while True:
                    if flags[b, n] != EXPANDED:
                        leaf = n
                        break
                    if gumbel:
                        if n == ROOT:
                            target = considered_visit(num_considered, search_sims[b], root_sims[b])
                            e = _select_gumbel_root(visit_count, value_sum, prior, num_edges, raw_value,
                                                    gumbel_logits, root_visits, target, cf, ci, b, work)
                        else:
                            e = _select_gumbel_interior(visit_count, value_sum, prior, num_edges, node_visits,
                                                        raw_value, cf, ci, b, n, work)
                    elif n == ROOT:
                        e = _select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, n,
                                         fpu_root, forced_k)
                    else:
                        e = _select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, n,
                                         fpu, 0.0)
                    if e < 0:  # no legal action in a position the rules call unfinished: score it as it stands
                        leaf = n
                        break
                    c = child[b, n, e]
                    if c == UNVISITED and num_nodes[b] >= capacity:
                        break  # pool full (the driver sizes it so this does not happen): end this search
                    visit_count[b, n, e] += 1
                    node_visits[b, n] += 1
                    value_sum[b, n, e] -= vl
                    if n == ROOT:
                        root_visits[b, e] += 1
                        root_sims[b] += 1
                    if c == UNVISITED:
                        c = _create_child(rules, params, visit_count, value_sum, prior, child, edge_action,
                                          num_edges, parent, parent_edge, node_visits, raw_value, flags, player,
                                          state, num_nodes, legal, L, b, n, e)
                        if c < 0:
                            return STEP_TOO_MANY_ACTIONS
                        created = True
                    n = c
                # ---- the leaf
                if leaf < 0:  # pool full
                    _revert(visit_count, value_sum, node_visits, parent, parent_edge, root_visits, root_sims, vl,
                            b, n)
                    sims_left[b] = 0
                    break
                if flags[b, leaf] == PENDING and not created:
                    _revert(visit_count, value_sum, node_visits, parent, parent_edge, root_visits, root_sims, vl,
                            b, leaf)
                    break  # collision with a leaf in flight: this tree waits for the next step
                sims_left[b] -= 1
                sims_done[b] += 1
                if flags[b, leaf] != PENDING:  # terminal
                    _backup(value_sum, parent, parent_edge, player, vl, b, leaf, raw_value[b, leaf])
                    continue
                if use_cache:
                    slot = _cache_probe(rules, params, state, b, leaf, cache_keys, cache_filled)
                    if slot >= 0:
                        cache_stats[0] += 1
                        _expand(prior, edge_action, num_edges, raw_value, flags, b, leaf, cache_logits, slot,
                                cache_value[slot])
                        value = cache_value[slot]
                        if decisive:
                            exact = _decisive(rules, params, state, scratch, scratch_legal, prior, edge_action,
                                              num_edges, raw_value, b, leaf, work)
                            if exact != NO_EXACT_VALUE:
                                value = exact
                        _backup(value_sum, parent, parent_edge, player, vl, b, leaf, value)
                        continue
                    cache_stats[1] += 1
                leaf_tree[L] = b
                leaf_node[L] = leaf
                _emit(rules, params, state, planes_out, states_out, hash_out, ci, L, b, leaf)
                L += 1
                gathered += 1
            if not builtin:
                break
            _evaluate_builtin(rules, params, ci, first, L, leaf_logits, leaf_value, states_out, legal, leaf_tree,
                              leaf_node, state, rng)
            for l in range(first, L):
                _apply_leaf(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value,
                            flags, value_sum, parent, parent_edge, player, root_prior, root_fresh, full_search,
                            gumbel_logits, rng, leaf_tree, leaf_node, leaf_logits, leaf_value, cf, ci, l, work)
            L = first
    return L


# ------------------------------------------------------------------------------------------------ built-in evaluators
@_kernel
def rollout_value(rules, params, src, scratch, legal, rng, r, rollouts, max_length):
    """Mean result of ``rollouts`` uniformly random games from ``src``, for the player to move at ``src``."""
    mover = rules.to_play(params, src)
    total = 0.0
    for _ in range(rollouts):
        _copy(scratch, src)
        out = rules.outcome(params, scratch)
        ply = 0
        while out == ONGOING and ply < max_length:
            n_legal = rules.legal_mask(params, scratch, legal)
            if n_legal == 0:
                break
            pick = min(np.int64(_uniform(rng, r) * n_legal), n_legal - 1)
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


@_kernel
def rollout_states(rules, params, states, scratch, mask, rng, rollouts, max_length, out):
    """Rollout values of standalone states (``RolloutEvaluator.evaluate_states``); ``rng``: uint64[1]."""
    for l in range(states.shape[0]):
        out[l] = rollout_value(rules, params, states[l], scratch, mask, rng, 0, rollouts, max_length)


# ------------------------------------------------------------------------------------------------ reuse
@_kernel
def advance(rules, params, t, b, action, legal_scratch):
    """Make the child along ``action`` the root, keeping its subtree (compacted to the front of the pool in
    index order: a node's new index never exceeds its old one, so the move is in place). A child never
    created or never evaluated starts a fresh tree. Returns the number of nodes kept (0: the new root has
    more legal actions than edge slots)."""
    visit_count = t.visit_count
    value_sum = t.value_sum
    prior = t.prior
    child = t.child
    edge_action = t.edge_action
    num_edges = t.num_edges
    parent = t.parent
    parent_edge = t.parent_edge
    node_visits = t.node_visits
    raw_value = t.raw_value
    flags = t.flags
    player = t.player
    state = t.state
    remap = t.remap
    c = -1
    for e in range(num_edges[b, ROOT]):
        if edge_action[b, ROOT, e] == action:
            c = child[b, ROOT, e]
    if c < 0 or flags[b, c] == PENDING:
        rules.apply(params, state[b, ROOT], action)
        return 1 if init_root(rules, params, t, b, legal_scratch) else 0
    nn = t.num_nodes[b]
    for x in range(nn):
        remap[x] = -1
    remap[c] = 0
    count = 1
    for x in range(c + 1, nn):  # parents come before children, so membership is known in one pass
        p = parent[b, x]
        if p >= 0 and remap[p] >= 0:
            remap[x] = count
            count += 1
    for x in range(c, nn):
        y = remap[x]
        if y < 0:
            continue
        ne = num_edges[b, x]
        if y != x:
            for e in range(ne):
                visit_count[b, y, e] = visit_count[b, x, e]
                value_sum[b, y, e] = value_sum[b, x, e]
                prior[b, y, e] = prior[b, x, e]
                child[b, y, e] = child[b, x, e]
                edge_action[b, y, e] = edge_action[b, x, e]
            num_edges[b, y] = ne
            parent_edge[b, y] = parent_edge[b, x]
            node_visits[b, y] = node_visits[b, x]
            raw_value[b, y] = raw_value[b, x]
            flags[b, y] = flags[b, x]
            player[b, y] = player[b, x]
            for i in range(state.shape[2]):
                state[b, y, i] = state[b, x, i]
        for e in range(ne):
            ch = child[b, y, e]
            if ch >= 0:
                child[b, y, e] = remap[ch]
        parent[b, y] = NO_PARENT if y == ROOT else remap[parent[b, x]]
    parent_edge[b, ROOT] = -1
    t.num_nodes[b] = count
    t.root_fresh[b] = True
    t.sims_left[b] = 0
    return count


# ------------------------------------------------------------------------------------------------ results
@_kernel
def summarize(t, cf, ci, which, visits, policy, q, value, best, prior_out, work):
    """Per tree flagged in ``which`` (the other rows are left as they are), over all A actions: root visits,
    policy target, Q, clean prior, value, and the move to play (-1 when the game is over).

    Policy target: normalised visits (KataGo policy-target pruning on full searches when enabled), or the
    Gumbel improved policy softmax(logits + sigma(completedQ)). Best move: most visits (ties: higher Q, then
    lower index), or with Gumbel the sequential-halving winner.
    """
    visit_count = t.visit_count
    value_sum = t.value_sum
    prior = t.prior
    edge_action = t.edge_action
    num_edges = t.num_edges
    raw_value = t.raw_value
    root_prior = t.root_prior
    root_visits = t.root_visits
    gumbel_logits = t.gumbel_logits
    B = t.num_nodes.shape[0]
    A = visits.shape[1]
    gumbel = ci[I_GUMBEL] != 0
    for b in range(B):
        if not which[b]:
            continue
        for a in range(A):
            visits[b, a] = 0
            policy[b, a] = 0.0
            q[b, a] = 0.0
            prior_out[b, a] = 0.0
        best[b] = -1
        if t.flags[b, ROOT] != EXPANDED:
            value[b] = raw_value[b, ROOT]
            continue
        ne = num_edges[b, ROOT]
        total = 0
        w_sum = 0.0
        for e in range(ne):
            a = edge_action[b, ROOT, e]
            cnt = visit_count[b, ROOT, e]
            visits[b, a] = cnt
            q[b, a] = value_sum[b, ROOT, e] / cnt if cnt > 0 else 0.0
            prior_out[b, a] = root_prior[b, e]
            total += cnt
            w_sum += value_sum[b, ROOT, e]
        value[b] = (raw_value[b, ROOT] + w_sum) / (1.0 + total)
        if gumbel:
            # improved policy softmax(logits + sigma(completedQ)); move: the most visited (this search) action
            # that maximises g + logits + sigma(completedQ) (gumbel_logits holds g + logits)
            _sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, ROOT, work)
            zmax = -np.inf
            most = -1
            for e in range(ne):
                zmax = max(zmax, np.log(max(np.float64(root_prior[b, e]), _TINY_PRIOR)) + work[e])
                most = max(most, root_visits[b, e])
            z_total = 0.0
            top = -np.inf
            for e in range(ne):
                a = edge_action[b, ROOT, e]
                p = np.exp(np.log(max(np.float64(root_prior[b, e]), _TINY_PRIOR)) + work[e] - zmax)
                policy[b, a] = p
                z_total += p
                s = gumbel_logits[b, e] + work[e]
                if root_visits[b, e] == most and s > top:
                    top = s
                    best[b] = a
            for e in range(ne):
                policy[b, edge_action[b, ROOT, e]] /= z_total
            continue
        if total == 0:  # no simulation ran: the prior is all there is
            top = -1.0
            for e in range(ne):
                a = edge_action[b, ROOT, e]
                policy[b, a] = root_prior[b, e]
                if root_prior[b, e] > top:
                    top = root_prior[b, e]
                    best[b] = a
            continue
        star = -1
        for e in range(ne):
            cnt = visit_count[b, ROOT, e]
            if star < 0 or cnt > visit_count[b, ROOT, star] or (
                    cnt == visit_count[b, ROOT, star] and cnt > 0
                    and value_sum[b, ROOT, e] / cnt > value_sum[b, ROOT, star] / cnt):
                star = e
        best[b] = edge_action[b, ROOT, star]
        if ci[I_PRUNE] != 0 and t.full_search[b]:
            _pruned_policy(visit_count, value_sum, prior, edge_action, num_edges, cf, b, star, total, policy)
        else:
            for e in range(ne):
                policy[b, edge_action[b, ROOT, e]] = visit_count[b, ROOT, e] / total


@_helper
def _pruned_policy(visit_count, value_sum, prior, edge_action, num_edges, cf, b, star, total, policy):
    """KataGo policy-target pruning: take from every child other than the most visited one up to
    sqrt(k P N) visits (the forced ones) while its PUCT value stays below the best child's; drop children
    left with one visit. The result is normalised into ``policy[b]`` (over actions)."""
    ne = num_edges[b, ROOT]
    scale = _puct_scale(cf, total)
    k = cf[F_FORCED_K]
    n_star = visit_count[b, ROOT, star]
    puct_star = value_sum[b, ROOT, star] / n_star + scale * prior[b, ROOT, star] / (1.0 + n_star)
    kept = 0.0
    for e in range(ne):
        cnt = visit_count[b, ROOT, e]
        a = edge_action[b, ROOT, e]
        if e == star:
            policy[b, a] = cnt
        elif cnt <= 0:
            policy[b, a] = 0.0
        else:
            p = np.float64(prior[b, ROOT, e])
            n_new = cnt - np.sqrt(k * p * total)
            gap = puct_star - value_sum[b, ROOT, e] / cnt
            if gap > 0.0:
                n_new = max(n_new, scale * p / gap - 1.0)  # fewer visits would lift its PUCT above the best
            else:
                n_new = cnt
            n_new = min(n_new, np.float64(cnt))
            policy[b, a] = n_new if n_new > 1.0 else 0.0
        kept += policy[b, a]
    for e in range(ne):
        policy[b, edge_action[b, ROOT, e]] /= kept
