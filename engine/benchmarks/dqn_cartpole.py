"""DQN acceptance on CartPole-v1: the default config over several seeds, counting the seeds whose average
evaluation return (10 greedy games) reaches the threshold (475) within the step budget (50,000), the seeds that
reach it by ``--by`` steps (40,000), the seeds that stay there (every evaluation after the first one at the
threshold is at it too) and the seeds that hold it from ``--by`` on (every evaluation from that step on)."""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from pathlib import Path

from ..cli import UserError
from ..config import find_config
from ._common import finish, parser, setup


def _one(job: tuple) -> dict:
    seed, config, overrides, root, threads = job
    import torch

    torch.set_num_threads(threads)
    from engine.config import load_config
    from engine.dqn.config import DQNConfig
    from engine.dqn.trainer import Trainer

    # Only what leaves the run itself unchanged is overridden: a checkpoint (run.save_every) restarts the
    # episodes so that a resumed run goes on exactly, so dropping the checkpoints would train another run than
    # ``python -m engine.dqn`` with the same seed.
    cfg = load_config(DQNConfig, config, [*overrides, "run.tensorboard=false"])
    trainer = Trainer(cfg, Path(root) / f"seed{seed}", seed=seed, progress=False, echo=lambda text: None)
    summary = trainer.run()
    summary["seed"] = seed
    return summary


def seed_row(summary: dict, threshold: float, by: int) -> dict:
    """One seed's line: the first evaluation at ``threshold`` (``reached_at``), whether every evaluation from there on
    is at it too (``stays``: a lucky early evaluation that is lost again counts against), and whether every
    evaluation from step ``by`` on is (``holds_from_by``: reached by then, and kept)."""
    evaluations = summary["evaluations"]
    reached = next((step for step, mean in evaluations if mean >= threshold), None)
    after = [mean for step, mean in evaluations if reached is not None and step >= reached]
    late = [mean for step, mean in evaluations if step >= by]
    return {"seed": summary["seed"], "reached_at": reached, "stays": bool(after) and min(after) >= threshold,
            "holds_from_by": bool(late) and min(late) >= threshold, "best": summary["best_eval_return"],
            "final": summary["final_eval_return"], "steps": summary["steps"], "wall_s": summary["wall_time_s"],
            "evaluations": evaluations}


def main(argv=None):
    p = parser("dqn_cartpole", __doc__)
    p.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds")
    p.add_argument("--config", default="dqn_cartpole", help="a YAML file or a shipped config name")
    p.add_argument("--threshold", type=float, default=475.0)
    p.add_argument("--by", type=int, default=40_000, help="count the seeds that reach the threshold by this step")
    p.add_argument("--workers", type=int, default=2, help="seeds trained at the same time (one thread each)")
    p.add_argument("--runs-dir", default=None, help="keep the runs here (default: a temporary folder)")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    args = p.parse_args(argv)
    setup(args)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    args.config = str(find_config(args.config))  # a file or a shipped name; ConfigError if neither
    tmp = None if args.runs_dir else tempfile.TemporaryDirectory(prefix="dqn_cartpole_")
    root = args.runs_dir or tmp.name
    jobs = [(s, args.config, list(args.overrides), root, args.threads) for s in seeds]
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(max(1, min(args.workers, len(jobs)))) as pool:
        summaries = pool.map(_one, jobs)
    wall = time.perf_counter() - start
    rows = [seed_row(s, args.threshold, args.by) for s in summaries]
    passed = sum(r["reached_at"] is not None for r in rows)
    early = sum(r["reached_at"] is not None and r["reached_at"] <= args.by for r in rows)
    stay = sum(r["stays"] for r in rows)
    hold = sum(r["holds_from_by"] for r in rows)
    result = {"config": args.config, "overrides": list(args.overrides), "threshold": args.threshold,
              "seeds_reaching": passed, "seeds_reaching_by": early, "by": args.by, "seeds_staying": stay,
              "seeds_holding_from_by": hold, "seeds": len(rows), "runs": rows, "wall_s": round(wall, 1)}
    lines = [f"{'seed':>4} {'reached at':>10} {'stays':>5} {'holds':>5} {'best':>7} {'final':>7}"]
    for r in rows:
        lines.append(f"{r['seed']:>4} {str(r['reached_at'] or '-'):>10} {'yes' if r['stays'] else 'no':>5} "
                     f"{'yes' if r['holds_from_by'] else 'no':>5} {r['best']:>7.1f} {r['final']:>7.1f}")
    lines.append(f"{passed}/{len(rows)} seeds reach an average evaluation return >= {args.threshold:g} within "
                 f"{rows[0]['steps']:,} steps, {early} by {args.by:,}; {stay} stay there at every later evaluation, "
                 f"{hold} at every evaluation from {args.by:,} on ({wall:.0f} s)")
    finish("dqn_cartpole", args, result, None if args.json else "\n".join(lines))
    if tmp is not None:
        tmp.cleanup()
