"""Teacher data generation speed (``engine.supervised``): labelled positions/s of a teacher's games on
``--workers`` processes, e.g. Stockfish with MultiPV 4 on two cores. Reported: the whole run (process start-up
included) and the steady rate (each process's positions per second of its own shards after the first, which holds
the teacher's start-up, times the processes), with the machine's load average."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from ..cli import UserError, make_game
from ._common import finish, parser, setup

DEFAULT_TEACHER = "uci:/usr/games/stockfish;MultiPV=4;nodes=1000;Hash=16"


def main(argv=None):
    p = parser("supervised", __doc__)
    p.add_argument("--game", default="chess")
    p.add_argument("--teacher", default=DEFAULT_TEACHER, help=f"agents.make spec (default {DEFAULT_TEACHER!r})")
    p.add_argument("--positions", type=int, default=3000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--games-per-shard", type=int, default=2)
    p.add_argument("--opening-plies", type=int, default=6)
    p.add_argument("--random-moves", type=float, default=0.03)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max-plies", type=int, default=200)
    args = p.parse_args(argv)
    setup(args)
    from ..supervised.generate import GenerateOptions, generate
    from ..supervised.pipeline import check_teacher

    game = make_game(args.game)
    check_teacher(game, args.teacher)
    opts = GenerateOptions(teacher=args.teacher, games_per_shard=args.games_per_shard, opening_min=0,
                           opening_plies=args.opening_plies, random_moves=args.random_moves,
                           temperature=args.temperature, max_plies=args.max_plies, game_name=args.game,
                           game_options={})
    folder = Path(tempfile.mkdtemp(prefix="bench-supervised-"))
    marks: list[tuple[float, int]] = []  # (seconds, positions) as shards finish
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    try:
        manifest = generate(game, folder, opts, args.positions, args.seed, args.workers,
                            lambda have, total, m, s: marks.append((time.perf_counter() - t0, have)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.perf_counter() - t0
    if not marks:
        raise UserError("no shard finished: nothing to measure")
    # steady: each process's own rate over its shards after the first (teacher start-up), times the processes
    rest = manifest["shards"][args.workers:]
    busy = sum(s["seconds"] for s in rest)
    steady = args.workers * sum(s["positions"] for s in rest) / busy if rest and busy > 0 else None
    t = manifest["totals"]
    result = {"game": game.name, "teacher": args.teacher, "workers": args.workers, "positions": t["positions"],
              "games": t["games"], "dropped": t["dropped"], "seconds": round(seconds, 2),
              "positions_per_second": round(t["positions"] / seconds, 1),
              "steady_positions_per_second": None if steady is None else round(steady, 1),
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    text = (f"{args.teacher} on {args.workers} processes: {t['positions']} labelled positions of {t['games']} games "
            f"in {seconds:.1f} s: {result['positions_per_second']} positions/s overall, steady "
            f"{result['steady_positions_per_second']} positions/s (load average {load_before[0]:.1f} before, "
            f"{result['load_average_after'][0]:.1f} after)")
    finish("supervised", args, result, text)
    return 0
