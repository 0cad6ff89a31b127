"""Distributed training on Ray: the cluster plumbing shared by AlphaZero self-play and Ape-X DQN.

Ray is the distributed engine (actors, the object store, restarts); this package only says what runs where:

* ``RaySection``: the ``ray`` section of both configurations (actors, CPUs/GPUs per actor, cluster address);
* ``connect``: join a cluster (``ray.address``, ``RAY_ADDRESS``) or start a local Ray;
* ``RaySelfPlay``: the game source of ``SelfPlayRun`` that plays each iteration's chunks on actors
  (``python -m engine.selfplay --ray``);
* Ape-X DQN's actors and trainer live with the DQN learner (``engine.dqn.apex``, ``python -m engine.dqn --ray``).

Importing this package does not import Ray; the modules that need it import it when used.
"""

from .cluster import actor_options, await_restart, connect, setup_actor_process
from .config import RaySection
from .selfplay import Chunk, RaySelfPlay, SelfPlayActor, make_chunks

__all__ = ["Chunk", "RaySection", "RaySelfPlay", "SelfPlayActor", "actor_options", "await_restart", "connect",
           "make_chunks", "setup_actor_process"]

