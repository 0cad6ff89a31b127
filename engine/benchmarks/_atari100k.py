"""``python -m engine.bench atari --suite atari100k``: the Atari 100k benchmark (docs/atari100k.md).

Runs (or collects) one training run per (game, seed) with ``configs/<agent>.yaml`` under the ``atari100k`` preset,
one run per worker process (``--workers``, default one per core), each resumable from its checkpoint in
``--runs-dir``. A finished run is evaluated (the config's ``eval.episodes``: 100, epsilon 0.001) and its result is
written as one small JSON in ``--results-dir`` (default: the results kept in the repository). The report puts our
per-game scores beside the published DER / DrQ(eps) / SPR / BBF scores, with human-normalized scores, the IQM,
median and mean and their 95% stratified-bootstrap intervals, and draws two PNGs (per-game HNS; IQM intervals).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from ..cli import UserError

AGENTS = {"drq_eps": "drq_eps", "der": "der"}  # the shipped configs (engine/configs), by name


def _job_config(job: dict):
    from engine.config import load_config
    from engine.dqn.config import DQNConfig

    return load_config(DQNConfig, AGENTS[job["agent"]],
                       [f"env.id={job['env_id']}", "env.preset=atari100k", f"train.total_steps={job['steps']}",
                        f"run.threads={job['threads']}", "run.device=cpu", "run.tensorboard=false",
                        *job["overrides"]])


def run_one(job: dict) -> dict:
    """Train (or resume) one (agent, game, seed) run, evaluate it, write its result file; returns the result."""
    import numpy as np
    import torch

    from engine.dqn.atari100k import write_result
    from engine.dqn.scores import human_normalized
    from engine.dqn.trainer import CHECKPOINT, REPLAY, Trainer

    torch.set_num_threads(job["threads"])
    run_dir = Path(job["run_dir"])
    resume = (run_dir / CHECKPOINT).is_file() and (run_dir / "config.yaml").is_file()
    if resume:
        from engine.config import load_config
        from engine.dqn.config import DQNConfig

        cfg = load_config(DQNConfig, run_dir / "config.yaml", [])
    else:
        cfg = _job_config(job)
    load = os.getloadavg()[0]
    trainer = Trainer(cfg, run_dir, seed=job["seed"], resume=resume, progress=False,
                      echo=lambda text: print(f"[{job['game']} seed {job['seed']}] {text}", file=sys.stderr,
                                              flush=True))
    summary = trainer.run()
    if summary["steps"] < cfg.train.total_steps or not trainer.evals:
        raise UserError(f"{job['game']} seed {job['seed']}: the run stopped at step {summary['steps']:,}; "
                        f"run the command again to resume it from {run_dir}")
    final = trainer.evals[-1]
    score = float(final["mean"])
    result = {
        "agent": job["agent"], "game": job["game"], "seed": job["seed"], "env": cfg.env.id, "preset": "atari100k",
        "score": round(score, 4), "hns": human_normalized(job["game"], score),
        "eval_episodes": final["episodes"], "eval_epsilon": trainer.eval_epsilon(),
        "eval_returns": [round(float(r), 2) for r in final["returns"]], "eval_std": round(float(np.std(
            final["returns"])), 4), "steps": summary["steps"], "updates": summary["updates"],
        "episodes": summary["episodes"], "wall_time_s": summary["wall_time_s"],
        "steps_per_second": summary["steps_per_second"], "acting_steps_per_second": summary[
            "acting_steps_per_second"], "updates_per_second": summary["updates_per_second"],
        "threads": job["threads"], "load_average_at_start": round(load, 2), "config": AGENTS[job["agent"]],
        "overrides": job["overrides"], "date": _dt.datetime.now().isoformat(timespec="seconds"),
    }
    write_result(result, Path(job["results_dir"]))
    (run_dir / REPLAY).unlink(missing_ok=True)  # the replay only serves a resume (hundreds of MB)
    return result


def _jobs(args, games: list[tuple[str, str]], seeds: list[int]) -> list[dict]:
    from engine.dqn.atari100k import result_path

    results_dir = Path(args.results_dir)
    jobs = []
    for rom, env_id in games:
        for seed in seeds:
            if result_path(args.agent, rom, seed, results_dir).is_file():
                continue  # finished: collected by the report
            jobs.append({"agent": args.agent, "game": rom, "env_id": env_id, "seed": seed, "steps": args.steps,
                         "threads": args.threads, "overrides": list(args.overrides),
                         "run_dir": str(Path(args.runs_dir) / args.agent / f"{rom}__seed{seed}"),
                         "results_dir": str(results_dir)})
    return jobs


def run_jobs(jobs: list[dict], workers: int) -> None:
    if not jobs:
        return
    print(f"atari100k: {len(jobs)} run(s) to train or resume, {min(workers, len(jobs))} at a time",
          file=sys.stderr, flush=True)
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            run_one(job)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
        for result in pool.map(run_one, jobs):
            print(f"atari100k: {result['game']} seed {result['seed']}: {result['score']:.1f} "
                  f"(HNS {result['hns']:.3f}) in {result['wall_time_s']:.0f} s", file=sys.stderr, flush=True)


def _published_summary(reps: int, seed: int, games: list[str] | None) -> dict:
    from engine.dqn.atari100k import published_runs, summarize

    out = {}
    for agent, runs in published_runs().items():
        chosen = {g: v for g, v in runs.items() if games is None or g in games}
        out[agent] = summarize(chosen, reps=reps, seed=seed)
    return out


def report(args, games: list[str]) -> dict:
    """The table of our finished runs beside the published scores, aggregates with intervals, and the PNGs."""
    from engine.dqn.atari100k import load_results, published_means, summarize
    from engine.dqn.scores import human_normalized

    try:
        results = [r for r in load_results(args.agent, Path(args.results_dir)) if r["game"] in games]
    except ValueError as err:
        raise UserError(str(err)) from None
    ours: dict[str, list[float]] = {}
    for r in results:
        ours.setdefault(r["game"], []).append(float(r["score"]))
    published = published_means()
    table = []
    for game in games:
        row = {"game": game, "score": None, "hns": None, "seeds": len(ours.get(game, []))}
        if game in ours:
            row["score"] = sum(ours[game]) / len(ours[game])
            row["hns"] = human_normalized(game, row["score"])
        for agent, value in published.get(game, {}).items():
            row[agent] = value
            row[f"{agent}_hns"] = human_normalized(game, value) if value is not None else None
        row["wall_time_s"] = [r["wall_time_s"] for r in results if r["game"] == game]
        table.append(row)
    summary = summarize(ours, reps=args.reps, seed=args.seed)
    pub_all = _published_summary(args.reps, args.seed, None)
    pub_same = _published_summary(args.reps, args.seed, sorted(ours)) if ours and len(ours) < 26 else pub_all
    result = {
        "suite": "atari100k", "agent": args.agent, "results_dir": str(args.results_dir),
        "games": [{"game": r["game"], "seed": r["seed"], "score": r["score"], "hns": r["hns"]} for r in results],
        "iqm": summary.get("iqm"), "iqm_low": summary.get("iqm_low"), "iqm_high": summary.get("iqm_high"),
        "summary": summary, "published": pub_all, "published_same_games": pub_same, "table": table,
    }
    if args.plots_dir and ours:
        result["plots"] = _plots(args, table, summary, pub_same)
    return result


def _plots(args, table: list[dict], summary: dict, published: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    folder = Path(args.plots_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [r for r in table if r["hns"] is not None]
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(rows) + 2), 4))
    x = np.arange(len(rows))
    series = [("ours", "hns", "tab:red"), ("DrQ(eps)", "drq_eps_hns", "tab:blue"), ("SPR", "spr_hns", "tab:green")]
    width = 0.8 / len(series)
    for k, (label, key, colour) in enumerate(series):
        ax.bar(x + (k - 1) * width, [r.get(key) or 0.0 for r in rows], width, label=label, color=colour)
    ax.axhline(1.0, color="gray", lw=1, ls="--")
    ax.set_xticks(x, [r["game"] for r in rows], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("human-normalized score")
    ax.set_title(f"Atari 100k per game: {args.agent} (mean over seeds) vs published means")
    ax.legend(fontsize=8)
    fig.tight_layout()
    per_game = folder / f"atari100k_{args.agent}_per_game.png"
    fig.savefig(per_game, dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 2.5))
    entries = [(f"ours ({args.agent})", summary, "tab:red")] + [
        (name, published[key], colour) for name, key, colour in (("DrQ(eps)", "drq_eps", "tab:blue"),
                                                                 ("SPR", "spr", "tab:green")) if key in published]
    for i, (_, s, colour) in enumerate(entries):
        ax.plot([s["iqm_low"], s["iqm_high"]], [i, i], color=colour, lw=6, alpha=0.5)
        ax.plot([s["iqm"]], [i], "o", color=colour)
    ax.set_yticks(range(len(entries)), [f"{n} ({s['games']} games, {s['runs']} runs)" for n, s, _ in entries],
                  fontsize=8)
    ax.set_xlabel("IQM human-normalized score (95% stratified-bootstrap CI)")
    fig.tight_layout()
    interval = folder / f"atari100k_{args.agent}_iqm.png"
    fig.savefig(interval, dpi=100)
    plt.close(fig)
    return [str(per_game), str(interval)]


def text_table(result: dict) -> str:
    def fmt(x, spec):
        width = int(spec.split(".")[0] or 0)
        return f"{'-':>{width}}" if x is None else format(x, spec)

    lines = [f"Atari 100k, {result['agent']}: our scores (mean over seeds) beside the published means",
             f"{'game':<16}{'seeds':>6}{'score':>10}{'HNS':>8}{'DER':>9}{'DrQ(e)':>9}{'SPR':>9}{'BBF':>9}"
             f"{'wall s':>9}"]
    for r in result["table"]:
        wall = sum(r["wall_time_s"]) / len(r["wall_time_s"]) if r["wall_time_s"] else None
        lines.append(f"{r['game']:<16}{r['seeds']:>6}{fmt(r['score'], '10.1f')}{fmt(r['hns'], '8.3f')}"
                     f"{fmt(r.get('der'), '9.1f')}{fmt(r.get('drq_eps'), '9.1f')}{fmt(r.get('spr'), '9.1f')}"
                     f"{fmt(r.get('bbf'), '9.1f')}{fmt(wall, '9.0f')}")

    def agg(name, s):
        if not s.get("games"):
            return f"{name}: no finished runs"
        parts = [f"{m.upper() if m == 'iqm' else m} {s[m]:.3f} [{s[m + '_low']:.3f}, {s[m + '_high']:.3f}]"
                 for m in ("iqm", "median", "mean")]
        return f"{name} ({s['games']} games, {s['runs']} runs): " + ", ".join(parts)

    lines.append(agg("ours", result["summary"]))
    for key, name in (("drq_eps", "DrQ(eps) published"), ("spr", "SPR published")):
        lines.append(agg(name + ", all 26 games", result["published"][key]))
        if result["published_same_games"] is not result["published"]:
            lines.append(agg(name + ", our games", result["published_same_games"][key]))
    lines.append("HNS = (score - random) / (human - random), 57-game table; intervals: 95% stratified bootstrap "
                 "(Agarwal et al. 2021); a zero-width interval means one run per game")
    if result.get("plots"):
        lines.append("plots: " + ", ".join(result["plots"]))
    return "\n".join(lines)


def main(args, games: list[tuple[str, str]]) -> dict:
    """Run what is missing (unless ``--report``), then report; ``games`` are (rom, ALE id) pairs."""
    if args.agent not in AGENTS:
        raise UserError(f"unknown --agent {args.agent!r}; agents: {', '.join(sorted(AGENTS))}")
    try:
        seeds = sorted({int(s) for s in args.seeds.split(",") if s.strip()})
    except ValueError:
        raise UserError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    if not seeds:
        raise UserError("--seeds is empty")
    if not args.report:
        if shutil.disk_usage(Path(args.runs_dir).anchor or "/").free < 2 * 10**9:
            raise UserError("less than 2 GB of free disk: each run keeps a replay of about 0.7 GB until it ends")
        run_jobs(_jobs(args, games, seeds), args.workers)
    return report(args, [rom for rom, _ in games])
