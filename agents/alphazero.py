"""The AlphaZero player: a trained policy/value network guiding ``BatchedMCTS`` (Silver et al. 2018).

    agents.make("alphazero", game)                         # the shipped checkpoint of the game
    agents.make("alphazero:runs/connect4-.../checkpoints/newest.pt", game, simulations=400, gumbel=True)

The default checkpoint is ``agents/checkpoints/<game>.pt`` (installed with the package: tic-tac-toe and Connect
Four ship one). Play has no noise (``MCTSConfig.for_play``): PUCT plays the most visited move, Gumbel the
sequential-halving winner without Gumbel noise. In games that ask for it (``game.decisive_moves``: Connect Four,
tic-tac-toe) the search looks two plies ahead at every expansion (``MCTSConfig.decisive_moves``), so a win on the
spot, or the only move that stops one, is found whatever the network's prior says of it. The subtree of the move
played is kept between moves (``observe``). ``choose(state, progress, simulations=, seconds=)`` is ``MCTSAgent``'s
(budgets, progress reports, stop); ``choose_batch(states)`` searches many positions at once (one network call per
search step for all of them).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from engine.mcts import MCTSConfig

from .base import Decision, ProgressFn
from .checkpoints import default_checkpoint, shipped_games
from .mcts import MCTSAgent


def load_network(game, path: str | Path | None = None):
    """The network of a checkpoint (default: the shipped one of ``game``), checked against the game.

    Raises ``nets.CheckpointError`` (one clear line) when the file is missing, corrupt or for another game."""
    from nets import CheckpointError, load_model

    path = Path(path) if path else default_checkpoint(game)
    if not path.exists():
        shipped = shipped_games()
        hint = (f"no checkpoint is shipped for {game.name} (shipped: {', '.join(shipped) or 'none'}); train one with "
                f"python -m engine.selfplay and pass alphazero:PATH") if path == default_checkpoint(game) else ""
        raise CheckpointError(f"checkpoint {path} does not exist" + (f": {hint}" if hint else ""))
    net, ckpt = load_model(path)
    saved_game = ckpt.metadata.get("game")
    if saved_game is not None and saved_game != game.name:
        raise CheckpointError(f"checkpoint {path} was trained for {saved_game}, not {game.name}")
    shape = tuple(getattr(net, "plane_shape", ()))
    if shape != tuple(game.plane_shape) or getattr(net, "num_actions", None) != game.num_actions:
        raise CheckpointError(f"checkpoint {path} takes planes {shape} and {getattr(net, 'num_actions', '?')} actions;"
                              f" {game.name} has {tuple(game.plane_shape)} and {game.num_actions}")
    return net, ckpt


def _arch(evaluator):
    """The ``PolicyValueConfig`` of an evaluator's network (``None`` for another model)."""
    from nets import unwrap

    arch = getattr(evaluator, "arch", None)  # PolicyValueEvaluator: its source network's, not the folded copy's
    return arch if arch is not None else getattr(unwrap(evaluator.model), "arch", None)


class AlphaZeroAgent(MCTSAgent):
    """Network + search: ``MCTSAgent`` over a ``PolicyValueEvaluator`` (so budgets, progress reports, ``stop``
    and subtree reuse are the same as pure MCTS), plus resignation and many positions at once.

    Keyword options: ``simulations`` (800), ``gumbel`` (False: PUCT), ``c_init``, ``decisive`` (decisive and
    anti-decisive moves; default ``game.decisive_moves``: on for Connect Four and tic-tac-toe), ``device``,
    ``precision`` (``auto``, ``fp32`` or ``bf16``: ``nets.precision``), ``resign_threshold`` (resign when the root
    value and the best move's Q are below it; None: never), ``top`` (moves reported), ``time_limit`` (seconds per
    move), ``max_batch`` (positions per ``choose_batch`` search)."""

    def __init__(self, game, net, config: MCTSConfig, seed: int | None = 0, name: str = "alphazero",
                 device: str = "cpu", resign_threshold: float | None = None, top: int = 5,
                 time_limit: float | None = None, max_batch: int = 256, precision: str = "auto"):
        from nets import PolicyValueEvaluator

        super().__init__(game, PolicyValueEvaluator(net, device=device, precision=precision), config, seed=seed,
                         name=name, top=top, time_limit=time_limit, max_batch=max_batch)
        self.resign_threshold = resign_threshold

    @property
    def material_mix(self) -> float:
        """Chess: the share of the leaf value taken from the material and quiescence search
        (``agents.material.MaterialMixEvaluator``); 0 is the network alone."""
        return float(getattr(self.evaluator, "mix", 0.0))

    @material_mix.setter
    def material_mix(self, mix: float) -> None:
        from .material import MaterialMixEvaluator

        network = getattr(self.evaluator, "network", self.evaluator)
        if float(mix) == self.material_mix:
            return
        self.evaluator = MaterialMixEvaluator(self.game, network, mix) if float(mix) > 0 else network
        # the trees hold values of the other evaluator
        self._synced = False
        self._batch_synced[:] = False

    def observe(self, state, action, game=None) -> None:
        super().observe(state, action, game)
        if game is None and self._synced and self.game.is_terminal(self.search.root_state(0)):
            self._synced = False

    # ------------------------------------------------------------------------------------------- one position
    def choose(self, state, progress: ProgressFn | None = None, **budget) -> Decision:
        if self.game.is_terminal(state):
            raise ValueError("the game is over: there is no move to choose")
        decision = super().choose(state, progress, **budget)
        if self.resign_threshold is not None and decision.value < self.resign_threshold:
            best_q = max((m.value for m in decision.top), default=decision.value)
            if best_q < self.resign_threshold:
                decision.resign = True
        return decision

    # ------------------------------------------------------------------------------------------- ownership
    @property
    def has_ownership(self) -> bool:
        """Whether the network predicts ownership (KataGo's head) for a game that has it (Go)."""
        return bool(self.game.has_ownership and self.evaluator.has_auxiliary
                    and getattr(_arch(self.evaluator), "ownership", False))

    def ownership(self, state) -> np.ndarray | None:
        """The network's estimate of the final owner of each point, ``float32[H, W]`` in [-1, 1] from the first
        player's view (+1 Black in Go), or ``None`` without an ownership head."""
        if not self.has_ownership:
            return None
        own = self.evaluator.auxiliary(self.game.encode(state)[None])["ownership"][0]
        return own if self.game.to_play(state) == 0 else -own

    def score_lead(self, state) -> float | None:
        """The network's expected final lead of the first player (Black's score minus White's, komi included),
        or ``None`` without a score head."""
        if not (self.game.has_ownership and getattr(_arch(self.evaluator), "score", False)):
            return None
        lead = float(self.evaluator.auxiliary(self.game.encode(state)[None])["score"][0])
        return lead if self.game.to_play(state) == 0 else -lead


PLAY_LEAVES = 8
"""Positions per network call when the AlphaZero player searches one game (``MCTSAgent.leaves``)."""


def play_config(game, simulations: int = 800, gumbel: bool = False, c_init: float | None = None,
                decisive: bool | None = None) -> MCTSConfig:
    """The AlphaZero player's search: no noise, PUCT (or Gumbel), and decisive and anti-decisive moves where the
    game asks for them (``game.decisive_moves``; ``decisive`` overrides). ``agents.make`` builds the
    player with it."""
    config = MCTSConfig(simulations=int(simulations), dirichlet_epsilon=0.0, gumbel=bool(gumbel),
                        decisive_moves=bool(game.decisive_moves if decisive is None else decisive))
    if c_init is not None:
        config = dataclasses.replace(config, c_init=float(c_init))
    return config


def make_alphazero(game, arg, seed=0, simulations=None, gumbel=None, device="cpu", resign_threshold=None,
                   c_init=None, top=5, time_limit=None, decisive=None, precision="auto", leaves=None,
                   material=None, **_):
    """``alphazero[:CHECKPOINT]``: the shipped checkpoint of the game by default. ``leaves``: positions per
    network call in a one-game search (``MCTSAgent.leaves``, default ``PLAY_LEAVES``); ``material`` (chess):
    ``AlphaZeroAgent.material_mix``."""
    net, ckpt = load_network(game, arg)
    config = play_config(game, int(simulations) if simulations else 800, bool(gumbel), c_init, decisive)
    name = "alphazero" if not arg else f"alphazero:{Path(arg).stem}"
    agent = AlphaZeroAgent(game, net, config, seed=seed, name=name, device=device,
                           resign_threshold=resign_threshold, top=top, time_limit=time_limit, precision=precision)
    agent.leaves = PLAY_LEAVES if leaves is None else int(leaves)
    if material is not None:
        agent.material_mix = float(material)
    return agent
