"""Positions from a teacher's games against itself, labelled by the teacher, on every core.

A game starts from a random opening (``opening_plies``: n ~ uniform{opening_min..opening_plies} random plies)
or a book line (``openings``: a file of move lists, one a line, one drawn per game), then the teacher plays both
sides: each position gets the teacher's label (``teachers.Label``), and the move played is the teacher's own,
or with probability ``random_moves`` a uniformly random legal move, or with ``temperature > 0`` a move drawn
from the teacher's policy target (MultiPV sampling). Positions of the opening plies are not labelled.

Shard ``k`` holds ``games_per_shard`` games drawn from ``(seed, k)`` alone; worker processes (one teacher each,
``workers``: one per core by default) make shards in parallel, and the parent records finished shards in the
manifest in order, so a stopped run goes on where it stopped (``--data DIR``) and the same seed makes the same
games. A teacher that crashes, breaks its protocol or hangs mid-game (``AgentError``: the UCI/GTP players' own
timeouts) is restarted; that game is dropped and counted (``dropped``). The games are also written as records
(``games/shard-NNNNN.sgf``/``.pgn``/``.txt``).
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.pool
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agents import AgentError

from ..cli import UserError
from ..core import atomic_write_text
from .data import ShardBuilder, new_manifest, read_manifest, shard_name, write_manifest

MAX_RESTARTS_IN_A_ROW = 5


@dataclass
class GenerateOptions:
    teacher: str
    games_per_shard: int = 16
    opening_min: int = 0
    opening_plies: int = 4
    openings: list[str] | None = None     # book lines in the game's notation
    random_moves: float = 0.05
    temperature: float = 0.0
    label_from_ply: int = 0               # positions before this ply are played but not labelled
    max_plies: int = 0                    # stop a game after this many plies (0: the game's maximum)
    value_discount: float = 0.98
    game_name: str = ""
    game_options: dict | None = None


# ------------------------------------------------------------------------------------------- one process
_WORKER: dict = {}


def _init_worker(opts: GenerateOptions) -> None:
    from ..cli import make_game, pin_threads

    pin_threads(1)
    game = make_game(opts.game_name, opts.game_options or {})
    _WORKER.update(opts=opts, game=game, teacher=None)


def _teacher(seed: int):
    from .teachers import make_teacher

    if _WORKER["teacher"] is None:
        _WORKER["teacher"] = make_teacher(_WORKER["opts"].teacher, _WORKER["game"], seed=seed,
                                          value_discount=_WORKER["opts"].value_discount)
    return _WORKER["teacher"]


def _drop_teacher() -> None:
    teacher = _WORKER.get("teacher")
    _WORKER["teacher"] = None
    if teacher is not None:
        try:
            teacher.close()
        except Exception:
            pass


def play_game(game, teacher, opts: GenerateOptions, rng: np.random.Generator) -> tuple[list[tuple], list[int]]:
    """One labelled teacher game: (positions as ``ShardBuilder.add_game`` takes them, actions)."""
    state = game.initial_state()
    actions: list[int] = []
    if opts.openings:
        line = opts.openings[int(rng.integers(len(opts.openings)))]
        for text in line.split() if " " in line or not line.isdigit() else list(line):
            a = game.parse_move(state, text)
            actions.append(a)
            state = game.apply(state, a)
    n_open = int(rng.integers(opts.opening_min, opts.opening_plies + 1)) if opts.opening_plies > 0 else 0
    for _ in range(n_open):
        if game.is_terminal(state):
            break
        a = int(rng.choice(np.flatnonzero(game.legal_mask(state))))
        actions.append(a)
        state = game.apply(state, a)
    if game.is_terminal(state):
        return [], actions
    teacher.reset()
    replay = game.initial_state()
    for a in actions:  # the teacher follows the opening
        teacher.observe(replay, a)
        replay = game.apply(replay, a)
    labelled: list[tuple] = []
    limit = opts.max_plies or game.max_game_length
    resigned = None
    while not game.is_terminal(state) and len(actions) < limit:
        label = None
        if len(actions) >= opts.label_from_ply:
            label = teacher.label(state)
            if label.info.get("resign"):
                resigned = game.to_play(state)
                break
            labelled.append((state, label, game.to_play(state), len(actions)))
        legal = np.flatnonzero(game.legal_mask(state))
        if label is None or rng.random() < opts.random_moves:
            a = int(rng.choice(legal))
        elif opts.temperature > 0 and len(label.actions) > 1:
            p = np.asarray(label.probs, np.float64) ** (1.0 / opts.temperature)
            a = int(label.actions[int(rng.choice(len(p), p=p / p.sum()))])
        else:
            a = int(label.best[0]) if label.best[0] in label.actions else int(label.actions[0])
        teacher.observe(state, a)
        actions.append(a)
        state = game.apply(state, a)
    if game.is_terminal(state):
        outcome = game.result(state)
    else:  # stopped early (resignation, max plies): Go scores it, others take the last value
        adjudicate = getattr(game, "adjudicate", None)
        if resigned is not None:
            outcome = -1 if resigned == 0 else 1
        elif adjudicate is not None:
            outcome = int(adjudicate(state))
        else:
            outcome = 0
    positions = []
    for st, label, mover, ply in labelled:
        z = outcome if mover == 0 else -outcome
        value = float(z) if label.value is None else float(label.value)
        result = int(label.result) if label.result is not None else int(z)
        positions.append((st, label.actions, label.probs, label.best, value, result, ply))
    return positions, actions


def make_shard(args) -> dict:
    """Worker job: shard ``index`` from ``(seed, index)``, written to ``folder``; returns its counts."""
    folder, index, seed = args
    from ..alphazero.run import derived_seed

    game, opts = _WORKER["game"], _WORKER["opts"]
    rng = np.random.default_rng(derived_seed(seed, "shard", index))
    builder = ShardBuilder(game, index)
    records, errors = [], []
    dropped, restarts, opening_ends, t0 = 0, 0, 0, time.perf_counter()
    while builder.games + dropped + opening_ends < opts.games_per_shard:
        try:
            teacher = _teacher(derived_seed(seed, "teacher", index, restarts))
            positions, actions = play_game(game, teacher, opts, rng)
            restarts = 0
        except AgentError as err:  # crashed, hung or broke its protocol: restart it, drop the game
            _drop_teacher()
            dropped += 1
            restarts += 1
            errors.append(f"shard {index}, game {builder.games + dropped}: {err}")
            if restarts >= MAX_RESTARTS_IN_A_ROW:
                raise UserError(f"the teacher failed {restarts} games in a row; the last error: {err}") from None
            continue
        if positions:
            builder.add_game(positions)
            tags = {"first": opts.teacher, "second": opts.teacher, "shard": index, "game": builder.games}
            records.append(game.format_record(actions, tags))
        else:
            opening_ends += 1  # ended in the opening: nothing to learn
    builder.write(folder)
    if records:
        atomic_write_text(Path(folder) / "games" / f"shard-{index:05d}{game.record_extension}", "\n".join(records))
    return {"index": index, "file": shard_name(index), "positions": len(builder), "games": builder.games,
            "dropped": dropped, "opening_ends": opening_ends, "errors": errors, "seconds": time.perf_counter() - t0,
            "pid": os.getpid()}


# ------------------------------------------------------------------------------------------- the parent
def generate(game, folder: Path, opts: GenerateOptions, positions: int, seed: int, workers: int,
             progress=None) -> dict:
    """Teacher games until the folder holds at least ``positions`` positions; returns the manifest."""
    folder = Path(folder)
    (folder / "games").mkdir(parents=True, exist_ok=True)
    source = {"kind": "teacher", "seed": int(seed), **asdict(opts)}
    manifest = read_manifest(folder)
    if manifest is None:
        manifest = new_manifest(game, source)
    elif manifest["source"] != source:
        diff = sorted(k for k in set(source) | set(manifest["source"])
                      if source.get(k) != manifest["source"].get(k))
        raise UserError(f"{folder} holds data made with other settings ({', '.join(diff)}); use another --data "
                        f"folder or the same settings")
    have = sum(s["positions"] for s in manifest["shards"])
    if have >= positions:
        return manifest
    next_index = len(manifest["shards"])
    workers = max(1, int(workers))
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(opts,))
    pending: dict[int, mp.pool.AsyncResult] = {}
    k = next_index
    try:
        while have < positions:
            while len(pending) < workers + 1:  # keep every worker busy, one shard ahead
                pending[k] = pool.apply_async(make_shard, ((str(folder), k, seed),))
                k += 1
            out = pending.pop(next_index).get()
            next_index += 1
            errors = out.pop("errors")
            out.pop("pid")
            manifest["shards"].append({**out, "first_errors": errors[:3]})
            write_manifest(folder, manifest)
            have += out["positions"]
            if progress is not None:
                progress(have, positions, manifest, time.perf_counter() - started)
    finally:
        pool.terminate()
        pool.join()
    return manifest
