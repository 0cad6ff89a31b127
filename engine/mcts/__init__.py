"""Monte Carlo tree search compiled with Numba, batched over many games.

AlphaZero's PUCT search (Silver et al. 2018, "A general reinforcement learning algorithm that masters chess,
shogi, and Go through self-play"): each simulation descends by

    a* = argmax_a Q(s, a) + c(s) P(s, a) sqrt(N(s)) / (1 + N(s, a)),   c(s) = log((1 + N(s) + c_base) / c_base) + c_init

with N visit counts, W summed values (Q = W / N) and P the evaluator's prior, expands one leaf, evaluates it
and backs the value up with the sign of the player to move at every node. Around it, the improvements of the
KataGo era (Wu 2019, "Accelerating self-play learning in Go"): first-play urgency with reduction, Dirichlet
root noise re-applied after subtree reuse, playout-cap randomization, forced playouts and policy-target
pruning; and Gumbel AlphaZero (Danihelka et al. 2022, "Policy improvement by planning with Gumbel"):
Gumbel-top-k root sampling with sequential halving, completed-Q improved policy targets and the matching
deterministic interior selection.

The tree is a struct of arrays with a leading batch axis and one edge slot per legal action of a node
(``engine.mcts.tree``); all search logic is Numba, one module per concept (the loop in ``_core``, nodes and
backup in ``_nodes``, selection rules in ``_select``, the PUCT and Gumbel variants composed at compile time in
``_variants``, summaries and subtree reuse in ``_results``; public kernels in ``engine.mcts.kernels``), and one
Python round trip per step hands up to ``B * leaves_per_tree`` leaves to an evaluator
(``engine.mcts.evaluators``). No torch here.
"""

from games.base import cache_by_package

# ruff: noqa: E402
cache_by_package(__file__)  # kernels call kernels of other files here: cached code follows every file

from .config import MCTSConfig
from .evaluators import (
    CachedEvaluator,
    Evaluator,
    RolloutEvaluator,
    TimedEvaluator,
    UniformEvaluator,
)
from .search import BatchedMCTS, NodeEdges, SearchResult, tree_seed
from .tree import NO_PARENT, ROOT, UNVISITED, Tree

__all__ = [
    "BatchedMCTS", "MCTSConfig", "SearchResult", "NodeEdges", "tree_seed",
    "Evaluator", "UniformEvaluator", "RolloutEvaluator", "TimedEvaluator", "CachedEvaluator",
    "Tree", "ROOT", "UNVISITED", "NO_PARENT",
]
