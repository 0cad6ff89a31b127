"""After a search: the root summaries (``summarize``) and subtree reuse (``advance``)."""

from __future__ import annotations

import numpy as np

from ._nodes import init_root
from ._options import helper, kernel
from .tree import EXPANDED, NO_PARENT, PENDING, ROOT


@kernel
def summarize(variant, t, cf, ci, which, visits, policy, q, value, best, prior_out, work):
    """Per tree flagged in ``which`` (the other rows are left as they are), over all A actions: root visits,
    policy target, Q, clean prior, value, and the move to play (-1 when the game is over); the policy target
    and the move come from the variant's ``root_policy``."""
    visit_count = t.visit_count
    value_sum = t.value_sum
    edge_action = t.edge_action
    raw_value = t.raw_value
    root_prior = t.root_prior
    B = t.num_nodes.shape[0]
    A = visits.shape[1]
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
        total = 0
        w_sum = 0.0
        for e in range(t.num_edges[b, ROOT]):
            a = edge_action[b, ROOT, e]
            cnt = visit_count[b, ROOT, e]
            visits[b, a] = cnt
            q[b, a] = value_sum[b, ROOT, e] / cnt if cnt > 0 else 0.0
            prior_out[b, a] = root_prior[b, e]
            total += cnt
            w_sum += value_sum[b, ROOT, e]
        value[b] = (raw_value[b, ROOT] + w_sum) / (1.0 + total)
        variant.root_policy(visit_count, value_sum, t.prior, edge_action, t.num_edges, raw_value, root_prior,
                            t.root_visits, t.gumbel_logits, t.full_search, cf, ci, b, total, policy, best, work)


@kernel
def advance(rules, params, t, b, action, legal_scratch):
    """Make the child along ``action`` the root, keeping its subtree (compacted to the front of the pool in
    index order: a node's new index never exceeds its old one, so the move is in place). A child never
    created or never evaluated starts a fresh tree. Returns the number of nodes kept (0: the new root has
    more legal actions than edge slots)."""
    child = t.child
    num_edges = t.num_edges
    parent = t.parent
    remap = t.remap
    c = -1
    for e in range(num_edges[b, ROOT]):
        if t.edge_action[b, ROOT, e] == action:
            c = child[b, ROOT, e]
    if c < 0 or t.flags[b, c] == PENDING:
        rules.apply(params, t.state[b, ROOT], action)
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
            _move_node(t.visit_count, t.value_sum, t.prior, child, t.edge_action, num_edges, t.parent_edge,
                       t.node_visits, t.raw_value, t.flags, t.player, t.state, b, x, y)
        for e in range(ne):
            ch = child[b, y, e]
            if ch >= 0:
                child[b, y, e] = remap[ch]
        parent[b, y] = NO_PARENT if y == ROOT else remap[parent[b, x]]
    t.parent_edge[b, ROOT] = -1
    t.num_nodes[b] = count
    t.root_fresh[b] = True
    t.sims_left[b] = 0
    return count


@helper
def _move_node(visit_count, value_sum, prior, child, edge_action, num_edges, parent_edge, node_visits, raw_value,
               flags, player, state, b, x, y):
    """Copy node ``x`` of tree ``b`` to index ``y`` (its parent and children are remapped by the caller)."""
    ne = num_edges[b, x]
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


@kernel
def temperature_choice(visits, temperature, u, fallback):
    """An action drawn from visit counts ** (1 / T) with the uniform number ``u``; T = 0: the most visited, ties
    broken by ``u``. ``fallback`` when no action has a visit. The one move sampler: ``BatchedMCTS.choose`` and
    the compiled self-play loop (``engine.alphazero._moves``) both draw with it."""
    A = visits.shape[0]
    top = 0
    for a in range(A):
        top = max(top, visits[a])
    if top <= 0:
        return fallback
    if temperature == 0.0:
        ties = 0
        for a in range(A):
            if visits[a] == top:
                ties += 1
        pick = min(np.int64(u * ties), ties - 1)
        for a in range(A):
            if visits[a] == top:
                if pick == 0:
                    return a
                pick -= 1
    inv = 1.0 / temperature
    total = 0.0
    for a in range(A):
        if visits[a] > 0:
            total += (visits[a] / top) ** inv
    target = u * total
    cdf = 0.0
    last = -1
    for a in range(A):
        if visits[a] > 0:
            cdf += (visits[a] / top) ** inv
            last = a
            if cdf > target:
                return a
    return last  # the float edge of the last bin
