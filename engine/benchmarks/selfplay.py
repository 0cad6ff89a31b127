"""Self-play throughput against the raw batched network throughput of the same net and batch.

    python -m engine.bench selfplay --game connect4
    python -m engine.bench selfplay --game connect4 --games 512 --batch 64 --simulations 48 --json
    python -m engine.bench selfplay --game tictactoe --config tictactoe

``SelfPlayWorker.play`` runs ``--games`` games, ``--batch`` at a time, with the network of the config
(``engine/configs/connect4.yaml`` sizes by default, random weights: speed does not depend on them) on one thread. The
figures: positions (moves) and network evaluations per second of self-play, the network's share of the time,
and the ratio of self-play evaluations per CPU-second to the raw throughput of the bare evaluator called on a
full batch of ``--batch`` positions (the target is >= 90%). With continuous self-play (the default) each call
continues the games left under way by the one before (the warm-up call starts them), as in a training run, so
no call is part-empty for lack of games; with ``selfplay.continuous=false`` the last games of each call leave
part of the batch empty and ``--games`` well above ``--batch`` keeps that tail small.

The raw throughput is sampled *during* self-play: after every ``--probe-every``-th network call of self-play
the bare evaluator runs once more on a full batch of fixed planes, timed apart (and left out of the self-play
figures). Both figures then come from the same minutes: on a shared machine whose speed drifts by tens of
percent from minute to minute (measured on the 2-core VM this was written on: the same 64-position call,
repeated, took 7 to 18 ms, and the medians of blocks of 100 calls ranged from 9.2 to 12.6 ms), a raw
measurement taken apart from self-play compares two different machines. The probe runs
just after a self-play call, with the network's weights still in cache, so if anything it favours the raw
side. The separate measurement (raw calls back to back between repeats, the best window kept) is reported
too, as ``selfplay_vs_raw_separate``. ``--repeats`` runs add up; ``selfplay_vs_raw_per_repeat`` gives the ratio
of each repeat alone, a measure of the spread.

With ``--ray`` the same games are also played by Ray actors (``engine.distributed.RaySelfPlay``, one CPU each),
for every count in ``ray.actors=1,2,4``: positions/s per count next to the single-process figure, the scaling
efficiency ``throughput(N) / (N x throughput(1))`` (target >= 0.8 with one actor per free core) and positions
per actor CPU-second (steady on a shared machine: it falls only when actors slow each other down, e.g. by
memory bandwidth, not when other jobs take the cores).

    python -m engine.bench selfplay --game connect4 --games 256 --ray ray.actors=1,2

``--workers`` measures what ``python -m engine.selfplay`` does on this machine: the same games played by
``engine.distributed.ProcessSelfPlay`` with 1 worker process and with one per core (``--workers 1,2`` for other
counts), positions/s of each next to the single-process figure and ``all_cores_over_one`` (the ratio of the
largest count to one). ``--precisions`` measures the single process twice, with ``run.precision=fp32`` and
``auto`` (``auto_over_fp32``; ``auto_resolves_to`` says what ``auto`` picked on this CPU).

    python -m engine.bench selfplay --game connect4 --workers --precisions --json
"""

from __future__ import annotations

import time

import numpy as np

from ..cli import UserError, add_simulations_arg, simulations_of
from ._common import finish, parser, setup

NAME = "selfplay"


def main(argv=None):
    p = parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--game", default="connect4", help="game name")
    p.add_argument("--config", default=None, help="self-play YAML config (default: the embedded Connect Four one)")
    p.add_argument("--games", type=int, default=512, help="games played per repeat")
    p.add_argument("--batch", type=int, default=None, help="games at once (default: selfplay.parallel_games)")
    add_simulations_arg(p, None, "simulations per move (default: the config's)")
    p.add_argument("--repeats", type=int, default=3, help="self-play runs of --games games (their totals add up)")
    p.add_argument("--probe-every", type=int, default=8,
                   help="time a raw full-batch network call after every N-th self-play call (default 8)")
    p.add_argument("--ray", action="store_true", help="also measure Ray actors (counts from ray.actors=1,2,...)")
    p.add_argument("--workers", nargs="?", const="", default=None, metavar="N,M",
                   help="also measure worker processes: 1 and one per core, or these counts")
    p.add_argument("--precisions", action="store_true", help="measure the single process in fp32 and in auto")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    args = p.parse_args(argv)
    simulations_of(args)
    setup(args)
    actor_counts = _actor_counts(args)
    worker_counts = _worker_counts(args.workers)
    if args.games < 1 or args.repeats < 1 or args.probe_every < 1:
        raise UserError("--games, --repeats and --probe-every must be at least 1")
    import torch

    import games as games_mod

    from ..alphazero import SelfPlayWorker

    cfg = _config(args)
    torch.manual_seed(args.seed)
    game = games_mod.make(cfg.game.name, **cfg.game.options)
    worker = SelfPlayWorker(game, cfg, device="cpu")
    result = {"game": game.name, "net": f"{cfg.net.blocks}x{cfg.net.channels} resnet",
              "batch": cfg.selfplay.parallel_games, "simulations": cfg.mcts.simulations, "gumbel": cfg.mcts.gumbel,
              "precision": cfg.run.precision, **_measure(worker, game, args)}
    if args.precisions:
        result.update(_precisions(cfg, game, args, result))
    if args.ray:
        result["ray"] = _scaling("ray", cfg, worker, actor_counts, args, result["positions_per_second"])
    if worker_counts is not None:
        rows = _scaling("processes", cfg, worker, worker_counts, args, result["positions_per_second"])
        result["workers"] = rows
        ones = [r for r in rows if r["actors"] == 1]
        if ones and rows[-1]["actors"] > 1:
            result["all_cores_over_one"] = round(rows[-1]["positions_per_second"] / ones[0]["positions_per_second"],
                                                 3)
    text = "\n".join(f"{k}: {v}" for k, v in result.items() if k not in ("ray", "workers"))
    for kind in ("ray", "workers"):
        for row in result.get(kind, []):
            text += (f"\n{kind} {row['actors']}: {row['positions_per_second']} positions/s "
                     f"({row['vs_single_process']}x single process, scaling {row['scaling_efficiency']}), "
                     f"{row['positions_per_actor_cpu_second']} positions per worker CPU-second")
    finish(NAME, args, result, None if args.json else text)
    return 0


def _actor_counts(args) -> list[int]:
    """The Ray actor counts to measure (``ray.actors=1,2`` among the overrides, which it leaves)."""
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
    return actor_counts


def _worker_counts(text: str | None) -> list[int] | None:
    """``--workers``: None (not asked), ``[1, cores]`` (no counts given) or the counts given."""
    if text is None:
        return None
    if not text:
        from ..alphazero.sources import available_cores

        return sorted({1, available_cores()})
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--workers {text}: give counts separated by commas, e.g. --workers 1,2") from None
    if not counts or min(counts) < 1:
        raise UserError(f"--workers {text}: counts must be >= 1")
    return counts


def _precisions(cfg, game, args, measured: dict) -> dict:
    """The single process again in the other precision (fp32 or auto): positions/s of both and their ratio."""
    import dataclasses

    from nets.precision import resolve_precision

    from ..alphazero import SelfPlayWorker

    other = "fp32" if cfg.run.precision != "fp32" else "auto"
    other_cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, precision=other))
    rate = _measure(SelfPlayWorker(game, other_cfg, device="cpu"), game, args)["positions_per_second"]
    rates = {cfg.run.precision: measured["positions_per_second"], other: rate}
    return {"positions_per_second_fp32": rates["fp32"], "positions_per_second_auto": rates.get("auto"),
            "auto_resolves_to": resolve_precision("auto", "cpu"),
            "auto_over_fp32": round(rates["auto"] / rates["fp32"], 3) if rates.get("auto") else None}


def _config(args):
    """The self-play config: ``--config`` or the embedded default, with the options and overrides applied."""
    from ..alphazero import make_config
    from ..alphazero.config import DEFAULT

    overrides = list(args.overrides)
    if args.config is None and args.game != "connect4":
        overrides.append(f"game.name={args.game}")
    if args.batch is not None:
        overrides.append(f"selfplay.parallel_games={args.batch}")
    if args.simulations is not None:
        overrides.append(f"mcts.simulations={args.simulations}")
    return make_config(args.config, overrides, base=dict(DEFAULT))


def _measure(worker, game, args) -> dict:
    """Self-play throughput over ``args.repeats`` runs of ``args.games`` games, with the raw network's measured in
    the same minutes (``RawProbe``) and separately after each repeat."""
    B = worker.batch_size
    evaluator = worker.evaluator
    rng = np.random.default_rng(args.seed)
    planes = (rng.random((B, *game.plane_shape)) < 0.3).astype(np.float32)
    legal = np.ones((B, game.num_actions), np.bool_)
    worker.play(min(B, args.games), seed=args.seed)  # warm-up: compilation, first calls
    for _ in range(3):
        evaluator(planes, legal)
    probe = RawProbe(evaluator, planes, legal, args.probe_every)
    worker.evaluator = probe
    wall = cpu = 0.0
    s: dict = {}
    best_raw_separate = 0.0
    per_repeat = []  # (self-play evaluations per CPU-second) / (raw, from this repeat's probes)
    for r in range(args.repeats):
        before = (probe.wall, probe.cpu, probe.positions)
        w0, c0 = time.perf_counter(), time.process_time()
        batch = worker.play(args.games, seed=args.seed + r)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        probe_wall, probe_cpu = probe.wall - before[0], probe.cpu - before[1]
        wall += w - probe_wall
        cpu += c - probe_cpu
        stats = dict(batch.stats)
        stats["network_seconds"] -= probe_wall
        stats["seconds"] -= probe_wall
        for key in ("games", "moves", "evaluations", "network_calls", "network_seconds", "seconds"):
            s[key] = s.get(key, 0) + stats[key]
        if probe.positions > before[2]:
            raw = (probe.positions - before[2]) / probe_cpu
            per_repeat.append(round((stats["evaluations"] / (c - probe_cpu)) / raw, 3))
        calls = max(10, stats["network_calls"] // 10)  # the separate measurement: back-to-back raw calls
        c0 = time.process_time()
        for _ in range(calls):
            evaluator(planes, legal)
        best_raw_separate = max(best_raw_separate, calls * B / (time.process_time() - c0))
    worker.evaluator = evaluator
    if probe.probes == 0:
        raise UserError(f"no raw probe ran: self-play made {probe.calls} network calls, fewer than --probe-every "
                        f"{args.probe_every}; lower --probe-every or raise --games")
    raw_cpu = probe.positions / probe.cpu
    return {
        "games": s["games"], "evaluations": s["evaluations"], "network_calls": s["network_calls"],
        "mean_batch": round(s["evaluations"] / max(s["network_calls"], 1), 1),
        "positions_per_second": round(s["moves"] / wall, 1), "games_per_second": round(s["games"] / wall, 2),
        "evaluations_per_second": round(s["evaluations"] / wall),
        "evaluations_per_cpu_second": round(s["evaluations"] / cpu),
        "network_share": round(s["network_seconds"] / s["seconds"], 4),
        "network_per_cpu_second_in_selfplay": round(s["evaluations"] / s["network_seconds"]),
        "raw_network_per_second": round(probe.positions / probe.wall),
        "raw_network_per_cpu_second": round(raw_cpu), "raw_probes": probe.probes,
        "selfplay_vs_raw": round((s["evaluations"] / cpu) / raw_cpu, 3),
        "selfplay_vs_raw_per_repeat": per_repeat,
        "selfplay_vs_raw_wall": round((s["evaluations"] / wall) / (probe.positions / probe.wall), 3),
        "raw_network_per_cpu_second_separate": round(best_raw_separate),
        "selfplay_vs_raw_separate": round((s["evaluations"] / cpu) / best_raw_separate, 3),
    }


class RawProbe:
    """The self-play evaluator, which after every ``every``-th call also times one call of the bare evaluator on
    the fixed full batch ``planes``/``legal``: the raw throughput sampled in the same minutes as self-play."""

    def __init__(self, inner, planes, legal, every: int):
        self.inner, self.planes, self.legal, self.every = inner, planes, legal, every
        self.calls = self.probes = self.positions = 0
        self.wall = self.cpu = 0.0

    def __call__(self, planes, legal):
        out = self.inner(planes, legal)
        self.calls += 1
        if self.calls % self.every == 0:
            w0, c0 = time.perf_counter(), time.process_time()
            self.inner(self.planes, self.legal)
            self.wall += time.perf_counter() - w0
            self.cpu += time.process_time() - c0
            self.probes += 1
            self.positions += len(self.planes)
        return out


def _scaling(kind: str, cfg, worker, counts: list[int], args, single: float) -> list[dict]:
    """Positions/s of a pool of ``kind`` (``ray``: ``RaySelfPlay`` actors; ``processes``: ``ProcessSelfPlay``
    workers) for each count (best of ``args.repeats``), the same games as above."""
    import dataclasses

    if kind == "ray":
        from ..distributed import RaySelfPlay, connect

        section = dataclasses.replace(cfg.ray, actors=max(counts))
        connect(dataclasses.replace(section, local_cpus=section.local_cpus or
                                    max(1, int(max(counts) * section.num_cpus))))
    weights = worker.net.state_dict()
    rows, one = [], None
    for n in counts:
        if kind == "ray":
            source = RaySelfPlay(cfg, dataclasses.replace(section, actors=n))
        else:
            from ..distributed.processes import ProcessSelfPlay

            source = ProcessSelfPlay(cfg, n)
        try:
            source.play(weights, 0, n * source.chunk_games, seed=args.seed)  # warm-up: start, compile, first calls
            best = None
            for r in range(args.repeats):
                w0 = time.perf_counter()
                batch = source.play(weights, 0, args.games, seed=args.seed + r)
                wall = time.perf_counter() - w0
                if best is None or wall < best[0]:
                    best = (wall, batch.stats)
        finally:
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
