"""The search tree as a struct of arrays with a leading batch axis (one tree per game), and its leaf buffers.

Every array is allocated once by ``allocate_tree`` / ``allocate_leaves`` and reused between moves and games;
the Numba kernels of ``engine.mcts`` only write into them. Shapes use ``B`` trees, ``N`` nodes per tree
(the pool capacity), ``A`` actions, ``E`` edge slots per node (the most legal actions a position can have:
``Game.max_legal_actions``, else ``A``), ``S`` the length of the game's state array, ``L = B *
leaves_per_tree`` leaf slots and ``M`` cache entries.

Edge statistics live on the parent, one slot per legal action: ``visit_count[b, n, e]`` is N(s, a) of the
edge from node ``n`` along action ``a = edge_action[b, n, e]`` (slots ``e < num_edges[b, n]`` are in use, in
increasing action order); ``value_sum[b, n, e]`` is W(s, a) from the view of the player to move at ``n``.
In chess this keeps about 30 slots per node instead of the policy's 4,672 actions.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

ROOT = 0
"""Index of the root node in every tree."""
UNVISITED = -1
"""``child`` of an edge whose child node has not been created yet."""
NO_PARENT = -1
"""``parent`` of the root."""

# node flags
PENDING = 0
"""Created, waiting for its evaluation (a leaf in flight, or a root never evaluated)."""
EXPANDED = 1
"""Evaluated: priors set, children can be selected."""
TERMINAL = 2
"""The game is over at this node; ``raw_value`` is the exact result for the player to move."""

Tree = namedtuple("Tree", [
    # edge statistics ------------------------------------------------------------------------------
    "visit_count",    # int32[B, N, E]   N(s, a), virtual visits of leaves in flight included
    "value_sum",      # float32[B, N, E] W(s, a), player to move at s; virtual losses in flight included
    "prior",          # float32[B, N, E] P(s, a); at the root Dirichlet noise is mixed in (self-play)
    "child",          # int32[B, N, E]   child node index, or UNVISITED
    "edge_action",    # int32[B, N, E]   the action of each edge
    # nodes -----------------------------------------------------------------------------------------
    "num_edges",      # int32[B, N]      legal actions of the node (edge slots in use)
    "parent",         # int32[B, N]      NO_PARENT at the root
    "parent_edge",    # int32[B, N]      edge slot in the parent (-1 at the root)
    "node_visits",    # int32[B, N]      sum_a N(s, a) (kept up to date, so PUCT needs no sum)
    "raw_value",      # float32[B, N]    evaluator value, or exact value at TERMINAL nodes (player to move)
    "flags",          # int8[B, N]       PENDING, EXPANDED or TERMINAL
    "player",         # int8[B, N]       to_play(state): 0 first player, 1 second
    "state",          # game dtype[B, N, S] the position at each node (copied once, at creation)
    "num_nodes",      # int32[B]         nodes in use; new nodes are appended
    "remap",          # int32[N]         scratch for subtree compaction (advance)
    # per-tree search state ------------------------------------------------------------------------
    "rng",            # uint64[B]        splitmix64 state of each tree (noise, Gumbel, rollouts, playout cap)
    "sims_left",      # int32[B]         simulations still to start in the current search
    "sims_done",      # int32[B]         simulations started in the current search
    "search_sims",    # int32[B]         simulation budget of the current search (full or cheap)
    "full_search",    # bool[B]          playout cap: the current search is a full one (a training target)
    "root_fresh",     # bool[B]          the root is new (reset or advance): keep its clean prior, add noise
    "root_prior",     # float32[B, E]    the root's prior without noise
    "gumbel_logits",  # float32[B, E]    Gumbel: g(a) + logits(a) of each root edge
    "root_visits",    # int32[B, E]      visits of each root edge during the current search
    "root_sims",      # int32[B]         root selections during the current search (sum of root_visits)
])
Tree.__doc__ = "Struct-of-arrays search trees for B games (see the field comments for shapes)."

Leaves = namedtuple("Leaves", [
    "planes",         # float32[L, C, H, W] encoded leaf positions for the evaluator
    "legal",          # bool[L, A]          their legal actions
    "tree",           # int32[L]            tree of each leaf
    "node",           # int32[L]            node of each leaf
    "states",         # game dtype[L, S]    leaf states (state-based evaluators; rollout scratch)
    "hash",           # int64[L]            state_hash of each leaf (evaluation cache)
    "logits",         # float32[L, A]       evaluator output, copied in by the driver
    "value",          # float32[L]          evaluator output, player to move at the leaf
    "work",           # float64[E]          scratch for one node (completed Q, noise)
    "scratch",        # game dtype[2, S]    scratch positions (decisive-move look-ahead)
    "scratch_legal",  # bool[A]             scratch legal mask (decisive-move look-ahead)
])
Leaves.__doc__ = "Buffers for one step's leaves, in and out of the evaluator."

Cache = namedtuple("Cache", [
    "keys",           # int64[M]     state_hash of each entry
    "filled",         # bool[M]
    "logits",         # float32[M, A]
    "value",          # float32[M]
    "stats",          # int64[2]     hits, misses
])
Cache.__doc__ = "A direct-mapped evaluation cache keyed by ``state_hash`` (see ``CachedEvaluator``)."


# ------------------------------------------------------------------------------------------- allocation
def allocate_tree(batch: int, capacity: int, edges: int, state_size: int, state_dtype) -> Tree:
    B, N, E = batch, capacity, edges
    return Tree(
        visit_count=np.zeros((B, N, E), np.int32),
        value_sum=np.zeros((B, N, E), np.float32),
        prior=np.zeros((B, N, E), np.float32),
        child=np.full((B, N, E), UNVISITED, np.int32),
        edge_action=np.zeros((B, N, E), np.int32),
        num_edges=np.zeros((B, N), np.int32),
        parent=np.full((B, N), NO_PARENT, np.int32),
        parent_edge=np.full((B, N), -1, np.int32),
        node_visits=np.zeros((B, N), np.int32),
        raw_value=np.zeros((B, N), np.float32),
        flags=np.zeros((B, N), np.int8),
        player=np.zeros((B, N), np.int8),
        state=np.zeros((B, N, state_size), state_dtype),
        num_nodes=np.zeros(B, np.int32),
        remap=np.zeros(N, np.int32),
        rng=np.zeros(B, np.uint64),
        sims_left=np.zeros(B, np.int32),
        sims_done=np.zeros(B, np.int32),
        search_sims=np.zeros(B, np.int32),
        full_search=np.ones(B, np.bool_),
        root_fresh=np.ones(B, np.bool_),
        root_prior=np.zeros((B, E), np.float32),
        gumbel_logits=np.zeros((B, E), np.float32),
        root_visits=np.zeros((B, E), np.int32),
        root_sims=np.zeros(B, np.int32),
    )


_PER_NODE = ("visit_count", "value_sum", "prior", "child", "edge_action", "num_edges", "parent", "parent_edge",
             "node_visits", "raw_value", "flags", "player", "state")


def grow_tree(tree: Tree, capacity: int) -> Tree:
    """A copy of ``tree`` with room for ``capacity`` nodes per tree (rare: only when a search needs more)."""
    old = tree.visit_count.shape[1]
    fields = tree._asdict()
    for name in _PER_NODE:
        arr = fields[name]
        new = np.empty((arr.shape[0], capacity) + arr.shape[2:], arr.dtype)
        new[:, :old] = arr
        fields[name] = new
    fields["remap"] = np.zeros(capacity, np.int32)
    return Tree(**fields)


def allocate_leaves(max_leaves: int, plane_shape, num_actions: int, edges: int, state_size: int,
                    state_dtype) -> Leaves:
    L = max_leaves
    return Leaves(
        planes=np.zeros((L, *plane_shape), np.float32),
        legal=np.zeros((L, num_actions), np.bool_),
        tree=np.zeros(L, np.int32),
        node=np.zeros(L, np.int32),
        states=np.zeros((L, state_size), state_dtype),
        hash=np.zeros(L, np.int64),
        logits=np.zeros((L, num_actions), np.float32),
        value=np.zeros(L, np.float32),
        work=np.zeros(edges, np.float64),
        scratch=np.zeros((2, state_size), state_dtype),
        scratch_legal=np.zeros(num_actions, np.bool_),
    )


def allocate_cache(size: int, num_actions: int) -> Cache:
    return Cache(keys=np.zeros(size, np.int64), filled=np.zeros(size, np.bool_),
                 logits=np.zeros((size, num_actions), np.float32), value=np.zeros(size, np.float32),
                 stats=np.zeros(2, np.int64))
