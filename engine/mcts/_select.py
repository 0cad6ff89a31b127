"""Selection rules of the compiled search: PUCT with first-play urgency and forced playouts (AlphaZero, KataGo),
and Gumbel AlphaZero's completed-Q rules (Danihelka et al. 2022). The ``Variant`` bundles of
``engine.mcts._variants`` pick among them at compile time."""

from __future__ import annotations

import numpy as np

from ._options import F_C_BASE, F_C_INIT, F_C_SCALE, F_C_VISIT, F_TABLE, I_RESCALE, PUCT_TABLE, helper, kernel
from .tree import ROOT

TINY_PRIOR = 1e-30
"""Floor of a prior under a logarithm."""


@helper
def puct_scale(cf, nv):
    """c(s) * sqrt(N(s)) with c(s) = log((1 + N(s) + c_base) / c_base) + c_init (tabulated for small N)."""
    if nv < PUCT_TABLE:
        return cf[F_TABLE + nv]
    c_base = cf[F_C_BASE]
    return (np.log((1.0 + nv + c_base) / c_base) + cf[F_C_INIT]) * np.sqrt(np.float64(nv))


@helper
def _forced_child(visit_count, prior, ne, nv, forced_k, b, n):
    """Forced playouts: the visited child furthest below sqrt(k P(s,a) N(s)) visits, or -1."""
    deficit = 0.0
    forced = -1
    for e in range(ne):
        cnt = visit_count[b, n, e]
        if cnt > 0:
            d = np.sqrt(forced_k * prior[b, n, e] * nv) - cnt
            if d > deficit:
                deficit = d
                forced = e
    return forced


@helper
def select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, n, fpu_reduction, forced_k):
    """argmax_a Q(s,a) + c(s) P(s,a) sqrt(N(s)) / (1 + N(s,a)) over the edges of node ``n``.

    Unvisited actions take the first-play-urgency value Q(s) - fpu_reduction * sqrt(sum of visited priors)
    (Q(s) the node's running mean), never below -1; among them only the largest prior can win, so one pass
    suffices.
    With ``forced_k > 0`` (root, forced playouts) a visited child below sqrt(k P(s,a) N(s)) visits is taken first.
    """
    ne = num_edges[b, n]
    nv = node_visits[b, n]
    if forced_k > 0.0:
        forced = _forced_child(visit_count, prior, ne, nv, forced_k, b, n)
        if forced >= 0:
            return forced
    scale = puct_scale(cf, nv)
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


@helper
def sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, n, out):
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
            p = max(np.float64(prior[b, n, e]), TINY_PRIOR)
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


@kernel
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


@helper
def select_gumbel_root(visit_count, value_sum, prior, num_edges, raw_value, gumbel_logits, root_visits, target,
                       cf, ci, b, work):
    """The root edge with ``target`` visits this search that maximises g + logits + sigma(completedQ)."""
    sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, ROOT, work)
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


@helper
def select_gumbel_interior(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, ci, b, n, work):
    """argmax_a pi'(a) - N(s,a) / (1 + N(s)) with pi' = softmax(logits + sigma(completedQ)) (eq. 14)."""
    ne = num_edges[b, n]
    sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, n, work)
    # softmax(log p + sigma) = p exp(sigma - max sigma) / sum (no logarithms on the way down the tree)
    smax = -np.inf
    for e in range(ne):
        smax = max(smax, work[e])
    total = 0.0
    for e in range(ne):
        p = max(np.float64(prior[b, n, e]), TINY_PRIOR) * np.exp(work[e] - smax)
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
