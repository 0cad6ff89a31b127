"""Helpers shared by the tests of self-play on other processes (worker processes, Ray actors)."""

from __future__ import annotations

import games
from engine.alphazero import SelfPlayWorker
from engine.alphazero.run import game_records
from engine.core import derived_seed
from engine.distributed.chunks import make_chunks
from nets import read_checkpoint


def expected_records(cfg, folder, iteration: int, network: int, seed: int) -> str:
    """Iteration ``iteration``'s game records replayed in this process, chunk by chunk, from the saved network of
    iteration ``network``: what a run whose games are played elsewhere must have written."""
    game = games.make(cfg.game.name)
    worker = SelfPlayWorker(game, cfg, continuous=False)  # as the workers: whole games
    worker.set_weights(read_checkpoint(folder / "checkpoints" / f"iter-{network:04d}.pt").model)
    played = []
    for chunk in make_chunks(cfg.selfplay.games_per_iteration, cfg.selfplay.parallel_games,
                             derived_seed(seed, iteration, "selfplay")):
        played += worker.play(chunk.games, chunk.seed).games
    return game_records(game, played, iteration, network)
