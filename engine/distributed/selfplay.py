"""Distributed AlphaZero self-play on Ray: N actors, each a ``SelfPlayWorker`` with a CPU copy of the network.

The run loop (``engine.alphazero.run.SelfPlayRun``) asks a *game source* for each iteration's games;
``RaySelfPlay`` is the source that spreads them over actors, everything else (learner in the driver, replay,
arena, Elo, checkpoints, run folder) is the same code. Like the actor/learner split of Ape-X and IMPALA
(Horgan et al. 2018, Espeholt et al. 2018); the run pipelines it as it does local worker processes (the actors
play iteration i+1 while the learner trains on iteration i: ``engine.alphazero.sources``).

* Weights: the driver puts the state dict (numpy) in the object store with a version (the iteration whose
  network plays); an actor loads it only when the version changes.
* Work and faults: ``engine.distributed.chunks`` (chunks with fixed ids and seeds; an actor that dies is
  restarted by Ray, ``max_restarts``, and its chunk sent again; none lost or counted twice).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from ..core import UserError
from .chunks import Chunk, WorkerDied, gather, make_chunks, play_chunks, timed_play
from .cluster import actor_options, await_restart, connect, setup_actor_process
from .config import RaySection


class SelfPlayActor:
    """The body of a Ray self-play actor: a ``SelfPlayWorker`` for the run's game and configuration."""

    def __init__(self, cfg_dict: dict, num_cpus: float = 1.0):
        device = setup_actor_process(num_cpus)
        import games as games_mod

        from ..alphazero.config import config_from_dict
        from ..alphazero.worker import SelfPlayWorker

        cfg = config_from_dict(cfg_dict)
        game = games_mod.make(cfg.game.name, **cfg.game.options)
        # whole games: a chunk may be played again by another actor after a failure, so nothing carries over
        self.worker = SelfPlayWorker(game, cfg, device=device, continuous=False)
        self.version = None

    def pid(self) -> int:
        return os.getpid()

    def play(self, version, weights: dict, chunk: Chunk):
        """Play one chunk with the weights of ``version`` (loaded only when it changed)."""
        if version != self.version:
            self.worker.set_weights({k: np.array(v) for k, v in weights.items()})  # writable copies
            self.version = version
        return timed_play(self.worker, chunk)


class RaySelfPlay:
    """A game source for ``SelfPlayRun``: ``play(weights, version, num_games, seed, progress)`` on Ray actors.

    ``on_dispatch(actor_index, chunk)`` (optional) is called after each chunk is sent: monitoring, and the tests
    that kill an actor while it plays. After ``play``: ``last_chunks`` (chunk ids in batch order) and
    ``resubmitted`` (chunks sent again after an actor died, over the run).
    """

    def __init__(self, cfg, section: RaySection | None = None, console=None):
        import ray

        from ..alphazero.config import config_dict

        self.section = section or cfg.ray
        self.console = console
        connect(self.section)
        self.chunk_games = self.section.chunk_games or cfg.selfplay.parallel_games
        remote = ray.remote(SelfPlayActor).options(**actor_options(self.section))
        cfg_dict = config_dict(cfg)
        self.actors = [remote.remote(cfg_dict, self.section.num_cpus) for _ in range(self.section.actors)]
        self.on_dispatch: Callable | None = None
        self.last_chunks: list[int] = []
        self.resubmitted = 0
        self.pids()  # wait until every actor is up: a failing start shows here, not in the first iteration

    @property
    def workers(self) -> int:
        return len(self.actors)

    def pids(self) -> list[int]:
        import ray

        return ray.get([a.pid.remote() for a in self.actors])

    def play(self, weights: dict, version, num_games: int, seed: int,
             progress: Callable[[int, int], None] | None = None):
        import ray
        from ray.exceptions import RayActorError

        t0 = time.perf_counter()
        weights_ref = ray.put({k: v.detach().cpu().numpy() for k, v in weights.items()})
        chunks = make_chunks(num_games, self.chunk_games, seed)

        def send(index, chunk):
            return self.actors[index].play.remote(version, weights_ref, chunk)

        def receive(refs):
            done, _ = ray.wait(refs, num_returns=1)
            out = []
            for ref in done:
                try:
                    out.append((ref, ray.get(ref)[1]))
                except RayActorError as err:
                    out.append((ref, WorkerDied(type(err).__name__)))
            return out

        def lost(index, chunk, reason):
            if self.console is not None:
                self.console.print(f"ray: actor {index} died during chunk {chunk.id} ({reason}); chunk sent again",
                                   highlight=False)

        def revive(index):
            if not self.actors:
                raise UserError("ray: the self-play actors were closed")
            await_restart(self.actors[index])

        batches, resubmitted = play_chunks(chunks, len(self.actors), send, receive, revive,
                                           self.section.max_chunk_retries, self.on_dispatch, lost, progress)
        batch = gather(batches, time.perf_counter() - t0, len(chunks), resubmitted)
        self.last_chunks = [c.id for c in chunks]
        self.resubmitted += resubmitted
        return batch

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
