"""Atari 100k: the published per-game scores shipped with the package, our finished runs, and the aggregate
statistics of Agarwal et al. 2021 ("Deep RL at the Edge of the Statistical Precipice", the rliable method).

Scores are normalized per game, HNS = (score - random) / (human - random) with the 57-game table
(``scores.human_normalized``). Over a set of runs (``runs[game] = [score of run 1, run 2, ...]``):

- IQM: the mean of the middle 50% of all (run, game) normalized scores (``scipy.stats.trim_mean(x, 0.25)``);
- median and mean: of the per-game mean scores;
- 95% intervals: the stratified bootstrap, i.e. each replicate redraws, *within every game*, as many runs as the
  game has, with replacement, recomputes the aggregate, and the interval is the 2.5th and 97.5th percentile of
  the replicates (rliable's ``get_interval_estimates`` with ``StratifiedBootstrap``, percentile method).

With one run per game every replicate equals the estimate: the interval has no width, as in rliable.

Shipped data (sources in ``atari100k_SOURCES.md``): ``atari100k_scores.csv`` (per-game mean scores of DER,
DrQ(eps), SPR, BBF; an empty cell is a number not found in a citable source) and
``atari100k_published_runs.json`` (every run of DrQ(eps) and SPR, 100 per game, as rliable distributes them).
Our finished runs: one small JSON per (agent, game, seed) in ``results/atari100k/<agent>/`` beside this module.
"""

from __future__ import annotations

import csv
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .envs import ATARI_100K_GAMES
from .scores import human_normalized

__all__ = ["ATARI_100K_GAMES", "PUBLISHED_AGENTS", "RESULTS_DIR", "aggregate", "bootstrap_interval", "iqm",
           "load_results", "published_means", "published_runs", "result_path", "summarize", "write_result"]

HERE = Path(__file__).resolve().parent
SCORES_CSV = HERE / "atari100k_scores.csv"
RUNS_JSON = HERE / "atari100k_published_runs.json"
RESULTS_DIR = HERE / "results" / "atari100k"
PUBLISHED_AGENTS = ("der", "drq_eps", "spr", "bbf")


@lru_cache(maxsize=1)
def published_means() -> dict[str, dict[str, float | None]]:
    """``{game: {"der", "drq_eps", "spr", "bbf": mean raw score or None}}`` from ``atari100k_scores.csv``."""
    out = {}
    with open(SCORES_CSV, newline="") as f:
        for row in csv.DictReader(f):
            out[row["game"]] = {a: float(row[a]) if row[a] else None for a in PUBLISHED_AGENTS}
    return out


@lru_cache(maxsize=1)
def published_runs() -> dict[str, dict[str, list[float]]]:
    """``{agent: {game: [raw score of every published run]}}`` (DrQ(eps) and SPR)."""
    return json.loads(RUNS_JSON.read_text())


def iqm(values) -> float:
    """Interquartile mean: the mean after cutting ``int(0.25 n)`` values from each end of the sorted values."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("IQM of no values")
    cut = int(0.25 * x.size)
    return float(x[cut:x.size - cut].mean())


def aggregate(runs: dict[str, list[float]], metric: str) -> float:
    """``iqm`` over all (run, game) values, or the ``median`` / ``mean`` of the per-game means."""
    if metric == "iqm":
        return iqm(np.concatenate([np.asarray(v, dtype=float) for v in runs.values()]))
    means = [float(np.mean(v)) for v in runs.values()]
    if metric == "median":
        return float(np.median(means))
    if metric == "mean":
        return float(np.mean(means))
    raise ValueError(f"unknown metric {metric!r}; metrics: iqm, median, mean")


def bootstrap_interval(runs: dict[str, list[float]], metric: str, *, reps: int = 2000, confidence: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """Stratified-bootstrap percentile interval of ``aggregate(runs, metric)``: runs are redrawn within each game."""
    rng = np.random.default_rng(seed)
    games = {g: np.asarray(v, dtype=float) for g, v in runs.items() if len(v)}
    draws = np.empty(reps)
    for r in range(reps):
        draws[r] = aggregate({g: v[rng.integers(0, v.size, v.size)] for g, v in games.items()}, metric)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(draws, [tail, 100.0 - tail])
    return float(low), float(high)


def normalize(raw_runs: dict[str, list[float]]) -> dict[str, list[float]]:
    """Raw scores -> HNS per game (games without random/human scores are left out)."""
    out = {}
    for game, values in raw_runs.items():
        hns = [human_normalized(game, float(v)) for v in values]
        if hns and all(h is not None for h in hns):
            out[game] = hns
    return out


def summarize(raw_runs: dict[str, list[float]], *, reps: int = 2000, seed: int = 0) -> dict:
    """IQM, median and mean HNS with their 95% stratified-bootstrap intervals, and the number of games and runs."""
    runs = normalize(raw_runs)
    if not runs:
        return {"games": 0, "runs": 0}
    out = {"games": len(runs), "runs": sum(len(v) for v in runs.values())}
    for metric in ("iqm", "median", "mean"):
        low, high = bootstrap_interval(runs, metric, reps=reps, seed=seed)
        out.update({metric: aggregate(runs, metric), f"{metric}_low": low, f"{metric}_high": high})
    return out


def result_path(agent: str, game: str, seed: int, root: Path | None = None) -> Path:
    return (root or RESULTS_DIR) / agent / f"{game}__seed{seed}.json"


def write_result(result: dict, root: Path | None = None) -> Path:
    """Write one finished run (``agent``, ``game``, ``seed``, ``score`` ... ) atomically; returns its path."""
    from ..core import atomic_write_text

    for key in ("agent", "game", "seed", "score"):
        if key not in result:
            raise ValueError(f"a result needs {key!r}")
    path = result_path(result["agent"], result["game"], int(result["seed"]), root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(result, indent=1, sort_keys=True) + "\n")
    return path


def load_results(agent: str, root: Path | None = None) -> list[dict]:
    """Every finished run of ``agent`` (sorted by game, seed); unreadable files are an error naming the file."""
    folder = (root or RESULTS_DIR) / agent
    out = []
    for path in sorted(folder.glob("*__seed*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not a result file ({err})") from None
        if not isinstance(data.get("score"), (int, float)) or not math.isfinite(data["score"]):
            raise ValueError(f"{path}: no finite 'score'")
        out.append(data)
    return sorted(out, key=lambda r: (r["game"], r["seed"]))
