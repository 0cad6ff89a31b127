"""Self-play work in chunks, for any pool of workers that may die: Ray actors or local processes.

An iteration's games are split into chunks of fixed ids ``0..K-1`` and seeds ``derived_seed(seed, "chunk", id)``,
so the games are a pure function of the run's seed, the iteration and the chunk size, whatever the number of
workers or the order in which chunks finish. ``play_chunks`` hands chunks to idle workers; a worker that dies
is brought back (``revive``) and its chunk sent again (same seed: the same games). Results are keyed by chunk id,
so a chunk is never counted twice or lost; one lost ``max_retries`` times stops the run with a ``UserError``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from ..core import UserError, derived_seed


@dataclass(frozen=True)
class Chunk:
    """A unit of self-play work: ``games`` games played with ``seed``."""

    id: int
    games: int
    seed: int


def make_chunks(num_games: int, chunk_games: int, seed: int) -> list[Chunk]:
    """Split ``num_games`` into chunks of ``chunk_games`` (the last may be smaller), seeds from ``(seed, id)``."""
    count = -(-num_games // chunk_games)
    return [Chunk(k, min(chunk_games, num_games - k * chunk_games), derived_seed(seed, "chunk", k))
            for k in range(count)]


class WorkerDied(Exception):
    """What ``receive`` returns for a chunk whose worker died (the reason in the message)."""


def play_chunks(chunks: list[Chunk], workers: int, send: Callable[[int, Chunk], Hashable],
                receive: Callable[[list], list], revive: Callable[[int], None], max_retries: int,
                on_dispatch: Callable[[int, Chunk], None] | None = None, on_lost: Callable[[int, Chunk, str], None]
                | None = None, progress: Callable[[int, int], None] | None = None):
    """Play ``chunks`` on ``workers`` workers; returns ``(batches in chunk order, chunks sent again)``.

    ``send(index, chunk)`` starts a chunk on worker ``index`` and returns a token; ``receive(tokens)`` blocks until
    at least one of them is done and returns ``[(token, batch or WorkerDied)]``; ``revive(index)`` returns when
    the worker is back. ``on_dispatch(index, chunk)`` runs after each send (monitoring; the tests that kill a
    worker mid-chunk), ``on_lost(index, chunk, reason)`` after a death, ``progress(games, positions)`` after each
    finished chunk.
    """
    todo = deque(chunks)
    idle = deque(range(workers))
    inflight: dict = {}
    results: dict[int, object] = {}
    failures: dict[int, int] = {}
    games_done = positions_done = resubmitted = 0
    while todo or inflight:
        while todo and idle:
            index, chunk = idle.popleft(), todo.popleft()
            inflight[send(index, chunk)] = (index, chunk)
            if on_dispatch is not None:
                on_dispatch(index, chunk)
        for token, outcome in receive(list(inflight)):
            index, chunk = inflight.pop(token)
            if isinstance(outcome, WorkerDied):
                revive(index)  # the other workers' chunks keep running meanwhile
                idle.append(index)
                failures[chunk.id] = failures.get(chunk.id, 0) + 1
                if failures[chunk.id] > max_retries:
                    raise UserError(f"self-play chunk {chunk.id} lost {failures[chunk.id]} times to dead workers; "
                                    f"last: {outcome}")
                resubmitted += 1
                todo.appendleft(chunk)  # same id, same seed: the same games
                if on_lost is not None:
                    on_lost(index, chunk, str(outcome))
                continue
            idle.append(index)
            if chunk.id in results:  # cannot happen with one dispatch per chunk; never count a chunk twice
                continue
            results[chunk.id] = outcome
            games_done += len(outcome.games)
            positions_done += len(outcome)
            if progress is not None:
                progress(games_done, positions_done)
    return [results[c.id] for c in chunks], resubmitted


def gather(batches: list, wall: float, chunks: int, resubmitted: int):
    """The iteration's batch from its chunks' batches (in chunk order), with the statistics of a pool: ``seconds``
    becomes the iteration's wall time (positions/s is the pool's), the network's share stays a share of the
    workers' time, and ``chunks`` / ``resubmitted_chunks`` are added."""
    from ..alphazero.worker import SelfPlayBatch

    batch = SelfPlayBatch.concatenate(batches)
    stats = batch.stats
    worker_seconds = stats.get("seconds", 0.0)
    stats["actor_seconds"] = worker_seconds
    stats["network_seconds"] = stats.get("network_seconds", 0.0) * wall / max(worker_seconds, 1e-9)
    stats["seconds"] = wall
    stats["chunks"] = chunks
    stats["resubmitted_chunks"] = resubmitted
    return batch


def timed_play(worker, chunk: Chunk):
    """A worker plays a chunk: ``(chunk id, batch)`` with the worker's wall and CPU seconds in its statistics."""
    t0, c0 = time.perf_counter(), time.process_time()
    batch = worker.play(chunk.games, chunk.seed)
    batch.stats["actor_wall_seconds"] = time.perf_counter() - t0
    batch.stats["actor_cpu_seconds"] = time.process_time() - c0
    return chunk.id, batch
