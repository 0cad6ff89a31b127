"""Nodes of the compiled search: creating them, expanding them with an evaluation, the decisive-move look-ahead,
backing values up (and taking virtual visits back), and the evaluation cache's slots.

The tree keeps the statistics of a node's legal actions only, in ``E`` edge slots (``edge_action`` maps a slot to
its action): selection and memory scale with the legal moves (about 30 in chess), not the 4,672 actions of the
policy. The helpers take plain arrays, not the ``Tree`` (a tuple of twenty arrays passed down a chain of compiled
calls costs seconds of compile time per level).
"""

from __future__ import annotations

import numpy as np

from games.base import ONGOING

from ._options import helper, kernel
from ._rng import GOLDEN
from .tree import EXPANDED, NO_PARENT, PENDING, ROOT, TERMINAL, UNVISITED

NO_EXACT_VALUE = 2.0
"""What ``decisive`` returns when the look-ahead proves nothing (values are in [-1, 1])."""

_S32 = np.uint64(32)


@helper
def copy(dst, src):
    """dst[:] = src as a plain loop (Numba's slice assignment guards against overlap with a temporary)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@helper
def init_node(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, node_visits, raw_value,
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


@helper
def create_child(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, parent, parent_edge,
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
    if not init_node(rules, params, visit_count, value_sum, prior, child, edge_action, num_edges, node_visits,
                     raw_value, flags, player, state, b, c, legal[slot]):
        return -1
    return c


@kernel
def init_root(rules, params, t, b, legal_scratch):
    """Make ``t.state[b, ROOT]`` (already written) a fresh one-node tree; False if it has too many legal actions."""
    t.num_nodes[b] = 1
    t.parent[b, ROOT] = NO_PARENT
    t.parent_edge[b, ROOT] = -1
    t.root_fresh[b] = True
    t.sims_left[b] = 0
    return init_node(rules, params, t.visit_count, t.value_sum, t.prior, t.child, t.edge_action, t.num_edges,
                     t.node_visits, t.raw_value, t.flags, t.player, t.state, b, ROOT, legal_scratch)


@helper
def expand(prior, edge_action, num_edges, raw_value, flags, b, n, logits, row, value):
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


@helper
def _wins_at_once(rules, params, st, after, edge_action, b, n, ne, won):
    """The first edge of node ``n`` whose move wins on the spot for its mover, or -1."""
    for e in range(ne):
        copy(after, st)
        rules.apply(params, after, edge_action[b, n, e])
        if rules.outcome(params, after) == won:
            return e
    return -1


@helper
def _lets_opponent_win(rules, params, after, reply, scratch_legal, me, won):
    """After a move (``after``): can the opponent, to move there, win on the spot?"""
    if rules.outcome(params, after) != ONGOING or rules.to_play(params, after) == me:
        return False
    rules.legal_mask(params, after, scratch_legal)
    for a in range(scratch_legal.shape[0]):
        if scratch_legal[a]:
            copy(reply, after)
            rules.apply(params, reply, a)
            if rules.outcome(params, reply) == -won:
                return True
    return False


@helper
def decisive(rules, params, state, scratch, scratch_legal, prior, edge_action, num_edges, raw_value, b, n, work):
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
    win = _wins_at_once(rules, params, st, after, edge_action, b, n, ne, won)
    if win >= 0:
        for f in range(ne):
            prior[b, n, f] = 0.0
        prior[b, n, win] = 1.0
        raw_value[b, n] = 1.0
        return 1.0
    safe_prior = 0.0
    safe = 0
    for e in range(ne):
        copy(after, st)
        rules.apply(params, after, edge_action[b, n, e])
        loses = _lets_opponent_win(rules, params, after, scratch[1], scratch_legal, me, won)
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


# ------------------------------------------------------------------------------------------------ backup
@helper
def revert(visit_count, value_sum, node_visits, parent, parent_edge, root_visits, root_sims, vl, b, node):
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


@helper
def backup(value_sum, parent, parent_edge, player, vl, b, node, value):
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


# ------------------------------------------------------------------------------------------------ cache
@helper
def cache_slot(key, size):
    return np.int64((np.uint64(key) * GOLDEN) >> _S32) & (size - 1)


@helper
def cache_probe(rules, params, state, b, node, keys, filled):
    """The cache slot holding the evaluation of ``state[b, node]``, or -1."""
    key = rules.state_hash(params, state[b, node])
    slot = cache_slot(key, keys.shape[0])
    return slot if (filled[slot] and keys[slot] == key) else -1
