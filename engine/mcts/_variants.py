"""Search variants composed at compile time, as mctx passes ``root_action_selection_fn``: a ``Variant`` is a named
tuple of four compiled functions that the search kernels take as an argument, so each variant gets its own
compiled copy of the search with no branch on it in the inner loop.

- ``select_root`` / ``select_interior``: the edge a simulation takes at the root / below it;
- ``perturb_root``: what a search does to its root before it starts (Dirichlet noise; Gumbel noise);
- ``root_policy``: the policy target and the move to play from the root's statistics.

``PUCT`` is AlphaZero's search with KataGo's options (forced playouts, policy-target pruning, Dirichlet noise on
full searches: numbers in ``cfg_f`` / ``cfg_i``, so they never recompile); ``GUMBEL`` is Gumbel AlphaZero
(sequential halving at the root, completed-Q selection below, the improved policy as target).
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import numpy as np

from games.base import pin_rules_identity

from ._options import (
    F_DIRICHLET_ALPHA,
    F_DIRICHLET_EPS,
    F_FORCED_K,
    F_FPU,
    F_FPU_ROOT,
    F_GUMBEL_SCALE,
    I_FORCED,
    I_MAX_CONSIDERED,
    I_NOISE,
    I_PRUNE,
    helper,
)
from ._rng import gamma, gumbel
from ._select import (
    TINY_PRIOR,
    considered_visit,
    puct_scale,
    select_gumbel_interior,
    select_gumbel_root,
    select_puct,
    sigma_completed_q,
)
from .tree import ROOT

Variant = namedtuple("Variant", ["select_root", "select_interior", "perturb_root", "root_policy"])
Variant.__doc__ = "The compiled functions that make a search variant (see the module docstring for signatures)."


# ------------------------------------------------------------------------------------------------ PUCT
@helper
def puct_root(visit_count, value_sum, prior, num_edges, node_visits, raw_value, gumbel_logits, root_visits,
              search_sims, root_sims, full_search, cf, ci, b, work):
    """PUCT at the root, with its own first-play urgency and forced playouts on full searches."""
    forced_k = cf[F_FORCED_K] if (ci[I_FORCED] != 0 and full_search[b]) else 0.0
    return select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, ROOT,
                       cf[F_FPU_ROOT], forced_k)


@helper
def puct_interior(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, ci, b, n, work):
    return select_puct(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, b, n, cf[F_FPU], 0.0)


@helper
def dirichlet_noise(prior, num_edges, full_search, gumbel_logits, rng, cf, ci, b, fresh, work):
    """Mix Dir(alpha) noise into the prior of a fresh root (full searches, when on): P = (1 - eps) P + eps noise."""
    eps = cf[F_DIRICHLET_EPS]
    if not (fresh and ci[I_NOISE] != 0 and full_search[b] and eps > 0.0):
        return
    ne = num_edges[b, ROOT]
    alpha = cf[F_DIRICHLET_ALPHA]
    total = 0.0
    for e in range(ne):
        g = gamma(rng, b, alpha)
        work[e] = g
        total += g
    if total > 0.0:
        for e in range(ne):
            prior[b, ROOT, e] = (1.0 - eps) * prior[b, ROOT, e] + eps * work[e] / total


@helper
def visit_policy(visit_count, value_sum, prior, edge_action, num_edges, raw_value, root_prior, root_visits,
                 gumbel_logits, full_search, cf, ci, b, total, policy, best, work):
    """Normalised visits (KataGo policy-target pruning on full searches when on); move: the most visited (ties:
    higher Q, then lower index), or the largest prior when no simulation ran."""
    ne = num_edges[b, ROOT]
    if total == 0:  # no simulation ran: the prior is all there is
        top = -1.0
        for e in range(ne):
            a = edge_action[b, ROOT, e]
            policy[b, a] = root_prior[b, e]
            if root_prior[b, e] > top:
                top = root_prior[b, e]
                best[b] = a
        return
    star = -1
    for e in range(ne):
        cnt = visit_count[b, ROOT, e]
        if star < 0 or cnt > visit_count[b, ROOT, star] or (
                cnt == visit_count[b, ROOT, star] and cnt > 0
                and value_sum[b, ROOT, e] / cnt > value_sum[b, ROOT, star] / cnt):
            star = e
    best[b] = edge_action[b, ROOT, star]
    if ci[I_PRUNE] != 0 and full_search[b]:
        _pruned_policy(visit_count, value_sum, prior, edge_action, num_edges, cf, b, star, total, policy)
    else:
        for e in range(ne):
            policy[b, edge_action[b, ROOT, e]] = visit_count[b, ROOT, e] / total


@helper
def _pruned_policy(visit_count, value_sum, prior, edge_action, num_edges, cf, b, star, total, policy):
    """KataGo policy-target pruning: take from every child other than the most visited one up to
    sqrt(k P N) visits (the forced ones) while its PUCT value stays below the best child's; drop children
    left with one visit. The result is normalised into ``policy[b]`` (over actions)."""
    ne = num_edges[b, ROOT]
    scale = puct_scale(cf, total)
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


# ------------------------------------------------------------------------------------------------ Gumbel
@helper
def gumbel_root(visit_count, value_sum, prior, num_edges, node_visits, raw_value, gumbel_logits, root_visits,
                search_sims, root_sims, full_search, cf, ci, b, work):
    """Sequential halving: the considered action due for its next visit with the best g + logits + sigma."""
    num_considered = min(ci[I_MAX_CONSIDERED], num_edges[b, ROOT])
    target = considered_visit(num_considered, search_sims[b], root_sims[b])
    return select_gumbel_root(visit_count, value_sum, prior, num_edges, raw_value, gumbel_logits, root_visits,
                              target, cf, ci, b, work)


@helper
def gumbel_interior(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, ci, b, n, work):
    return select_gumbel_interior(visit_count, value_sum, prior, num_edges, node_visits, raw_value, cf, ci, b, n,
                                  work)


@helper
def gumbel_noise(prior, num_edges, full_search, gumbel_logits, rng, cf, ci, b, fresh, work):
    """Draw the root's Gumbel noise for this search: gumbel_logits = log P + scale * g (never Dirichlet noise)."""
    scale = cf[F_GUMBEL_SCALE]
    for e in range(num_edges[b, ROOT]):
        g = gumbel(rng, b) * scale if scale > 0.0 else 0.0
        gumbel_logits[b, e] = np.log(max(np.float64(prior[b, ROOT, e]), TINY_PRIOR)) + g


@helper
def improved_policy(visit_count, value_sum, prior, edge_action, num_edges, raw_value, root_prior, root_visits,
                    gumbel_logits, full_search, cf, ci, b, total, policy, best, work):
    """The improved policy softmax(logits + sigma(completedQ)); move: the most visited (this search) action that
    maximises g + logits + sigma(completedQ) (gumbel_logits holds g + logits)."""
    ne = num_edges[b, ROOT]
    sigma_completed_q(visit_count, value_sum, prior, num_edges, raw_value, cf, ci, b, ROOT, work)
    zmax = -np.inf
    most = -1
    for e in range(ne):
        zmax = max(zmax, np.log(max(np.float64(root_prior[b, e]), TINY_PRIOR)) + work[e])
        most = max(most, root_visits[b, e])
    z_total = 0.0
    top = -np.inf
    for e in range(ne):
        a = edge_action[b, ROOT, e]
        p = np.exp(np.log(max(np.float64(root_prior[b, e]), TINY_PRIOR)) + work[e] - zmax)
        policy[b, a] = p
        z_total += p
        s = gumbel_logits[b, e] + work[e]
        if root_visits[b, e] == most and s > top:
            top = s
            best[b] = a
    for e in range(ne):
        policy[b, edge_action[b, ROOT, e]] /= z_total


PUCT = Variant(puct_root, puct_interior, dirichlet_noise, visit_policy)
GUMBEL = Variant(gumbel_root, gumbel_interior, gumbel_noise, improved_policy)

# functions passed as arguments need an identity that is the same in every process for Numba's disk cache
_SOURCES = sorted(Path(__file__).parent.glob("*.py"))
pin_rules_identity(PUCT, _SOURCES)
pin_rules_identity(GUMBEL, _SOURCES)


def variant_for(config) -> Variant:
    """The variant of an ``MCTSConfig``."""
    return GUMBEL if config.gumbel else PUCT
