"""AlphaZero (Silver et al. 2018, "A general reinforcement learning algorithm that masters chess, shogi, and Go
through self-play"): self-play worker, replay window, learner, evaluation arena and the loop that ties them,
behind ``python -m engine.selfplay``.

The pieces are separate so that a distributed runner can hold them as actors:

* ``SelfPlayWorker(game, cfg, net=None, device="cpu", continuous=None)``: ``set_weights(state_dict)``,
  ``play(num_games, seed, progress=None) -> SelfPlayBatch`` (B games at once through ``BatchedMCTS``'s
  asynchronous searches, one network call per step; with continuous self-play the games under way carry over
  to the next call: ``pending``, ``pending_arrays()`` / ``load_pending(arrays)``);
* ``ReplayBuffer(capacity, plane_shape, num_actions)``: ``add_batch``, ``sample(n, rng, game, augment)``,
  ``save(path)`` / ``ReplayBuffer.load(path)``;
* ``Learner(net, cfg.train, device)``: ``train(replay, steps, rng, game)``, ``train_batch(...)``;
* KataGo's auxiliary targets (``train.ownership_weight`` / ``score_weight``, Go): the worker's batches carry each
  position's final ownership and score margin (``SelfPlayBatch.ownership / score / has_target``), an ``aux``
  replay keeps them and the learner adds ``learner.aux_losses``;
* the evaluation games: ``engine.matches.run_match`` between ``agents.alphazero.AlphaZeroAgent`` players and the
  yardsticks of ``agents.make`` (``random``, ``mcts:N``), all games of a match side by side;
* ``SelfPlayRun``: the loop, the run folder, resume; it takes each iteration's games from a game source
  (``engine.alphazero.sources``: ``LocalGames``, its own worker; ``run.use_workers(n)``: worker processes;
  ``run.use_ray()``: Ray actors; the last two pipelined with the learner).
"""

from .config import DEFAULT, SelfPlayConfig, make_config
from .learner import Learner, learning_rate
from .replay import ReplayBuffer, ReplayError
from .run import LocalGames, SelfPlayRun, derived_seed
from .worker import GameSummary, SelfPlayBatch, SelfPlayWorker, TimedEvaluator, build_net, temperature_choice

__all__ = [
    "DEFAULT", "SelfPlayConfig", "make_config",
    "Learner", "learning_rate", "LocalGames", "ReplayBuffer", "ReplayError", "SelfPlayRun", "derived_seed",
    "GameSummary", "SelfPlayBatch", "SelfPlayWorker", "TimedEvaluator", "build_net", "temperature_choice",
]
