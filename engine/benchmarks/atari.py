"""Atari benchmark: train (or collect finished) DQN runs on a set of games and report raw scores, human-normalized
scores HNS = (agent - random) / (human - random) with the 57-game table's random and human columns
(``engine/dqn/atari_scores.csv``), Nature DQN's score, steps, wall time, acting and learning speed; median and
mean HNS over the games; a learning-curve PNG per game.

    python -m engine.bench atari --games pong,breakout --steps 10000000 --preset nature
    python -m engine.bench atari --games pong --collect runs/ALE_Pong-v5__dqn__0__*   # report finished runs
    python -m engine.bench atari --suite atari100k --agent drq_eps --games boxing,kangaroo --seeds 0,1,2
    python -m engine.bench atari --suite atari100k --report --json   # the results kept in the repository

``--suite atari100k`` is the Atari 100k benchmark (docs/atari100k.md, engine/benchmarks/_atari100k.py): 26 games
(all of them unless ``--games``), 100k agent steps each, one run per worker process, resumable, results kept as one
JSON per run in engine/dqn/results/atari100k/, compared with the published DER / DrQ(eps) / SPR / BBF scores.

Scores are raw, unclipped, over whole games: the final evaluation of each run (``eval.episodes`` games at the
preset's evaluation epsilon).
"""

from __future__ import annotations

import glob
import json
import os
import statistics
from pathlib import Path

from ..cli import UserError
from ..config import find_config
from ._common import finish, parser, setup


def _game_id(name: str) -> tuple[str, str]:
    """``pong`` / ``ALE/Pong-v5`` -> (rom name, ALE v5 id)."""
    from engine.dqn.envs import atari_game
    from engine.dqn.scores import load_scores

    try:
        rom = atari_game(name if "/" in name or "-v" in name else name.strip().lower())
    except ValueError as err:
        raise UserError(str(err)) from None
    if rom is None:
        raise UserError(f"{name!r} is not an Atari game (ale-py ROM names: pong, breakout, ms_pacman, ...)")
    row = load_scores().get(rom)
    camel = "".join(p.capitalize() for p in rom.split("_"))
    return rom, (row["ale_v5_id"] if row else f"ALE/{camel}-v5")


def _suite(args) -> None:
    from engine.dqn.atari100k import ATARI_100K_GAMES, RESULTS_DIR

    from . import _atari100k

    games = [_game_id(g) for g in args.games.split(",") if g.strip()] if args.games else \
        [_game_id(g) for g in ATARI_100K_GAMES]
    if not games:
        raise UserError("--games is empty")
    args.steps = 100_000 if args.steps is None else args.steps
    if args.steps < 1 or args.workers < 1 or args.reps < 1:
        raise UserError("--steps, --workers and --reps must be >= 1")
    args.runs_dir = args.runs_dir or "runs/atari100k"
    args.results_dir = args.results_dir or str(RESULTS_DIR)
    if args.plots_dir == "bench-results/atari":
        args.plots_dir = "bench-results/atari100k"
    result = _atari100k.main(args, games)
    finish("atari", args, result, None if args.json else _atari100k.text_table(result))


def _read_run(run_dir: Path) -> dict | None:
    summary = run_dir / "summary.json"
    if not summary.is_file():
        return None
    data = json.loads(summary.read_text())
    data["run_dir"] = str(run_dir)
    return data


def _train(env_id: str, steps: int, preset: str, config: str, seed: int, runs_dir: Path, threads: int,
           overrides: list[str]) -> dict:
    import torch

    torch.set_num_threads(threads)
    from engine.config import load_config
    from engine.dqn.config import DQNConfig
    from engine.dqn.trainer import Trainer, run_name

    cfg = load_config(DQNConfig, config, [f"env.id={env_id}", f"env.preset={preset}",
                                          f"train.total_steps={steps}", *overrides])
    run_dir = runs_dir / run_name(env_id, cfg.run.exp_name, seed)
    return {**Trainer(cfg, run_dir, seed=seed).run(), "run_dir": str(run_dir)}


def _plot(game: str, run: dict, path: Path) -> None:
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from engine.dqn.scores import reference

    run_dir = Path(run["run_dir"])
    fig, ax = plt.subplots(figsize=(7, 4))
    episodes = run_dir / "episodes.csv"
    if episodes.is_file():
        with open(episodes) as f:
            rows = list(csv.DictReader(f))
        if rows:
            steps = [int(r["step"]) for r in rows]
            returns = [float(r["return"]) for r in rows]
            window = max(1, len(returns) // 50)
            smooth = [sum(returns[max(0, i - window + 1):i + 1]) / len(returns[max(0, i - window + 1):i + 1])
                      for i in range(len(returns))]
            ax.plot(steps, smooth, color="tab:blue", alpha=0.6, label="training games (smoothed)")
    evals = run.get("evaluations") or []
    if evals:
        ax.plot([e[0] for e in evals], [e[1] for e in evals], "o-", color="tab:red", label="evaluation")
    ref = reference(game)
    for key, colour in (("nature_dqn", "tab:green"), ("human", "tab:gray"), ("random", "black")):
        if ref.get(key) is not None:
            ax.axhline(ref[key], color=colour, ls="--", lw=1, label=f"{key.replace('_', ' ')} {ref[key]:g}")
    ax.set_xlabel("agent steps")
    ax.set_ylabel("raw score per game")
    ax.set_title(f"{run.get('env', game)} ({run.get('preset')} preset)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = parser("atari", __doc__)
    p.add_argument("--games", default=None,
                   help="comma-separated games: pong,breakout,ms_pacman or ALE ids (default: pong; the suite's 26)")
    p.add_argument("--steps", type=int, default=None, help="agent steps per game (default 10M; atari100k: 100k)")
    p.add_argument("--preset", default="nature", choices=["nature", "machado", "atari100k"])
    p.add_argument("--config", default="dqn_atari", help="a YAML file or a shipped config name")
    p.add_argument("--runs-dir", default=None,
                   help="where runs are written and looked for (default runs/atari-bench; atari100k: runs/atari100k)")
    p.add_argument("--suite", choices=["atari100k"], default=None, help="a benchmark suite (see above)")
    p.add_argument("--agent", default="drq_eps", help="atari100k: drq_eps or der (configs/<agent>.yaml)")
    p.add_argument("--seeds", default="0", help="atari100k: comma-separated seeds, one run per game and seed")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="atari100k: runs trained at once, one process each (default: one per core)")
    p.add_argument("--report", action="store_true", help="atari100k: only report the finished results; run nothing")
    p.add_argument("--results-dir", default=None,
                   help="atari100k: where result files are written and read (default engine/dqn/results/atari100k)")
    p.add_argument("--reps", type=int, default=2000, help="atari100k: bootstrap replicates of each interval")
    p.add_argument("--collect", nargs="*", default=None, metavar="RUN",
                   help="only report these finished run folders (globs allowed); train nothing")
    p.add_argument("--plots-dir", default="bench-results/atari", help="learning-curve PNGs go here")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="configuration overrides for new runs")
    args = p.parse_args(argv)
    setup(args)
    if args.suite == "atari100k":
        _suite(args)
        return 0
    if args.report:
        raise UserError("--report needs --suite atari100k")
    args.steps = 10_000_000 if args.steps is None else args.steps
    args.runs_dir = args.runs_dir or "runs/atari-bench"
    from engine.dqn.scores import human_normalized, reference

    games = [_game_id(g) for g in (args.games or "pong").split(",") if g.strip()]
    if not games:
        raise UserError("--games is empty")
    runs: dict[str, dict] = {}
    if args.collect is not None:
        folders = [Path(f) for pattern in args.collect for f in sorted(glob.glob(pattern))]
        for folder in folders:
            run = _read_run(folder)
            if run is None:
                continue
            for rom, env_id in games:
                if run.get("env") == env_id or _game_id(run.get("env", ""))[0] == rom:
                    runs[rom] = run  # the last folder given wins
        missing = [rom for rom, _ in games if rom not in runs]
        if missing:
            raise UserError(f"no finished run (with summary.json) for {', '.join(missing)} in the --collect folders")
    else:
        runs_dir = Path(args.runs_dir)
        args.config = str(find_config(args.config))  # a file or a shipped name; ConfigError if neither
        for rom, env_id in games:
            found = [r for f in sorted(runs_dir.glob(f"{env_id.replace('/', '_')}__*"))
                     if (r := _read_run(f)) and r.get("steps", 0) >= args.steps and r.get("preset") == args.preset
                     and not r.get("interrupted")]
            runs[rom] = found[-1] if found else _train(env_id, args.steps, args.preset, args.config, args.seed,
                                                      runs_dir, args.threads, list(args.overrides))
    rows = []
    for rom, env_id in games:
        run = runs[rom]
        score = run.get("final_eval_return")
        ref = reference(rom)
        hns = human_normalized(rom, score) if score is not None else None
        plot = Path(args.plots_dir) / f"{rom}.png"
        _plot(rom, run, plot)
        rows.append({"game": rom, "env": env_id, "preset": run.get("preset"), "score": score,
                     "best_eval": run.get("best_eval_return"), "hns": hns, "nature_dqn": ref["nature_dqn"],
                     "nature_dqn_hns": ref["nature_dqn_hns"], "random": ref["random"], "human": ref["human"],
                     "steps": run.get("steps"), "wall_time_s": run.get("wall_time_s"),
                     "steps_per_second": run.get("steps_per_second"),
                     "acting_steps_per_second": run.get("acting_steps_per_second"),
                     "updates_per_second": run.get("updates_per_second"), "device": run.get("device"),
                     "run_dir": run.get("run_dir"), "plot": str(plot)})
    values = [r["hns"] for r in rows if r["hns"] is not None]
    result = {"preset": args.preset, "human_column": "human (57-game table: dqn_zoo / Agent57)", "games": rows,
              "median_hns": statistics.median(values) if values else None,
              "mean_hns": statistics.fmean(values) if values else None}

    def fmt(x, spec):
        return "-" if x is None else format(x, spec)

    lines = [f"{'game':<16}{'score':>9}{'HNS %':>8}{'Nature':>9}{'N. HNS %':>9}{'steps':>12}{'wall s':>9}"
             f"{'act/s':>8}{'upd/s':>8}{'steps/s':>9}"]
    for r in rows:
        lines.append(f"{r['game']:<16}{fmt(r['score'], '9.1f')}{fmt(r['hns'] and 100 * r['hns'], '8.1f')}"
                     f"{fmt(r['nature_dqn'], '9.1f')}{fmt(r['nature_dqn_hns'] and 100 * r['nature_dqn_hns'], '9.1f')}"
                     f"{fmt(r['steps'], '12,d')}{fmt(r['wall_time_s'], '9.0f')}"
                     f"{fmt(r['acting_steps_per_second'], '8.0f')}{fmt(r['updates_per_second'], '8.1f')}"
                     f"{fmt(r['steps_per_second'], '9.1f')}")
    lines.append(f"median HNS {fmt(result['median_hns'] and 100 * result['median_hns'], '.1f')}%, mean HNS "
                 f"{fmt(result['mean_hns'] and 100 * result['mean_hns'], '.1f')}% over {len(values)} games "
                 f"(HNS uses the 57-game table's human column; plots in {args.plots_dir})")
    finish("atari", args, result, None if args.json else "\n".join(lines))
