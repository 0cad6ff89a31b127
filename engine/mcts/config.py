"""``MCTSConfig``: the search's hyperparameters, the ``mcts`` section of the self-play YAML configuration."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..core import ConfigError


@dataclass
class MCTSConfig:
    """Hyperparameters of ``BatchedMCTS`` (defaults: AlphaZero's PUCT, KataGo's options off)."""

    simulations: int = 800
    """Simulations per move (new playouts, not counting visits kept by subtree reuse); with playout-cap
    randomization, the budget of a full search."""
    c_base: float = 19652.0
    """PUCT: c(s) = log((1 + N(s) + c_base) / c_base) + c_init (AlphaZero)."""
    c_init: float = 1.25
    """PUCT exploration constant at small visit counts."""
    fpu_reduction: float = 0.25
    """First-play urgency below the root: an unvisited action is valued Q(s) - fpu_reduction * sqrt(sum of the
    priors of the visited actions) (Leela Zero / KataGo); 0 values it at the node's mean Q(s)."""
    fpu_reduction_root: float = 0.25
    """First-play urgency reduction at the root (KataGo uses a smaller one there, 0 with noise)."""
    dirichlet_alpha: float | None = None
    """Root noise Dir(alpha); None takes the game's ``dirichlet_alpha`` (about 10 / typical legal moves)."""
    dirichlet_epsilon: float = 0.25
    """Weight of the noise in the root prior; 0 turns the noise off (evaluation, play). Noise is mixed into
    every new root (after reset and after ``advance``), for full searches only, never with Gumbel."""
    leaves_per_tree: int = 1
    """Leaves each tree sends to one evaluator call (k); k > 1 spreads them with virtual loss."""
    virtual_loss: float = 1.0
    """Value taken from each edge on the path of a leaf in flight (undone at backup)."""
    reuse_tree: bool = True
    """``advance`` keeps the chosen child's subtree (its statistics) as the next root."""
    max_nodes: int = 0
    """Initial node pool per tree; 0 sizes it from ``simulations``. The pool grows when a search needs more
    (subtree reuse keeps up to one search's nodes)."""
    decisive_moves: bool = False
    """Decisive and anti-decisive moves (Teytaud and Teytaud 2010), a two-ply look-ahead at each expansion: a
    move that wins on the spot takes the node's whole prior (the node is a win); moves that let the opponent win
    on the spot lose theirs (all of them: the node is lost). Finds the immediate wins and the only blocks that a
    network prior misses, at the cost of legal moves squared move applications per expansion (cheap in
    Connect Four, costly in chess)."""
    gumbel: bool = False
    """Gumbel AlphaZero (Danihelka et al. 2022): Gumbel-top-k at the root with sequential halving, the
    improved policy softmax(logits + sigma(completed Q)) as target, deterministic interior selection."""
    gumbel_max_considered: int = 16
    """Actions sampled without replacement at the root (m)."""
    gumbel_c_visit: float = 50.0
    """sigma(q) = (c_visit + max_a N(a)) * c_scale * q."""
    gumbel_c_scale: float = 0.1
    """See ``gumbel_c_visit``."""
    gumbel_scale: float = 1.0
    """Scale of the root Gumbel noise; 0 gives deterministic play (evaluation)."""
    gumbel_rescale_values: bool = True
    """Min-max rescale the completed Q values of a node to [0, 1] before sigma (as mctx does)."""
    playout_cap: bool = False
    """KataGo playout-cap randomization: a move gets the full search with probability
    ``playout_cap_full_prob`` (and is a training target), otherwise ``playout_cap_cheap_simulations``
    without noise (played, not trained on). ``SearchResult.full_search`` says which."""
    playout_cap_full_prob: float = 0.25
    """Probability of a full search under the playout cap."""
    playout_cap_cheap_simulations: int = 100
    """Simulations of a cheap search under the playout cap."""
    forced_playouts: bool = False
    """KataGo forced playouts: on full searches, a root child with some visits gets at least
    sqrt(forced_playouts_k * P(a) * N(root)) of them."""
    forced_playouts_k: float = 2.0
    """k of the forced playouts (and of the pruning that takes them back)."""
    policy_target_pruning: bool = False
    """KataGo policy-target pruning of full searches: subtract forced visits that PUCT would not have given,
    drop children left with a single visit (use with ``forced_playouts``)."""

    def validate(self) -> None:
        def need(ok: bool, key: str, what: str) -> None:
            if not ok:
                raise ConfigError(f"mcts.{key} must be {what}, got {getattr(self, key)!r}")

        need(self.simulations >= 1, "simulations", ">= 1")
        need(self.c_base > 0, "c_base", "> 0")
        need(self.c_init >= 0, "c_init", ">= 0")
        need(self.dirichlet_alpha is None or self.dirichlet_alpha > 0, "dirichlet_alpha", "> 0 (or null)")
        need(0 <= self.dirichlet_epsilon <= 1, "dirichlet_epsilon", "in [0, 1]")
        need(self.leaves_per_tree >= 1, "leaves_per_tree", ">= 1")
        need(self.virtual_loss >= 0, "virtual_loss", ">= 0")
        need(self.max_nodes >= 0, "max_nodes", ">= 0")
        need(self.gumbel_max_considered >= 1, "gumbel_max_considered", ">= 1")
        need(self.gumbel_c_visit >= 0, "gumbel_c_visit", ">= 0")
        need(self.gumbel_c_scale >= 0, "gumbel_c_scale", ">= 0")
        need(self.gumbel_scale >= 0, "gumbel_scale", ">= 0")
        need(0 < self.playout_cap_full_prob <= 1, "playout_cap_full_prob", "in (0, 1]")
        need(self.playout_cap_cheap_simulations >= 1, "playout_cap_cheap_simulations", ">= 1")
        need(self.forced_playouts_k > 0, "forced_playouts_k", "> 0")

    def for_play(self) -> MCTSConfig:
        """The same search without self-play randomness: no noise, no Gumbel noise, no playout cap or forcing."""
        return dataclasses.replace(self, dirichlet_epsilon=0.0, gumbel_scale=0.0, playout_cap=False,
                                   forced_playouts=False, policy_target_pruning=False)

    @classmethod
    def pure(cls, simulations: int, leaves_per_tree: int = 1) -> MCTSConfig:
        """Pure MCTS (uniform priors, rollout values), the ``mcts:N`` baseline of ``agents.make``, ``engine.arena``
        and the self-play run's evaluation: no noise, and UCB1's rule at the root. With uniform priors every root
        move gets the same first-play urgency and ties go to the lowest action: with AlphaZero's FPU reduction the
        search kept to the first moves it tried and never tried the last action (pass in Go, so it could not end a game
        it had won). A first-play value far above any Q instead tries every root move once before any twice."""
        return cls(simulations=simulations, dirichlet_epsilon=0.0, leaves_per_tree=leaves_per_tree,
                   fpu_reduction_root=-1000.0)
