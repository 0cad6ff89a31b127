"""Where a run's self-play games come from, and how self-play runs beside the learner.

A game source has ``play(weights, version, num_games, seed, progress) -> SelfPlayBatch`` (``version`` names the
weights: the iteration whose network plays) and ``close()``:

* ``LocalGames``: the run's own worker plays in the learner's process, one phase after the other (one core);
* ``engine.distributed.ProcessSelfPlay``: worker processes on the other cores (the default with more than one);
* ``engine.distributed.RaySelfPlay``: Ray actors, locally or on a cluster (``--ray``).

With a source outside the learner's process the run is *pipelined* (``Ahead``): the games of iteration i+1 are
played while the learner trains and evaluates iteration i, with the network the run had when they started (one
iteration older than the learner's). Neither side runs ahead: the learner takes exactly ``replay_ratio`` times
the new positions of each iteration and then waits for the next iteration's games, and the workers play one
iteration ahead and no more, as the replay-ratio throttles of KataGo's and lc0's pipelines keep the two sides
in step. What plays is fixed when the iteration starts (the weights of a saved network, a seed), so a resumed
run plays the same games again.
"""

from __future__ import annotations

import os
import threading
import time

from .worker import SelfPlayWorker


class LocalGames:
    """The single-process game source: the run's own worker plays all of an iteration's games."""

    def __init__(self, worker: SelfPlayWorker):
        self.worker = worker

    def play(self, weights: dict, version, num_games: int, seed: int, progress=None):
        self.worker.set_weights(weights)
        return self.worker.play(num_games, seed, progress=progress)

    def close(self) -> None:
        pass


def available_cores() -> int:
    """The cores this process may run on (its affinity mask; a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(setting: int, device: str = "cpu") -> int:
    """Self-play worker processes for ``run.workers``: -1 (auto) is every core but the learner's, and none on one
    core or when the network runs on a GPU (self-play in the learner's process, on the GPU); else the setting."""
    if setting >= 0:
        return setting
    if str(device) == "cuda" or (str(device) == "auto" and _cuda()):
        return 0
    return max(0, available_cores() - 1)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class Ahead:
    """One iteration's self-play, played by ``source`` in a background thread while the learner works.

    ``games`` counts the finished games as they come in (the progress bar); ``result()`` waits and returns the
    batch, or raises what the source raised."""

    def __init__(self, source, weights: dict, version, iteration: int, num_games: int, seed: int):
        self.iteration, self.version, self.num_games = iteration, version, num_games
        self.games = 0
        self.started = time.perf_counter()
        self._batch = self._error = None
        self._done = threading.Event()
        copy = {k: v.detach().clone() for k, v in weights.items()}  # the learner goes on changing its own

        def body():
            try:
                self._batch = source.play(copy, version, num_games, seed, progress=self._progress)
            except BaseException as err:  # handed to the thread that waits
                self._error = err
            finally:
                self._done.set()

        # a daemon thread: a run stopped by Ctrl-C or an error does not wait for games nobody will read
        threading.Thread(target=body, name=f"selfplay-iteration-{iteration}", daemon=True).start()

    def _progress(self, games: int, positions: int) -> None:
        self.games = games

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, progress=None, poll: float = 0.25):
        """The batch; ``progress(games)`` is called while waiting."""
        while not self._done.wait(poll):
            if progress is not None:
                progress(self.games)
        if self._error is not None:
            raise self._error
        return self._batch
