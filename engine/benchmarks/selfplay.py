"""Self-play throughput against the raw batched network throughput of the same net and batch.

    python -m engine.bench selfplay --game connect4
    python -m engine.bench selfplay --game connect4 --games 512 --batch 64 --simulations 48 --json
    python -m engine.bench selfplay --game tictactoe --config configs/tictactoe.yaml

``SelfPlayWorker.play`` runs ``--games`` games, ``--batch`` at a time, with the network of the config
(``configs/connect4.yaml`` sizes by default, random weights: speed does not depend on them) on one thread. The
figures: positions (moves) and network evaluations per second of self-play, the network's share of the time,
and the ratio of self-play evaluations per second to the raw throughput of the bare evaluator called on a full
batch of ``--batch`` positions (the target is >= 90%). With continuous self-play (the default) each call
continues the games left under way by the one before (the warm-up call starts them), as in a training run, so
no call is part-empty for lack of games; with ``selfplay.continuous=false`` the last games of each call leave
part of the batch empty and ``--games`` well above ``--batch`` keeps that tail small. Repeats alternate
self-play and the raw measurement; the best of each is kept (per CPU-second, which is steadier than wall-clock
time on a shared machine; both are reported).

With ``--ray`` the same games are also played by Ray actors (``engine.distributed.RaySelfPlay``, one CPU each),
for every count in ``ray.actors=1,2,4``: positions/s per count next to the single-process figure, the scaling
efficiency ``throughput(N) / (N x throughput(1))`` (target >= 0.8 with one actor per free core) and positions
per actor CPU-second (steady on a shared machine: it falls only when actors slow each other down, e.g. by
memory bandwidth, not when other jobs take the cores).

    python -m engine.bench selfplay --game connect4 --games 256 --ray ray.actors=1,2
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
    p.add_argument("--ray", action="store_true", help="also measure Ray actors (counts from ray.actors=1,2,...)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    args = p.parse_args(argv)
    setup(args)
    actor_counts = []
    for item in list(args.overrides):
        if item.startswith("ray.actors="):
            try:
                actor_counts = [int(x) for x in item.split("=", 1)[1].split(",") if x.strip()]
            except ValueError:
                raise UserError(f"{item}: ray.actors takes a count or a comma-separated list (ray.actors=1,2)") \
                    from None
            if not actor_counts or min(actor_counts) < 1:
                raise UserError(f"{item}: actor counts must be >= 1")
            args.overrides.remove(item)
    if args.ray and not actor_counts:
        actor_counts = [1, 2]
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
    if args.ray:
        result["ray"] = _ray_scaling(cfg, worker, actor_counts, args, result["positions_per_second"])
    text = "\n".join(f"{k}: {v}" for k, v in result.items() if k != "ray")
    for row in result.get("ray", []):
        text += (f"\nray {row['actors']} actor(s): {row['positions_per_second']} positions/s "
                 f"({row['vs_single_process']}x single process, scaling {row['scaling_efficiency']}), "
                 f"{row['positions_per_actor_cpu_second']} positions per actor CPU-second")
    finish(NAME, args, result, None if args.json else text)
    return 0


def _ray_scaling(cfg, worker, counts: list[int], args, single: float) -> list[dict]:
    """Positions/s of ``RaySelfPlay`` with each actor count (best of ``args.repeats``), same games as above."""
    import dataclasses

    from ..distributed import RaySelfPlay, connect

    section = dataclasses.replace(cfg.ray, actors=max(counts))
    connect(dataclasses.replace(section, local_cpus=section.local_cpus or
                                max(1, int(max(counts) * section.num_cpus))))
    weights = worker.net.state_dict()
    rows, one = [], None
    for n in counts:
        source = RaySelfPlay(cfg, dataclasses.replace(section, actors=n))
        source.play(weights, 0, n * source.chunk_games, seed=args.seed)  # warm-up: start, compile, first calls
        best = None
        for r in range(args.repeats):
            w0 = time.perf_counter()
            batch = source.play(weights, 0, args.games, seed=args.seed + r)
            wall = time.perf_counter() - w0
            if best is None or wall < best[0]:
                best = (wall, batch.stats)
        source.close()
        wall, s = best
        rate = s["moves"] / wall
        one = rate if n == counts[0] and counts[0] == 1 else one
        rows.append({"actors": n, "positions_per_second": round(rate, 1), "games": s["games"],
                     "chunks": s["chunks"], "wall_seconds": round(wall, 2),
                     "vs_single_process": round(rate / single, 3) if single else None,
                     "scaling_efficiency": round(rate / (n * one), 3) if one else None,
                     "positions_per_actor_cpu_second": round(s["moves"] / max(s["actor_cpu_seconds"], 1e-9), 1)})
    return rows


if __name__ == "__main__":
    from ..cli import run_main

    run_main(main)
