"""DQN and its improvements (Double, dueling, prioritized, n-step, C51, DRQN, Rainbow-style) on gymnasium and ALE."""

from .replay import Batch, ReplayBuffer, SequenceBatch

__all__ = ["Batch", "ReplayBuffer", "SequenceBatch"]
