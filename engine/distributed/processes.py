"""Self-play on local worker processes (no Ray): the game source of ``python -m engine.selfplay`` on a machine
with more than one core.

``ProcessSelfPlay`` starts ``workers`` processes (spawned: a clean interpreter, one torch thread each), each
holding a ``SelfPlayWorker`` with its own copy of the network. An iteration's games are played in chunks
(``engine.distributed.chunks``: fixed ids and seeds, so the games do not depend on the number of workers or on
which worker plays which chunk). A worker gets the weights with a chunk only when the network changed.

Faults: a worker that dies (``kill -9``, out of memory) is seen at once (its process sentinel), started again,
and its chunk sent again with the same seed; the chunk's games are counted once. Workers ignore Ctrl-C (the
driver saves and stops them) and leave by themselves when the driver is gone (their pipe closes).
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait

from ..core import UserError
from .chunks import Chunk, WorkerDied, gather, make_chunks, play_chunks, timed_play


def _worker_main(conn, cfg_dict: dict) -> None:
    """A worker process: receive ``(weights or None, chunk)``, answer ``(chunk id, batch)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the driver decides
    from ..core import pin_threads

    pin_threads(1)
    import games as games_mod

    from ..alphazero.config import config_from_dict
    from ..alphazero.worker import SelfPlayWorker

    cfg = config_from_dict(cfg_dict)
    game = games_mod.make(cfg.game.name, **cfg.game.options)
    # whole games: a chunk may be played again by another worker after a failure, so nothing carries over
    worker = SelfPlayWorker(game, cfg, device="cpu", continuous=False)
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            weights, chunk = message
            if weights is not None:
                worker.set_weights(weights)
            conn.send(timed_play(worker, chunk))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):  # the driver is gone
        return


class ProcessSelfPlay:
    """A game source for ``SelfPlayRun``: ``play(weights, version, num_games, seed, progress)`` on ``workers``
    local processes. ``on_dispatch(worker_index, chunk)`` (optional) runs after each chunk is sent; after ``play``,
    ``last_chunks`` and ``resubmitted`` (chunks sent again after a worker died, over the run)."""

    def __init__(self, cfg, workers: int, console=None, max_retries: int | None = None):
        from ..alphazero.config import config_dict

        if workers < 1:
            raise UserError(f"self-play workers must be >= 1, got {workers}")
        self.cfg_dict = config_dict(cfg)
        self.chunk_games = cfg.ray.chunk_games or cfg.selfplay.parallel_games
        self.max_retries = cfg.ray.max_chunk_retries if max_retries is None else max_retries
        self.console = console
        self.context = mp.get_context("spawn")
        self.procs: list = [None] * workers
        self.conns: list = [None] * workers
        self.versions: list = [None] * workers
        self.on_dispatch: Callable | None = None
        self.last_chunks: list[int] = []
        self.resubmitted = 0
        self.closed = False
        for index in range(workers):
            self._start(index)

    @property
    def workers(self) -> int:
        return len(self.procs)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def _start(self, index: int) -> None:
        ours, theirs = self.context.Pipe()
        proc = self.context.Process(target=_worker_main, args=(theirs, self.cfg_dict), daemon=True,
                                    name=f"selfplay-worker-{index}")
        # A Ctrl-C while the new interpreter starts must not print its traceback: it starts with SIGINT ignored
        # (an ignored signal stays ignored through exec, and Python then installs no handler for it).
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            proc.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        theirs.close()
        self.procs[index], self.conns[index], self.versions[index] = proc, ours, None

    def _revive(self, index: int) -> None:
        if self.closed:
            raise UserError("self-play: the worker processes were closed")
        old = self.procs[index]
        old.join(timeout=5)
        self.conns[index].close()
        self._start(index)

    def play(self, weights: dict, version, num_games: int, seed: int,
             progress: Callable[[int, int], None] | None = None):
        t0 = time.perf_counter()
        arrays = {k: v.detach().cpu().numpy() for k, v in weights.items()}
        chunks = make_chunks(num_games, self.chunk_games, seed)

        def send(index: int, chunk: Chunk) -> int:
            fresh = self.versions[index] != version
            try:
                self.conns[index].send((arrays if fresh else None, chunk))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # dead already: its sentinel fires in receive
            self.versions[index] = version
            return index

        def receive(indices: list[int]) -> list:
            by_object = {}
            for index in indices:
                by_object[self.conns[index]] = index
                by_object[self.procs[index].sentinel] = index
            out, seen = [], set()
            for ready in wait(list(by_object)):
                index = by_object[ready]
                if index in seen:
                    continue
                seen.add(index)
                conn = self.conns[index]
                try:
                    if conn.poll():
                        out.append((index, conn.recv()[1]))
                        continue
                except (EOFError, OSError):
                    pass
                if self.procs[index].is_alive():  # the sentinel did not fire: a spurious wake-up
                    seen.discard(index)
                    continue
                out.append((index, WorkerDied(f"worker {index} exited with code {self.procs[index].exitcode}")))
            return out

        def lost(index, chunk, reason):
            if self.console is not None:
                self.console.print(f"self-play: {reason} during chunk {chunk.id}; worker restarted, chunk sent again",
                                   highlight=False)

        batches, resubmitted = play_chunks(chunks, self.workers, send, receive, self._revive, self.max_retries,
                                           self.on_dispatch, lost, progress)
        batch = gather(batches, time.perf_counter() - t0, len(chunks), resubmitted)
        self.last_chunks = [c.id for c in chunks]
        self.resubmitted += resubmitted
        return batch

    def close(self) -> None:
        """Stop the workers (a chunk under way is dropped: its iteration was not saved, a resume plays it again)."""
        self.closed = True
        for proc in self.procs:
            if proc is not None and proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            if proc is not None:
                proc.join(timeout=5)
        for conn in self.conns:
            if conn is not None:
                conn.close()
