"""``RaySection``: the ``ray`` section of the self-play and DQN configurations (no Ray import here).

    python -m engine.selfplay --config configs/tictactoe.yaml --ray ray.actors=4 ray.num_cpus=1
    python -m engine.dqn --env CartPole-v1 --ray ray.actors=2 ray.rollout_steps=64
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError


@dataclass
class RaySection:
    actors: int = 2
    """Self-play (or Ape-X acting) actors."""
    num_cpus: float = 1.0
    """CPUs Ray reserves for each actor; its torch threads are pinned to max(1, int(num_cpus))."""
    num_gpus: float = 0.0
    """GPUs (or a fraction) Ray reserves for each actor; > 0 runs the actor's network copy on CUDA."""
    learner_gpus: int = 1
    """GPUs kept out of a local Ray's pool for the learner, which runs in the driver on ``run.device`` (the
    actors can never take them); ignored when joining a cluster."""
    address: str = ""
    """``""``: start a local Ray (or join the cluster named by ``RAY_ADDRESS``); ``auto`` or ``host:port``: join
    a running cluster (``ray start --head``)."""
    local_cpus: int = 0
    """CPUs of a local Ray (0: enough for the actors, actors x num_cpus rounded up)."""
    chunk_games: int = 0
    """Self-play: games per chunk, the unit of work sent to an actor (0: selfplay.parallel_games). Chunks have
    fixed ids and seeds, so the games do not depend on the number of actors."""
    max_restarts: int = -1
    """Restarts Ray grants a dead actor (-1: no limit)."""
    max_chunk_retries: int = 3
    """A chunk (or an Ape-X rollout) lost this many times to dead actors stops the run with an error."""
    rollout_steps: int = 64
    """Ape-X: agent steps per environment in one call to an actor (one block of transitions)."""
    broadcast_every: int = 64
    """Ape-X: learner updates between weight broadcasts (actors pick up the newest at their next rollout)."""

    def validate(self) -> None:
        for key, value, low in (("actors", self.actors, 1), ("rollout_steps", self.rollout_steps, 1),
                                ("broadcast_every", self.broadcast_every, 1),
                                ("max_chunk_retries", self.max_chunk_retries, 0)):
            if value < low:
                raise ConfigError(f"ray.{key} must be >= {low}, got {value}")
        if self.num_cpus < 0 or self.num_gpus < 0 or self.learner_gpus < 0 or self.local_cpus < 0:
            raise ConfigError("ray.num_cpus, ray.num_gpus, ray.learner_gpus and ray.local_cpus must be >= 0")
        if self.chunk_games < 0:
            raise ConfigError(f"ray.chunk_games must be >= 0, got {self.chunk_games}")
        if self.max_restarts < -1:
            raise ConfigError(f"ray.max_restarts must be >= -1 (-1: no limit), got {self.max_restarts}")
