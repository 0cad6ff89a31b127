"""Typed DQN configuration (``engine.config`` machinery): YAML files in ``configs/`` plus dotted overrides.

    cfg = load_config(DQNConfig, "configs/dqn_atari.yaml", ["train.lr=1e-4", "net.dueling=true"])

The defaults are Nature DQN's (Mnih et al. 2015, Extended Data Table 1) where a default makes sense; every
step count is in *agent steps* (one action of one environment = 4 emulator frames on Atari).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..core import ConfigError
from ..distributed.config import RaySection


@dataclass
class EnvConfig:
    """Which environment, and how many run side by side."""

    id: str = "CartPole-v1"
    """gymnasium id (``CartPole-v1``) or Atari id (``ALE/Pong-v5``, ``PongNoFrameskip-v4``, ``pong``)."""
    num_envs: int = 1
    """environments stepped together (one batched network call acts for all of them)."""
    backend: Literal["vector", "gymnasium"] = "vector"
    """Atari only: ale-py's C++ ``AtariVectorEnv`` or gymnasium's ``AtariPreprocessing`` wrappers."""
    preset: str = "nature"
    """Atari protocol: ``nature``, ``machado`` or ``atari100k`` (see ``engine.dqn.envs``)."""
    frame_stack: int = 0
    """frames per observation; 0 = the preset's (4). DRQN uses 1 and lets its LSTM remember."""
    threads: int = 1
    """threads of the C++ vector environment."""


@dataclass
class NetConfig:
    """The Q-network, built from ``nets`` parts: backbone + Q / dueling / C51 head (+ LSTM for DRQN)."""

    backbone: Literal["auto", "nature_cnn", "mlp"] = "auto"
    """``auto``: the Nature CNN for image observations, an MLP for vectors."""
    mlp_widths: list[int] = field(default_factory=lambda: [256, 256])
    hidden: int = 512
    """width of the fully connected layer(s) after the convolutions (each dueling stream has one)."""
    dueling: bool = False
    """Wang et al. 2016: Q = V + A - mean(A)."""
    distributional: bool = False
    """C51 (Bellemare et al. 2017): a categorical return distribution over ``atoms`` support points."""
    atoms: int = 51
    v_min: float = -10.0
    v_max: float = 10.0
    recurrent: bool = False
    """DRQN (Hausknecht & Stone 2015): an LSTM between the backbone and the head."""
    lstm_hidden: int = 512


@dataclass
class TrainConfig:
    """The learning algorithm."""

    total_steps: int = 50_000_000
    buffer_size: int = 1_000_000
    learning_starts: int = 50_000
    """agent steps of experience gathered (with the starting epsilon) before learning begins."""
    batch_size: int = 32
    gamma: float = 0.99
    train_every: int = 4
    """agent steps between learning phases."""
    gradient_steps: int = 1
    """updates per learning phase."""
    target_update: int = 10_000
    """agent steps between copies of the online network into the target network (0: soft updates only)."""
    tau: float = 1.0
    """1: hard copy every ``target_update`` steps; < 1: Polyak averaging theta' <- tau theta + (1 - tau) theta'."""
    optimizer: Literal["adam", "rmsprop"] = "rmsprop"
    lr: float = 2.5e-4
    lr_final: float = 1.0
    """The learning rate falls linearly from ``lr`` to ``lr * lr_final`` over ``total_steps`` (1: constant). A
    rate that ends small keeps a solved task solved (CartPole's Q-network otherwise drifts off the policy). The
    schedule spans ``total_steps``: a run resumed with a larger ``train.total_steps`` stretches what is left of
    it from the step it stopped at."""
    adam_eps: float = 1.5e-4
    rmsprop_alpha: float = 0.95
    rmsprop_eps: float = 0.01
    rmsprop_centered: bool = True
    """Nature's RMSProp divides by sqrt(E[g^2] - E[g]^2 + eps): torch's centered variant."""
    max_grad_norm: float = 0.0
    """clip the gradient's global norm (0: no clipping)."""
    loss: Literal["huber", "mse"] = "huber"
    """Huber = Nature's clipping of the TD error to [-1, 1] in the gradient."""
    reward_clip: float = 1.0
    """clip rewards to [-c, c] for learning (0: raw rewards). Scores are always raw."""
    eps_start: float = 1.0
    eps_end: float = 0.1
    eps_decay_steps: int = 1_000_000
    eps_decay_start: int = 0
    """agent steps at eps_start before the decay begins (Dopamine decays after its warm-up: DrQ(eps) uses 1600)."""
    double: bool = False
    """Double DQN (van Hasselt et al. 2016): the online network picks the next action, the target rates it."""
    n_step: int = 1
    prioritized: bool = False
    alpha: float = 0.5
    beta_start: float = 0.4
    beta_steps: int = 0
    """agent steps over which beta is annealed to 1 (0: total_steps)."""
    priority_eps: float = 1e-6
    sequence_length: int = 10
    """DRQN: steps per sampled sequence (bootstrapped random updates from a zero LSTM state)."""
    augment_pad: int = 0
    """DrQ (Kostrikov et al. 2020) random shift of image observations in the update: pad by this many pixels
    (edge copies) and crop back at a random offset, i.e. a shift of up to +-augment_pad pixels (0: off)."""
    augment_intensity: float = 0.0
    """Dopamine's DrQ intensity augmentation: multiply each image by 1 + s * clip(N(0, 1), -2, 2) (0: off)."""


@dataclass
class EvalConfig:
    every: int = 250_000
    """agent steps between evaluations (0: only at the end)."""
    episodes: int = 10
    epsilon: float | None = None
    """None: the Atari preset's evaluation epsilon (0.05 nature, 0.001 machado); 0 for other environments."""
    num_envs: int = 1
    max_steps: int = 0
    """Atari: truncate an evaluation episode after this many agent steps (0: the preset's frame limit)."""


@dataclass
class RunConfig:
    exp_name: str = "dqn"
    save_every: int = 500_000
    """agent steps between checkpoints; environments restart there so a resumed run equals an uninterrupted one."""
    save_replay: bool = False
    """also save the replay (about 7 GB per 1M Atari transitions); without it a resumed run refills it first."""
    log_every: int = 1000
    time_limit: float = 0.0
    """seconds of training wall time (the whole run, across resumes) after which the run ends as it would at
    ``train.total_steps``: final evaluation, checkpoint, summary (0: no limit)."""
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """arithmetic of the learning step: ``auto`` (bf16 autocast where the device computes bf16 natively: a GPU, or
    a CPU with AVX512-BF16 or AMX; else fp32), ``fp32`` or ``bf16`` (``nets.precision``); weights and optimizer
    state stay fp32."""
    threads: int = 1
    """torch / OpenMP threads of this process."""
    runs_dir: str = "runs"
    tensorboard: bool = True


@dataclass
class DQNConfig:
    env: EnvConfig = field(default_factory=EnvConfig)
    net: NetConfig = field(default_factory=NetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    run: RunConfig = field(default_factory=RunConfig)
    ray: RaySection = field(default_factory=RaySection)
    """Ape-X on Ray (``python -m engine.dqn --ray``): actors, resources, rollout length, weight broadcasts."""

    def validate(self) -> None:
        t, n = self.train, self.net
        positive = {"train.total_steps": t.total_steps, "train.buffer_size": t.buffer_size,
                    "train.batch_size": t.batch_size, "train.train_every": t.train_every,
                    "train.gradient_steps": t.gradient_steps, "train.n_step": t.n_step,
                    "env.num_envs": self.env.num_envs, "eval.episodes": self.eval.episodes,
                    "eval.num_envs": self.eval.num_envs, "run.threads": self.run.threads,
                    "train.sequence_length": t.sequence_length}
        for key, value in positive.items():
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        if not 0.0 < t.gamma <= 1.0:
            raise ConfigError(f"train.gamma must be in (0, 1], got {t.gamma}")
        if not 0.0 < t.tau <= 1.0:
            raise ConfigError(f"train.tau must be in (0, 1], got {t.tau}")
        if t.target_update < 0 or (t.target_update == 0 and t.tau == 1.0):
            raise ConfigError("train.target_update must be >= 1 (or 0 with train.tau < 1 for soft updates every step)")
        if t.lr <= 0:
            raise ConfigError(f"train.lr must be > 0, got {t.lr}")
        if not 0 <= t.lr_final <= 1:
            raise ConfigError(f"train.lr_final must be in [0, 1] (a share of train.lr), got {t.lr_final}")
        for key in ("eps_start", "eps_end"):
            if not 0.0 <= getattr(t, key) <= 1.0:
                raise ConfigError(f"train.{key} must be in [0, 1], got {getattr(t, key)}")
        if n.distributional and (n.atoms < 2 or n.v_min >= n.v_max):
            raise ConfigError(f"net.atoms must be >= 2 and net.v_min < net.v_max, got {n.atoms}, [{n.v_min}, "
                              f"{n.v_max}]")
        if n.recurrent and (t.prioritized or t.n_step > 1 or n.distributional):
            raise ConfigError("DRQN (net.recurrent) trains on sequences with 1-step targets: it does not combine "
                              "with train.prioritized, train.n_step > 1 or net.distributional")
        if self.run.time_limit < 0:
            raise ConfigError(f"run.time_limit must be >= 0 seconds, got {self.run.time_limit}")
        if self.env.frame_stack < 0:
            raise ConfigError(f"env.frame_stack must be >= 0, got {self.env.frame_stack}")
        if self.eval.epsilon is not None and not 0.0 <= self.eval.epsilon <= 1.0:
            raise ConfigError(f"eval.epsilon must be in [0, 1], got {self.eval.epsilon}")
        from .envs import PRESETS

        if self.env.preset not in PRESETS:
            raise ConfigError(f"env.preset must be one of {', '.join(sorted(PRESETS))}, got {self.env.preset!r}")
        if t.augment_pad < 0 or t.augment_intensity < 0 or t.eps_decay_start < 0:
            raise ConfigError("train.augment_pad, train.augment_intensity and train.eps_decay_start must be >= 0")
        if (t.augment_pad or t.augment_intensity) and n.recurrent:
            raise ConfigError("train.augment_pad / train.augment_intensity work on stacked images, not DRQN sequences")
