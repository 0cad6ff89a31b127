"""``SelfPlayConfig``: every setting of an AlphaZero run, one dataclass per YAML section.

    game:     which game (and its options)
    net:      the network architecture (``nets.PolicyValueConfig``)
    mcts:     the search (``engine.mcts.MCTSConfig``)
    selfplay: games at once, temperature, resignation, value-target discount, game records
    replay:   the sliding window of positions
    train:    optimizer, learning-rate schedule, losses, replay ratio
    eval:     the arena after each iteration (previous net, random, pure MCTS), gating
    run:      iterations, device, threads, run folder, logs
    ray:      actors and resources of a distributed run (``--ray``; ``engine.distributed``)

``DEFAULT`` is the embedded default, the base of every configuration (a file gives only what it changes);
``engine/configs/connect4.yaml``, the run of ``python -m engine.selfplay`` without ``--config``, is ``DEFAULT``
plus its stopping rule (``run.target_mcts_score``, ``run.iterations``; a test checks this).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from nets import PolicyValueConfig
from nets.precision import PRECISIONS

from ..config import ConfigError, from_dict, load_config, to_dict
from ..distributed.config import RaySection
from ..mcts import MCTSConfig


@dataclass
class GameSection:
    name: str = "connect4"
    """Registered game name (``games.make``): tictactoe, connect4, go9, go19, chess, ..."""
    options: dict = field(default_factory=dict)
    """Keyword options of the game (``width``, ``size``, ``komi`` ...)."""


@dataclass
class SelfPlaySection:
    parallel_games: int = 64
    """B: games played at once by one worker; each search step makes ONE network call over their leaves."""
    games_per_iteration: int = 128
    """Games finished per iteration."""
    continuous: bool = True
    """Continuous self-play (as in KataGo): a freed slot always starts a new game, and the games still under way
    when the iteration's games are done carry over to the next iteration (fresh trees, the new network; saved
    with the run), so every network call stays full. Off: an iteration starts exactly ``games_per_iteration``
    games and plays them all to the end, the last ones with part of the batch empty. Ray actors play whole
    games (off)."""
    temperature: float = 1.0
    """Move-selection temperature over visit counts for the first ``temperature_moves`` plies of a game."""
    temperature_moves: int = 8
    """Plies played at ``temperature``; later plies use ``final_temperature`` (AlphaZero: 30 for Go/chess)."""
    final_temperature: float = 0.0
    """Temperature after ``temperature_moves`` (0: the most visited move)."""
    random_opening_plies: int = 0
    """Each game starts with n ~ uniform{0..this} uniformly random plies, neither searched nor trained on (a
    random start position): self-play then sees and learns positions its own play would avoid."""
    resign_threshold: float = -1.0
    """Resign when the root value and the best child's Q are both below this (mover's view); -1 turns it off."""
    resign_playthrough: float = 0.1
    """Share of games never resigned: they measure the false-resignation rate (AlphaGo Zero keeps it < 5%)."""
    resign_min_moves: int = 0
    """No resignation before this ply."""
    value_discount: float = 1.0
    """Value target z * value_discount ** (plies to the end): below 1 it prefers faster wins, slower losses."""
    save_games: int = -1
    """Game records saved per iteration under ``games/`` (-1: all, 0: none)."""

    def validate(self) -> None:
        _need(self.parallel_games >= 1, "selfplay.parallel_games", ">= 1", self.parallel_games)
        _need(self.games_per_iteration >= 1, "selfplay.games_per_iteration", ">= 1", self.games_per_iteration)
        _need(self.temperature >= 0 and self.final_temperature >= 0, "selfplay.temperature", ">= 0",
              self.temperature)
        _need(self.random_opening_plies >= 0, "selfplay.random_opening_plies", ">= 0", self.random_opening_plies)
        _need(-1.0 <= self.resign_threshold <= 1.0, "selfplay.resign_threshold", "in [-1, 1]", self.resign_threshold)
        _need(0.0 <= self.resign_playthrough <= 1.0, "selfplay.resign_playthrough", "in [0, 1]",
              self.resign_playthrough)
        _need(0.0 < self.value_discount <= 1.0, "selfplay.value_discount", "in (0, 1]", self.value_discount)


@dataclass
class ReplaySection:
    window: int = 100_000
    """Positions kept (the most recent); older ones are overwritten."""
    min_size: int = 1_000
    """No training before the window holds this many positions."""
    augment: bool = True
    """Apply a random board symmetry to each sampled position (policy and planes together)."""

    def validate(self) -> None:
        _need(self.window >= 1, "replay.window", ">= 1", self.window)
        _need(self.min_size >= 0, "replay.min_size", ">= 0", self.min_size)


@dataclass
class TrainSection:
    batch_size: int = 256
    """Positions per training step."""
    replay_ratio: float = 4.0
    """Training positions sampled per new self-play position: steps per iteration = replay_ratio * new
    positions / batch_size (each position is seen about replay_ratio times while in the window)."""
    max_steps: int = 0
    """At most this many steps per iteration (0: no cap)."""
    optimizer: str = "sgd"
    """``sgd`` (momentum, L2 as weight decay: AlphaZero) or ``adamw`` (decoupled weight decay)."""
    lr: float = 0.02
    """Learning rate at iteration 1."""
    lr_schedule: str = "cosine"
    """``constant``, ``cosine`` (from lr to lr * lr_final over run.iterations) or ``step`` (times lr_gamma at
    each of lr_milestones)."""
    lr_final: float = 0.1
    """Cosine: the last iteration's learning rate as a fraction of lr."""
    lr_milestones: list[int] = field(default_factory=list)
    """Step schedule: iterations at which the learning rate is multiplied by lr_gamma."""
    lr_gamma: float = 0.1
    """Step schedule factor."""
    momentum: float = 0.9
    """SGD momentum (Nesterov off) or AdamW beta1."""
    weight_decay: float = 1e-4
    """L2 coefficient c of AlphaZero's loss (SGD); decoupled decay for AdamW."""
    value_loss: str = "mse"
    """``mse``: (z - v)^2 (AlphaZero); ``wdl``: cross-entropy over win/draw/loss (needs net.wdl: true)."""
    value_weight: float = 1.0
    """Weight of the value loss against the policy cross-entropy."""
    grad_clip: float = 0.0
    """Clip the gradient norm to this (0: off)."""
    mixed_precision: bool = True
    """Train in ``run.precision`` (bf16 autocast where it resolves to bf16, fp32 weights and optimizer state);
    false: always fp32."""
    ownership_weight: float = 0.0
    """KataGo's ownership loss (Wu 2019): weight of the mean over the board's points of the cross-entropy against
    each point's final owner (KataGo: 1.5, i.e. 1.5 / board area per point). Needs net.ownership and a game with
    ownership targets (Go); positions of resigned games have none."""
    score_weight: float = 0.0
    """KataGo's score-belief loss: weight of the cross-entropy of the final score margin's distribution plus the
    squared distance of its CDF (KataGo: 0.02). Needs net.score and a game with score targets (Go)."""

    def validate(self) -> None:
        _need(self.batch_size >= 1, "train.batch_size", ">= 1", self.batch_size)
        _need(self.ownership_weight >= 0, "train.ownership_weight", ">= 0", self.ownership_weight)
        _need(self.score_weight >= 0, "train.score_weight", ">= 0", self.score_weight)
        _need(self.replay_ratio >= 0, "train.replay_ratio", ">= 0", self.replay_ratio)
        _need(self.optimizer in ("sgd", "adamw"), "train.optimizer", "'sgd' or 'adamw'", self.optimizer)
        _need(self.lr > 0, "train.lr", "> 0", self.lr)
        _need(self.lr_schedule in ("constant", "cosine", "step"), "train.lr_schedule",
              "'constant', 'cosine' or 'step'", self.lr_schedule)
        _need(self.value_loss in ("mse", "wdl"), "train.value_loss", "'mse' or 'wdl'", self.value_loss)


@dataclass
class EvalSection:
    games: int = 20
    """Games against each opponent after an iteration (colours alternate on each opening)."""
    every: int = 1
    """Evaluate after every this many iterations (and after the last); 0: never."""
    simulations: int = 64
    """Search budget of the network players in evaluation games (no noise)."""
    opponents: list[str] = field(default_factory=lambda: ["previous", "random", "mcts"])
    """``previous`` (the net of the last evaluated iteration), ``best`` (gating), ``random``, ``mcts`` (pure
    MCTS with random rollouts at ``mcts_simulations``)."""
    mcts_simulations: int = 1000
    """Budget of the pure-MCTS baseline (fixed over the run, so its Elo is a fixed yardstick)."""
    opening_moves: int = 2
    """Random plies at the start of each pair of games (the same opening with colours swapped)."""
    gating: bool = False
    """AlphaGo Zero gating: self-play uses the best net; a new net replaces it when it scores at least
    ``gating_threshold`` against it."""
    gating_threshold: float = 0.55
    """Score needed to replace the best net (with ``gating``)."""

    def validate(self) -> None:
        _need(self.games >= 0, "eval.games", ">= 0", self.games)
        _need(self.simulations >= 1, "eval.simulations", ">= 1", self.simulations)
        bad = [o for o in self.opponents if o not in OPPONENTS]
        if bad:
            raise ConfigError(f"eval.opponents: unknown opponent {bad[0]!r}; known: {', '.join(OPPONENTS)}")


OPPONENTS = ("previous", "best", "random", "mcts")


@dataclass
class RunSection:
    iterations: int = 12
    """Iterations (self-play, training, evaluation) in total; a resumed run goes on to this many. With
    ``target_mcts_score`` it is the cap: the run stops earlier once its network reaches the target."""
    target_mcts_score: float = 0.0
    """Stop after the first evaluation in which the new network scores at least this against pure MCTS with
    ``eval.mcts_simulations`` rollouts (wins + half the draws, over ``eval.games`` games); 0: no target, run all
    ``iterations``. Needs ``mcts`` among ``eval.opponents``."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    threads: int = 1
    """torch threads of this process (1 on small shared machines)."""
    workers: int = -1
    """Self-play worker processes beside the learner: -1 every core but the learner's (none on a one-core
    machine, or when the network runs on a GPU: self-play then stays on the GPU in this process), 0 none
    (self-play in this process, then training: one phase after the other), N: N processes. With workers the
    next iteration's games are played while the learner trains (``engine.alphazero.sources``); ``--ray`` uses
    ``ray.actors`` instead."""
    precision: str = "auto"
    """Network arithmetic of self-play, evaluation and the learner: ``auto`` (bf16 where the device computes it
    natively: a GPU, or a CPU with AVX512-BF16 or AMX; else fp32), ``fp32`` or ``bf16`` (``nets.precision``)."""
    out_dir: str = "runs"
    """Parent folder of run folders ``<out_dir>/<game>-<time>``."""
    name: str = ""
    """Run folder name (default ``<game>-<YYYYmmdd-HHMMSS>``)."""
    keep_checkpoints: bool = True
    """Keep every iteration's net (``checkpoints/iter-NNNN.pt``) besides ``latest.pt`` and the network to play
    (``newest.pt``, or ``best.pt`` with gating)."""
    tensorboard: bool = True
    """Write TensorBoard logs under ``tb/``."""
    plots: bool = True
    """Write ``elo.png`` and ``losses.png`` after each iteration."""
    time_limit_minutes: float = 0.0
    """Stop after the iteration running when this much time has passed (0: no limit)."""

    def validate(self) -> None:
        _need(self.iterations >= 1, "run.iterations", ">= 1", self.iterations)
        _need(0.0 <= self.target_mcts_score <= 1.0, "run.target_mcts_score", "in [0, 1]", self.target_mcts_score)
        _need(self.threads >= 1, "run.threads", ">= 1", self.threads)
        _need(self.workers >= -1, "run.workers", ">= -1 (-1: every core but one)", self.workers)
        _need(self.precision in PRECISIONS, "run.precision", f"one of {', '.join(PRECISIONS)}", self.precision)


@dataclass
class SelfPlayConfig:
    game: GameSection = field(default_factory=GameSection)
    net: PolicyValueConfig = field(default_factory=PolicyValueConfig)
    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    selfplay: SelfPlaySection = field(default_factory=SelfPlaySection)
    replay: ReplaySection = field(default_factory=ReplaySection)
    train: TrainSection = field(default_factory=TrainSection)
    eval: EvalSection = field(default_factory=EvalSection)
    run: RunSection = field(default_factory=RunSection)
    ray: RaySection = field(default_factory=RaySection)

    def validate(self) -> None:
        if self.run.target_mcts_score > 0 and ("mcts" not in self.eval.opponents or self.eval.every < 1
                                               or self.eval.games < 1):
            raise ConfigError("run.target_mcts_score needs evaluations against pure MCTS: 'mcts' in eval.opponents, "
                              "eval.every >= 1 and eval.games >= 1 (or run.target_mcts_score: 0)")
        if self.train.value_loss == "wdl" and not self.net.wdl:
            raise ConfigError("train.value_loss: 'wdl' needs a win/draw/loss head: set net.wdl: true")
        if self.train.ownership_weight > 0 and not self.net.ownership:
            raise ConfigError("train.ownership_weight > 0 needs an ownership head: set net.ownership: true")
        if self.train.score_weight > 0 and not self.net.score:
            raise ConfigError("train.score_weight > 0 needs a score head: set net.score: true")

    @property
    def aux_targets(self) -> bool:
        """Whether self-play records KataGo's ownership and score targets (some auxiliary loss is on)."""
        return self.train.ownership_weight > 0 or self.train.score_weight > 0


def _need(ok: bool, key: str, what: str, value) -> None:
    if not ok:
        raise ConfigError(f"{key} must be {what}, got {value!r}")


# The base of every configuration: Connect Four on the CPU, one process. engine/configs/connect4.yaml, the run of
# `python -m engine.selfplay` without --config, is this plus its stopping rule (a test checks).
DEFAULT: dict = {
    "game": {"name": "connect4", "options": {}},
    "net": {"trunk": "resnet", "blocks": 4, "channels": 32, "value_hidden": 64},
    "mcts": {"simulations": 48, "gumbel": True, "gumbel_max_considered": 8, "c_init": 1.25},
    "selfplay": {"parallel_games": 64, "games_per_iteration": 192, "temperature_moves": 10,
                 "resign_threshold": -1.0, "value_discount": 0.98},
    "replay": {"window": 60000, "min_size": 2000, "augment": True},
    "train": {"batch_size": 256, "replay_ratio": 4.0, "optimizer": "sgd", "lr": 0.02, "lr_schedule": "cosine",
              "lr_final": 0.1, "weight_decay": 0.0001},
    "eval": {"games": 20, "simulations": 64, "opponents": ["previous", "random", "mcts"], "mcts_simulations": 1000,
             "opening_moves": 2},
    "run": {"iterations": 12, "device": "auto", "threads": 1, "precision": "auto"},
}


def make_config(path=None, overrides=(), base: dict | None = None) -> SelfPlayConfig:
    """The configuration: the embedded default (or ``base``), then the YAML file, then dotted overrides.

    Sections a file gives replace nothing else: a file only needs the keys it changes.
    """
    try:
        cfg = load_config(SelfPlayConfig, path, overrides, base=DEFAULT if base is None else base)
    except ConfigError:
        raise
    except ValueError as err:  # e.g. NetConfigError from PolicyValueConfig.validate is a UserError already
        raise ConfigError(str(err)) from None
    for section in (cfg.net, cfg.mcts):
        section.validate()
    return cfg


def config_from_dict(data: dict) -> SelfPlayConfig:
    """Rebuild a configuration saved with ``to_dict`` (a run folder's ``config.yaml``)."""
    return from_dict(SelfPlayConfig, data)


def config_dict(cfg: SelfPlayConfig) -> dict:
    return to_dict(cfg)


def replace(cfg: SelfPlayConfig, **sections) -> SelfPlayConfig:
    return dataclasses.replace(cfg, **sections)
