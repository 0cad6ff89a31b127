"""Self-play throughput against the raw batched network throughput of the same net and batch.

    python -m engine.bench selfplay --game connect4
    python -m engine.bench selfplay --game connect4 --games 512 --batch 64 --simulations 48 --json
    python -m engine.bench selfplay --game tictactoe --config configs/tictactoe.yaml

``SelfPlayWorker.play`` runs ``--games`` games, ``--batch`` at a time, with the network of the config
(``configs/connect4.yaml`` sizes by default, random weights: speed does not depend on them) on one thread. The
figures: positions (moves) and network evaluations per second of self-play, the network's share of the time,
and the ratio of self-play evaluations per second to the raw throughput of the bare evaluator called on a full
batch of ``--batch`` positions (the target is >= 90%). The last games of a run leave part of the batch empty;
``--games`` well above ``--batch`` keeps that tail small. Repeats alternate self-play and the raw measurement;
the best of each is kept (per CPU-second, which is steadier than wall-clock time on a shared machine; both are
reported).
"""

from __future__ import annotations

import time

import numpy as np

from ..cli import UserError
from ._common import finish, parser, setup

NAME = "selfplay"


def main(argv=None):
    p = parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--game", default="connect4", help="game name")
    p.add_argument("--config", default=None, help="self-play YAML config (default: the embedded Connect Four one)")
    p.add_argument("--games", type=int, default=512, help="games played per repeat")
    p.add_argument("--batch", type=int, default=None, help="games at once (default: selfplay.parallel_games)")
    p.add_argument("--simulations", type=int, default=None, help="simulations per move (default: the config's)")
    p.add_argument("--repeats", type=int, default=3, help="repeats (the best is reported)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    args = p.parse_args(argv)
    setup(args)
    import torch

    from ..alphazero import SelfPlayWorker, make_config
    from ..alphazero.config import DEFAULT

    base = dict(DEFAULT)
    overrides = list(args.overrides)
    if args.config is None and args.game != "connect4":
        overrides.append(f"game.name={args.game}")
    if args.batch is not None:
        overrides.append(f"selfplay.parallel_games={args.batch}")
    if args.simulations is not None:
        overrides.append(f"mcts.simulations={args.simulations}")
    cfg = make_config(args.config, overrides, base=base)
    if args.games < 1 or args.repeats < 1:
        raise UserError("--games and --repeats must be at least 1")
    torch.manual_seed(args.seed)
    import games as games_mod

    game = games_mod.make(cfg.game.name, **cfg.game.options)
    worker = SelfPlayWorker(game, cfg, device="cpu")
    B = cfg.selfplay.parallel_games
    evaluator = worker.evaluator
    rng = np.random.default_rng(args.seed)
    planes = (rng.random((B, *game.plane_shape)) < 0.3).astype(np.float32)
    legal = np.ones((B, game.num_actions), np.bool_)
    worker.play(min(B, args.games), seed=args.seed)  # warm-up: compilation, first calls
    for _ in range(3):
        evaluator(planes, legal)
    best_sp = None
    best_raw = (0.0, 0.0)
    for r in range(args.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        batch = worker.play(args.games, seed=args.seed + r)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        s = batch.stats
        cand = {"wall": wall, "cpu": cpu, "stats": s}
        if best_sp is None or s["evaluations"] / cpu > best_sp["stats"]["evaluations"] / best_sp["cpu"]:
            best_sp = cand
        calls = max(10, s["network_calls"] // 10)
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(calls):
            evaluator(planes, legal)
        wall_raw, cpu_raw = time.perf_counter() - w0, time.process_time() - c0
        best_raw = (max(best_raw[0], calls * B / wall_raw), max(best_raw[1], calls * B / cpu_raw))
    s, wall, cpu = best_sp["stats"], best_sp["wall"], best_sp["cpu"]
    result = {
        "game": game.name, "net": f"{cfg.net.blocks}x{cfg.net.channels} resnet", "batch": B,
        "simulations": cfg.mcts.simulations, "gumbel": cfg.mcts.gumbel, "games": s["games"],
        "positions": s["positions"], "evaluations": s["evaluations"],
        "mean_batch": round(s["evaluations"] / max(s["network_calls"], 1), 1),
        "positions_per_second": round(s["moves"] / wall, 1), "games_per_second": round(s["games"] / wall, 2),
        "evaluations_per_second": round(s["evaluations"] / wall),
        "evaluations_per_cpu_second": round(s["evaluations"] / cpu),
        "network_share": round(s["network_seconds"] / s["seconds"], 4),
        "raw_network_per_second": round(best_raw[0]), "raw_network_per_cpu_second": round(best_raw[1]),
        "selfplay_vs_raw": round((s["evaluations"] / cpu) / best_raw[1], 3),
        "selfplay_vs_raw_wall": round((s["evaluations"] / wall) / best_raw[0], 3),
    }
    text = "\n".join(f"{k}: {v}" for k, v in result.items())
    finish(NAME, args, result, None if args.json else text)
    return 0


if __name__ == "__main__":
    from ..cli import run_main

    run_main(main)
