"""Distributed training on Ray: self-play actors for AlphaZero and Ape-X acting for DQN.

Ray is the distributed engine (actors, the object store, restarts); this package only says what runs where:

* ``RaySection``: the ``ray`` section of both configurations (actors, CPUs/GPUs per actor, cluster address);
* ``connect``: join a cluster (``ray.address``, ``RAY_ADDRESS``) or start a local Ray;
* ``RaySelfPlay``: the game source of ``SelfPlayRun`` that plays each iteration's chunks on actors
  (``python -m engine.selfplay --ray``);
* ``ApexTrainer``: Ape-X DQN (Horgan et al. 2018), actors with their own epsilons feeding the learner's
  prioritized replay (``python -m engine.dqn --ray``).

Importing this package does not import Ray; the modules that need it import it when used.
"""

from .cluster import actor_options, await_restart, connect, setup_actor_process
from .config import RaySection
from .selfplay import Chunk, RaySelfPlay, SelfPlayActor, make_chunks

__all__ = ["ApexActor", "ApexTrainer", "Chunk", "RaySection", "RaySelfPlay", "SelfPlayActor", "actor_epsilons",
           "actor_options", "await_restart", "connect", "make_chunks", "setup_actor_process"]


def __getattr__(name):  # Ape-X pulls in torch and agents.dqn (which imports this package): load it on first use
    if name in ("ApexActor", "ApexTrainer", "actor_epsilons"):
        from . import apex

        return getattr(apex, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
