"""Training on labelled positions: the self-play learner (``engine.alphazero.Learner``) over epochs of a dataset.

Each epoch visits the training positions in a random order (drawn from ``(seed, epoch)``) in batches of
``train.batch_size``, with a random symmetry of the game per position (``replay.augment``); the learning rate
follows ``train.lr_schedule`` over all steps of the run (cosine from ``train.lr`` to ``train.lr * lr_final`` by
default). After each epoch the held-out games are scored: the policy's cross-entropy against the targets, the
value loss, and top-1 / top-3 agreement (the network's best legal move, or one of its three best, is among the
teacher's right moves: an optimal move for the Connect Four solver, the move played in a record).

The run folder holds ``checkpoints/latest.pt`` (weights, optimizer, epoch and batch: ``--resume`` goes on from
the last save, which happens after every epoch and every ``save_seconds``), ``checkpoints/supervised.pt`` (the
network alone, in the self-play checkpoint format: ``agents.make("alphazero:.../supervised.pt", game)``),
``metrics.csv``, ``curves.png``, the value's reliability on the held-out games (``calibration.json`` and
``calibration.png``: predicted against actual score) and TensorBoard logs under ``tb/`` when ``run.tensorboard``
is on.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from nets import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint

from ..alphazero.learner import Learner
from ..alphazero.run import derived_seed
from ..alphazero.worker import build_net
from ..core import atomic_path, atomic_write_text
from .data import Dataset, make_batch

RUN_KIND = "supervised-run"


def lr_at(cfg, step: int, total: int) -> float:
    """``train.lr_schedule`` over steps instead of self-play iterations."""
    frac = min(step / max(total - 1, 1), 1.0)
    if cfg.lr_schedule == "cosine":
        return cfg.lr * (cfg.lr_final + (1.0 - cfg.lr_final) * 0.5 * (1.0 + math.cos(math.pi * frac)))
    if cfg.lr_schedule == "step":  # milestones read as fractions of the run in percent
        return cfg.lr * cfg.lr_gamma ** sum(1 for m in cfg.lr_milestones if 100 * frac >= m)
    return cfg.lr


@torch.no_grad()
def evaluate(net, game, ds: Dataset, batch: int = 512) -> dict:
    """Held-out policy cross-entropy, value loss (MSE), top-1 and top-3 agreement with the right moves, and the
    value's calibration against the games' results (``calibration``, see ``reliability``)."""
    if len(ds) == 0:
        return {}
    net.eval()
    device = next(net.parameters()).device
    sums = {"policy_loss": 0.0, "value_loss": 0.0, "top1": 0.0, "top3": 0.0}
    predicted = np.zeros(len(ds), np.float64)
    for start in range(0, len(ds), batch):
        rows = np.arange(start, min(start + batch, len(ds)))
        planes, policy, value, _, legal = make_batch(game, ds, rows, None, False)
        logits, v = net(torch.from_numpy(planes).to(device))
        logits, v = logits.cpu(), v.cpu()
        logits = logits.float()
        logp = F.log_softmax(logits, dim=1)
        sums["policy_loss"] += float(-(torch.from_numpy(policy) * logp).sum())
        sums["value_loss"] += float(((v.float() - torch.from_numpy(value)) ** 2).sum())
        masked = logits.masked_fill(~torch.from_numpy(legal), -1e9)
        top = torch.topk(masked, k=min(3, masked.shape[1]), dim=1).indices.numpy()
        best = ds.best[rows]
        hit = (top[:, :, None] == best[:, None, :]) & (best[:, None, :] >= 0)
        sums["top1"] += float(hit[:, 0].any(axis=1).sum())
        sums["top3"] += float(hit.any(axis=(1, 2)).sum())
        predicted[rows] = v.float().numpy()
    net.train()
    out = {k: v / len(ds) for k, v in sums.items()}
    out["calibration"] = reliability(predicted, ds.result.astype(np.float64))
    out["calibration_error"] = float(sum(b["count"] * abs(b["predicted"] - b["actual"]) for b in out["calibration"])
                                     / len(ds))
    return out


def reliability(values: np.ndarray, results: np.ndarray, bins: int = 10) -> list[dict]:
    """The value's reliability: positions binned by predicted score ``(v + 1) / 2`` (``bins`` equal bins of [0, 1]);
    per bin the mean predicted score, the mean actual score ``(result + 1) / 2`` of the games and the count.
    A calibrated value lies on the diagonal; ``calibration_error`` is the count-weighted mean distance to it."""
    p = np.clip((values + 1.0) / 2.0, 0.0, 1.0)
    actual = (results + 1.0) / 2.0
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            out.append({"low": b / bins, "high": (b + 1) / bins, "predicted": float(p[sel].mean()),
                        "actual": float(actual[sel].mean()), "count": int(sel.sum())})
    return out


def write_reliability(table: list[dict], path: Path, title: str = "") -> None:
    """``calibration.png``: predicted against actual score per bin (a reliability diagram), point size by count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="calibrated")
    total = max(sum(b["count"] for b in table), 1)
    ax.plot([b["predicted"] for b in table], [b["actual"] for b in table], marker=None, color="C0")
    ax.scatter([b["predicted"] for b in table], [b["actual"] for b in table],
               s=[20 + 400 * b["count"] / total for b in table], color="C0", label="held-out positions")
    ax.set_xlabel("predicted score (value + 1) / 2")
    ax.set_ylabel("actual score of the game")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


class Trainer:
    """Epochs of supervised training in ``folder`` (see the module docstring)."""

    def __init__(self, game, cfg, folder: Path, seed: int, epochs: int, console, progress: bool = True,
                 save_seconds: float = 120.0):
        self.game, self.cfg, self.folder, self.seed = game, cfg, Path(folder), int(seed)
        self.epochs, self.console, self.save_seconds = int(epochs), console, float(save_seconds)
        self.show_progress = progress and console.is_terminal
        torch.manual_seed(derived_seed(self.seed, "init") % 2**63)
        self.net = build_net(game, cfg)
        self.learner = Learner(self.net, cfg.train, cfg.run.device)
        self.epoch, self.batch = 0, 0  # next epoch to run, next batch in it
        self.metrics: list[dict] = []
        self.calibration: list[dict] = []
        self._sums = {"loss": 0.0, "policy_loss": 0.0, "value_loss": 0.0, "batches": 0}
        self._writer = None

    # ----------------------------------------------------------------------------------------- state
    @property
    def latest(self) -> Path:
        return self.folder / "checkpoints" / "latest.pt"

    @property
    def final(self) -> Path:
        return self.folder / "checkpoints" / "supervised.pt"

    def init_from(self, path: Path) -> None:
        """Start from the weights of a checkpoint of the same architecture (fine-tuning)."""
        load_checkpoint(path, self.net)

    def resume(self) -> bool:
        if not self.latest.exists():
            return False
        ckpt = read_checkpoint(self.latest)
        if ckpt.extra.get("kind") != RUN_KIND or ckpt.extra.get("game") != self.game.name:
            raise CheckpointError(f"{self.latest} is not a supervised run of {self.game.name}")
        load_checkpoint(self.latest, self.net, self.learner.optimizer)
        self.learner.step = ckpt.step
        self.epoch, self.batch = int(ckpt.extra["epoch"]), int(ckpt.extra["batch"])
        self.metrics = [dict(r) for r in ckpt.extra["metrics"]]
        self._sums = dict(ckpt.extra["sums"])
        return True

    def save(self) -> None:
        extra = {"kind": RUN_KIND, "game": self.game.name, "epoch": self.epoch, "batch": self.batch,
                 "metrics": self.metrics, "sums": self._sums}
        save_checkpoint(self.latest, self.net, self.learner.optimizer, step=self.learner.step, rng=False, extra=extra,
                        metadata={"game": self.game.name, "kind": RUN_KIND})

    def save_net(self) -> Path:
        return save_checkpoint(self.final, self.net, step=self.learner.step, rng=False,
                               metadata={"game": self.game.name, "kind": "alphazero-net", "trained": "supervised",
                                         "epochs": self.epoch, "simulations": self.cfg.eval.simulations,
                                         "gumbel": self.cfg.mcts.gumbel})

    # ----------------------------------------------------------------------------------------- loop
    def run(self, train: Dataset, held: Dataset) -> dict:
        bs = self.cfg.train.batch_size
        per_epoch = max(1, math.ceil(len(train) / bs))
        total = per_epoch * self.epochs
        last_save = time.perf_counter()
        (self.folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        with _progress(self.console, self.show_progress) as bar:
            task = bar.add_task("training", total=total, completed=self.epoch * per_epoch + self.batch)
            while self.epoch < self.epochs:
                order = np.random.default_rng(derived_seed(self.seed, "epoch", self.epoch)).permutation(len(train))
                t0 = time.perf_counter()
                while self.batch < per_epoch:
                    step = self.epoch * per_epoch + self.batch
                    self.learner.set_lr(lr_at(self.cfg.train, step, total))
                    rows = order[self.batch * bs:(self.batch + 1) * bs]
                    rng = np.random.default_rng(derived_seed(self.seed, "batch", self.epoch, self.batch))
                    planes, policy, value, result, _ = make_batch(self.game, train, rows, rng,
                                                                  self.cfg.replay.augment)
                    out = self.learner.train_batch(planes, policy, value, result)
                    for k in ("loss", "policy_loss", "value_loss"):
                        self._sums[k] += out[k]
                    self._sums["batches"] += 1
                    self.batch += 1
                    bar.update(task, completed=step + 1,
                               description=f"epoch {self.epoch + 1}/{self.epochs} loss {out['loss']:.3f}")
                    if time.perf_counter() - last_save > self.save_seconds and self.batch < per_epoch:
                        self.save()
                        last_save = time.perf_counter()
                self._end_epoch(held, time.perf_counter() - t0)
                last_save = time.perf_counter()
        return self.metrics[-1] if self.metrics else {}

    def _end_epoch(self, held: Dataset, seconds: float) -> None:
        n = max(self._sums["batches"], 1)
        ev = evaluate(self.net, self.game, held)
        self.calibration = ev.pop("calibration", [])
        row = {"epoch": self.epoch + 1, "step": self.learner.step, "lr": self.learner.lr,
               "train_loss": self._sums["loss"] / n, "train_policy_loss": self._sums["policy_loss"] / n,
               "train_value_loss": self._sums["value_loss"] / n,
               **{f"heldout_{k}" if "loss" in k else k: v for k, v in ev.items()}, "epoch_seconds": seconds}
        self.metrics.append(row)
        self.epoch, self.batch = self.epoch + 1, 0
        self._sums = {"loss": 0.0, "policy_loss": 0.0, "value_loss": 0.0, "batches": 0}
        self.save()
        self.save_net()
        self._write_logs(row)
        top = f" | held-out top-1 {100 * row['top1']:.1f}% top-3 {100 * row['top3']:.1f}%" if "top1" in row else ""
        vl = f" v {row['heldout_value_loss']:.3f}" if "heldout_value_loss" in row else ""
        self.console.print(f"epoch {row['epoch']}/{self.epochs} | train loss {row['train_loss']:.3f} "
                           f"(pi {row['train_policy_loss']:.3f} v {row['train_value_loss']:.3f}){top}"
                           f"{' | held-out pi ' + format(row['heldout_policy_loss'], '.3f') + vl if vl else ''}"
                           f" | {seconds:.0f}s", highlight=False)

    def _write_logs(self, row: dict) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(self.metrics[-1]), extrasaction="ignore")
        w.writeheader()
        for r in self.metrics:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        atomic_write_text(self.folder / "metrics.csv", buf.getvalue())
        if self.cfg.run.tensorboard:
            try:
                if self._writer is None:
                    from torch.utils.tensorboard import SummaryWriter

                    self._writer = SummaryWriter(str(self.folder / "tb"), purge_step=row["epoch"])
                for k, v in row.items():
                    if k != "epoch":
                        group = "losses" if "loss" in k else ("agreement" if k.startswith("top") else "train")
                        self._writer.add_scalar(f"{group}/{k}", float(v), row["epoch"])
                self._writer.flush()
            except ImportError:  # tensorboard not installed: the CSV has everything
                pass
        if self.calibration:
            atomic_write_text(self.folder / "calibration.json", json.dumps(self.calibration, indent=1) + "\n")
        if self.cfg.run.plots:
            write_curves(self.metrics, self.folder / "curves.png")
            if self.calibration:
                write_reliability(self.calibration, self.folder / "calibration.png",
                                  f"{self.game.name}: value calibration, epoch {row['epoch']}")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _progress(console, show: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=True, disable=not show)


def write_curves(rows: list[dict], path: Path) -> None:
    """``curves.png``: losses (train and held-out) and top-1 / top-3 agreement by epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["epoch"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("train_policy_loss", "heldout_policy_loss", "train_value_loss", "heldout_value_loss"):
        if all(key in r for r in rows):
            a.plot(x, [r[key] for r in rows], marker=".", label=key.replace("_", " "))
    a.set_xlabel("epoch")
    a.set_ylabel("loss")
    a.grid(alpha=0.3)
    a.legend(loc="best")
    for key in ("top1", "top3"):
        if all(key in r for r in rows):
            b.plot(x, [100 * r[key] for r in rows], marker="o", label=f"held-out {key}")
    b.set_xlabel("epoch")
    b.set_ylabel("agreement with the teacher (%)")
    b.grid(alpha=0.3)
    b.legend(loc="best")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
