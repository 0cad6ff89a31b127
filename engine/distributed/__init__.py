"""Self-play and acting off the learner's process: local worker processes, and Ray for clusters.

* ``ProcessSelfPlay`` (``processes``): self-play on local worker processes, the default of
  ``python -m engine.selfplay`` on a machine with more than one core (``run.workers``);
* ``chunks``: an iteration's games in chunks with fixed ids and seeds, handed to workers that may die.

Ray is the distributed engine (actors, the object store, restarts); for it this package only says what runs where:

* ``RaySection``: the ``ray`` section of both configurations (actors, CPUs/GPUs per actor, cluster address);
* ``connect``: join a cluster (``ray.address``, ``RAY_ADDRESS``) or start a local Ray;
* ``RaySelfPlay``: the game source of ``SelfPlayRun`` that plays each iteration's chunks on actors
  (``python -m engine.selfplay --ray``);
* Ape-X DQN's actors and trainer live with the DQN learner (``engine.dqn.apex``, ``python -m engine.dqn --ray``).

Importing this package does not import Ray; the modules that need it import it when used.
"""

from .chunks import Chunk, make_chunks, play_chunks
from .cluster import actor_options, await_restart, connect, setup_actor_process
from .config import RaySection
from .processes import ProcessSelfPlay
from .selfplay import RaySelfPlay, SelfPlayActor

__all__ = ["Chunk", "ProcessSelfPlay", "RaySection", "RaySelfPlay", "SelfPlayActor", "actor_options",
           "await_restart", "connect", "make_chunks", "play_chunks", "setup_actor_process"]

