"""DQN and its improvements (Double, dueling, prioritized, n-step, C51, DRQN, Rainbow-style) on gymnasium and ALE.

- ``ReplayBuffer``: frames stored once, stacks and n-step returns built at sample time, Numba sum tree (``replay``)
- ``PRESETS`` / ``make_env``: the ``nature`` and ``machado`` Atari protocols, ale-py's C++ vector env (``envs``)
- ``DQNAgent``: online and target networks from ``nets``, acting and the learning step (``agent``)
- ``DQNConfig``: the typed configuration behind ``configs/*.yaml`` (``config``)
- ``Trainer`` / ``evaluate``: the training loop, logs, checkpoints, exact resume (``trainer``)
- ``human_normalized``: scores against the shipped Atari-57 table (``scores``)
"""

from .agent import DQNAgent, categorical_projection, linear_schedule, network_config, q_learning_targets
from .config import DQNConfig, EnvConfig, EvalConfig, NetConfig, RunConfig, TrainConfig
from .envs import PRESETS, AtariPreset, VecEnv, atari_game, make_env, vector_env_kwargs
from .replay import Batch, ReplayBuffer, SequenceBatch
from .scores import human_normalized, load_scores, reference
from .trainer import Trainer, evaluate, run_name

__all__ = [
    "AtariPreset", "Batch", "DQNAgent", "DQNConfig", "EnvConfig", "EvalConfig", "NetConfig", "PRESETS",
    "ReplayBuffer", "RunConfig", "SequenceBatch", "TrainConfig", "Trainer", "VecEnv", "atari_game",
    "categorical_projection", "evaluate", "human_normalized", "linear_schedule", "load_scores", "make_env",
    "network_config", "q_learning_targets", "reference", "run_name", "vector_env_kwargs",
]
