"""The training loop shared by every example: epochs of batches, an optimizer and a learning-rate schedule from a
small config, evaluation after each epoch, checkpoints with resume, progress bars and a results line.

* ``TrainConfig``: epochs, batch size, optimizer (``sgd`` with momentum, ``adam``, ``adamw``: Kingma & Ba 2015,
  arXiv:1412.6980; Loshchilov & Hutter 2019, arXiv:1711.05101), schedule (``cosine`` with linear warm-up,
  Loshchilov & Hutter 2017, arXiv:1608.03983; ``linear``; ``step``; ``none``), weight decay, gradient clipping.
  Weight decay applies to weight matrices and kernels only, never to biases, norms' scales or position tables.
* ``Trainer.fit(batches, step, evaluate)``: ``step(batch)`` returns metrics, with a ``loss`` tensor to
  backpropagate (or none, when the step set the gradients itself, as contrastive divergence does, or ran its
  own optimizers, as a GAN does); after every epoch ``evaluate()`` runs in eval mode, a checkpoint is written
  (``nets.save_checkpoint``: model, optimizer, schedule, random generators, history), and ``resume=True``
  continues from the last one exactly as if the run had not stopped.
* ``add_train_args`` / ``setup`` / ``finish``: the command-line options every example shares (``--seed``,
  ``--json``, ``--run-dir``, ``--resume``, ``--limit``, ``--threads`` ...), thread pinning, and the final
  results line (with wall-clock and process CPU time) followed, with ``--json``, by one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import nets
from engine.cli import UserError, add_common_args, emit, pin_threads, seed_everything
from engine.config import from_dict
from engine.core import atomic_write_text

from . import data


# ------------------------------------------------------------------------------------------------- config
@dataclass
class TrainConfig:
    """Optimization settings (every field is also a command-line option: ``--batch-size``, ``--lr`` ...)."""

    epochs: int = 10
    """passes over the training data (or evaluation periods, for examples that sample batches)"""
    batch_size: int = 128
    optimizer: str = "adam"
    """sgd (with momentum), adam or adamw"""
    lr: float = 1e-3
    """peak learning rate"""
    momentum: float = 0.9
    """SGD momentum; Adam's beta1"""
    beta2: float = 0.999
    """Adam's beta2"""
    weight_decay: float = 0.0
    """L2 penalty (SGD, Adam) or decoupled decay (AdamW), on weight matrices and kernels only"""
    scheduler: str = "none"
    """none, cosine, linear (both after a linear warm-up) or step (x gamma every step_every epochs)"""
    warmup: float = 0.0
    """warm-up steps (>= 1) or fraction of all steps (< 1)"""
    min_lr: float = 0.0
    """final learning rate of cosine / linear as a fraction of lr"""
    gamma: float = 0.1
    """step schedule: factor"""
    step_every: int = 10
    """step schedule: epochs between factors"""
    grad_clip: float = 0.0
    """clip the gradient norm to this (0: no clipping)"""

    def validate(self) -> None:
        if self.epochs < 0 or self.batch_size < 1:
            raise UserError(f"epochs must be >= 0 and batch size >= 1, got {self.epochs} and {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown optimizer {self.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        if self.scheduler not in SCHEDULES:
            raise UserError(f"unknown scheduler {self.scheduler!r}; known: {', '.join(SCHEDULES)}")
        if not self.lr > 0 or self.weight_decay < 0 or self.warmup < 0 or self.grad_clip < 0:
            raise UserError("lr must be > 0; weight decay, warm-up and gradient clipping >= 0")


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two parameter groups: tensors of rank >= 2 (weights, kernels) decay; biases, norm scales don't."""
    decay, no_decay, seen = [], [], set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:     # tied weights appear twice
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 and "position" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


OPTIMIZERS: dict[str, Callable[[list, TrainConfig], torch.optim.Optimizer]] = {
    "sgd": lambda groups, c: torch.optim.SGD(groups, lr=c.lr, momentum=c.momentum),
    "adam": lambda groups, c: torch.optim.Adam(groups, lr=c.lr, betas=(c.momentum, c.beta2)),
    "adamw": lambda groups, c: torch.optim.AdamW(groups, lr=c.lr, betas=(c.momentum, c.beta2)),
}


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS[cfg.optimizer](decay_groups(model, cfg.weight_decay), cfg)


def _warmup_steps(cfg: TrainConfig, total: int) -> int:
    return int(cfg.warmup if cfg.warmup >= 1 else round(cfg.warmup * total))


def _cosine(step: int, total: int, warmup: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return cfg.min_lr + (1 - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def _linear(step: int, total: int, warmup: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 1 - (1 - cfg.min_lr) * progress


def _step(step: int, total: int, warmup: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return cfg.gamma ** (step // (max(1, cfg.step_every) * steps_per_epoch))


def _constant(step: int, total: int, warmup: int, cfg: TrainConfig, steps_per_epoch: int) -> float:
    return (step + 1) / warmup if step < warmup else 1.0


SCHEDULES = {"none": _constant, "cosine": _cosine, "linear": _linear, "step": _step}
"""Learning-rate multiplier at optimizer step ``step`` of ``total``."""


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
                   ) -> torch.optim.lr_scheduler.LambdaLR:
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup, rule = _warmup_steps(cfg, total), SCHEDULES[cfg.scheduler]
    # A closure: LambdaLR's state_dict leaves functions out, so checkpoints hold only numbers.
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: rule(s, total, warmup, cfg, steps_per_epoch))


# ------------------------------------------------------------------------------------------------- progress
def console():
    from rich.console import Console

    return Console(stderr=True)


class Clock:
    """Wall-clock and process CPU time (all threads) since creation, plus what earlier sessions spent."""

    def __init__(self, wall: float = 0.0, cpu: float = 0.0):
        self.base_wall, self.base_cpu = wall, cpu
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()

    def credit(self, wall: float, cpu: float) -> None:
        """Add time spent in an earlier session (a resumed checkpoint's)."""
        self.base_wall += wall
        self.base_cpu += cpu

    @property
    def wall(self) -> float:
        return self.base_wall + time.perf_counter() - self.start_wall

    @property
    def cpu(self) -> float:
        return self.base_cpu + time.process_time() - self.start_cpu


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ------------------------------------------------------------------------------------------------- trainer
class Trainer:
    """Trains ``model`` for ``cfg.epochs`` epochs of ``steps_per_epoch`` steps with checkpoints in ``run_dir``.

    Args:
        model: the module trained (and checkpointed).
        cfg: the optimization settings.
        steps_per_epoch: batches per epoch (sets the length of the learning-rate schedule).
        run_dir, name: the checkpoint is ``run_dir / f"{name}.pt"``.
        optimizer: ``"auto"`` (from ``cfg``), an optimizer, or ``None`` when ``step`` optimizes by itself.
        extra_optimizers: more optimizers whose state the checkpoint keeps (a GAN's second one).
        generators: named random generators (data order, augmentation, noise) saved and restored with it.
        states: more named objects with ``state_dict()`` / ``load_state_dict()`` that the checkpoint keeps (the
            persistent Markov chains of PCD).
        progress: rich progress bars on stderr; per-epoch summaries are printed either way (unless ``quiet``).
        metadata: stored in the checkpoint (the example's options).
        run_clock: the command's clock (``setup``); a resumed checkpoint credits it with the time its earlier
            sessions spent, so the results line reports the whole run, not only the last session.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, *, steps_per_epoch: int, run_dir: str | Path,
                 name: str = "checkpoint", optimizer: torch.optim.Optimizer | str | None = "auto",
                 extra_optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
                 generators: Mapping[str, Any] | None = None, states: Mapping[str, Any] | None = None,
                 progress: bool = True, quiet: bool = False,
                 metadata: Mapping | None = None, title: str | None = None, run_clock: Clock | None = None):
        self.model, self.cfg = model, cfg
        self.run_clock = run_clock
        self.steps_per_epoch = max(1, int(steps_per_epoch))
        self.path = Path(run_dir) / f"{name}.pt"
        self.optimizer = make_optimizer(model, cfg) if optimizer == "auto" else optimizer
        self.scheduler = (make_scheduler(self.optimizer, cfg, self.steps_per_epoch)
                          if self.optimizer is not None else None)
        self.extra_optimizers = dict(extra_optimizers or {})
        self.generators = dict(generators or {})
        self.states = dict(states or {})
        self.progress, self.quiet = progress and not quiet, quiet
        self.metadata = dict(metadata or {})
        self.title = title or name
        self.epoch, self.step_count, self.history = 0, 0, []
        self.clock = Clock()

    # -- checkpoints -----------------------------------------------------------------------------------------
    def save(self) -> Path:
        extra = {"epoch": self.epoch, "history": self.history, "done": self.epoch >= self.cfg.epochs,
                 "wall_s": self.clock.wall, "cpu_s": self.clock.cpu, "train_config": dataclasses.asdict(self.cfg),
                 "optimizers": {k: o.state_dict() for k, o in self.extra_optimizers.items()},
                 "states": {k: s.state_dict() for k, s in self.states.items()}}
        return nets.save_checkpoint(self.path, self.model, self.optimizer, step=self.step_count,
                                    scheduler=self.scheduler, generators=self.generators, metadata=self.metadata,
                                    extra=extra)

    def restore(self) -> bool:
        """Load the checkpoint if there is one; returns whether one was loaded."""
        if not self.path.exists():
            return False
        ckpt = nets.load_checkpoint(self.path, self.model, self.optimizer, scheduler=self.scheduler,
                                    restore_rng_state=True, generators=self.generators)
        saved_cfg = ckpt.extra.get("train_config", {})
        if saved_cfg.get("epochs", self.cfg.epochs) != self.cfg.epochs:
            self.log(f"resuming {self.path} (trained for {saved_cfg.get('epochs')} epochs) to {self.cfg.epochs}")
        for key, opt in self.extra_optimizers.items():
            opt.load_state_dict(ckpt.extra["optimizers"][key])
        for key, state in self.states.items():
            state.load_state_dict(ckpt.extra["states"][key])
        self.epoch, self.step_count = int(ckpt.extra["epoch"]), ckpt.step
        self.history = list(ckpt.extra.get("history", []))
        self.clock = Clock(ckpt.extra.get("wall_s", 0.0), ckpt.extra.get("cpu_s", 0.0))
        if self.run_clock is not None:
            self.run_clock.credit(self.clock.base_wall, self.clock.base_cpu)
        return True

    def log(self, text: str) -> None:
        if not self.quiet:
            console().print(text, markup=False, highlight=False, soft_wrap=True)

    # -- the loop --------------------------------------------------------------------------------------------
    def fit(self, batches: Callable[[int], Iterable], step: Callable[[Any], Mapping[str, Any]],
            evaluate: Callable[[], Mapping[str, Any]] | None = None, resume: bool = False) -> dict:
        """Run the remaining epochs; ``batches(epoch)`` yields the epoch's batches, ``step(batch)`` trains on one.

        Returns ``{"epochs", "steps", "history", "final" (the last epoch's record), "train_wall_s", "train_cpu_s"
        (over every session of this run), "resumed"}``.
        """
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        resumed = resume and self.restore()
        if resumed:
            self.log(f"[{self.title}] resumed from {self.path} after epoch {self.epoch}")
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
        with Progress(*columns, console=console(), transient=True, disable=not self.progress) as bar:
            while self.epoch < self.cfg.epochs:
                task = bar.add_task(f"{self.title} {self.epoch + 1}/{self.cfg.epochs}", total=self.steps_per_epoch,
                                    info="")
                self.model.train()
                sums: dict[str, float] = {}
                count = 0
                for batch in batches(self.epoch):
                    metrics = self._train_step(step, batch)
                    count += 1
                    for k, v in metrics.items():
                        sums[k] = sums.get(k, 0.0) + float(v)
                    if count % 10 == 0 or count == self.steps_per_epoch:
                        info = "  ".join(f"{k} {sums[k] / count:.4g}" for k in list(sums)[:3])
                        bar.update(task, completed=count, info=info)
                bar.remove_task(task)
                record = {"epoch": self.epoch + 1, **{f"train_{k}": v / max(1, count) for k, v in sums.items()}}
                if self.optimizer is not None:
                    record["lr"] = self.optimizer.param_groups[0]["lr"]
                if evaluate is not None:
                    self.model.eval()
                    with torch.inference_mode():
                        record.update(evaluate())
                    self.model.train()
                self.epoch += 1
                record["wall_s"], record["cpu_s"] = round(self.clock.wall, 2), round(self.clock.cpu, 2)
                self.history.append(record)
                self.save()
                self.log(f"[{self.title}] " + "  ".join(f"{k} {_fmt(v)}" for k, v in record.items()))
        return {"epochs": self.epoch, "steps": self.step_count, "history": self.history,
                "final": self.history[-1] if self.history else {}, "train_wall_s": round(self.clock.wall, 2),
                "train_cpu_s": round(self.clock.cpu, 2), "resumed": bool(resumed)}

    def _train_step(self, step: Callable, batch) -> dict:
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)
        metrics = dict(step(batch))
        loss = metrics.get("loss")
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
        if self.optimizer is not None:
            if self.cfg.grad_clip > 0:
                params = [p for g in self.optimizer.param_groups for p in g["params"]]
                nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
        self.step_count += 1
        return {k: (v.detach().item() if isinstance(v, torch.Tensor) else v) for k, v in metrics.items()}


# ------------------------------------------------------------------------------------------------- classifiers
@torch.inference_mode()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000,
             device: torch.device | str = "cpu") -> dict:
    """Mean cross-entropy and accuracy of ``model`` (logits) on a labelled set."""
    was_training = model.training
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device)
        y = labels[start:start + batch_size].to(device)
        logits = model(x).float()
        loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == y).sum())
    model.train(was_training)
    n = max(1, len(images))
    return {"loss": loss / n, "accuracy": correct / n}


def fit_classifier(model: nn.Module, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                   test_y: torch.Tensor, cfg: TrainConfig, args, *, name: str = "classifier",
                   augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
                   title: str | None = None, metadata: Mapping | None = None) -> dict:
    """Cross-entropy training of a classifier on tensors, test accuracy after each epoch (the MNIST loop).

    ``augment(images, generator)`` transforms each training batch. Returns ``Trainer.fit``'s result with
    ``test_accuracy`` / ``test_loss`` of the final model added.
    """
    device = args.device
    model.to(device)
    order = torch.Generator().manual_seed(args.seed)
    noise = torch.Generator().manual_seed(args.seed + 1)
    steps = math.ceil(len(train_x) / cfg.batch_size)
    trainer = Trainer(model, cfg, steps_per_epoch=steps, run_dir=args.run_dir, name=name,
                      generators={"order": order, "augment": noise}, progress=not args.no_progress,
                      quiet=args.quiet, metadata=metadata, title=title, run_clock=getattr(args, "run_clock", None))

    def batches(epoch: int):
        for idx in data.batches(len(train_x), cfg.batch_size, order):
            yield train_x[idx], train_y[idx]

    def step(batch):
        x, y = batch
        if augment is not None:
            x = augment(x, noise)
        logits = model(x.to(device))
        return {"loss": F.cross_entropy(logits, y.to(device))}

    def evaluate():
        result = accuracy(model, test_x, test_y, device=device)
        return {"test_loss": result["loss"], "test_accuracy": result["accuracy"]}

    result = trainer.fit(batches, step, evaluate, resume=args.resume)
    final = evaluate() if not result["history"] else {k: result["final"][k] for k in ("test_loss", "test_accuracy")}
    result.update(final)
    result["checkpoint"] = str(trainer.path)
    return result


# ------------------------------------------------------------------------------------------------- command line
TRAIN_FLAGS = {  # option -> (TrainConfig field, type)
    "--epochs": ("epochs", int), "--batch-size": ("batch_size", int), "--optimizer": ("optimizer", str),
    "--lr": ("lr", float), "--momentum": ("momentum", float), "--beta2": ("beta2", float),
    "--weight-decay": ("weight_decay", float), "--scheduler": ("scheduler", str), "--warmup": ("warmup", float),
    "--min-lr": ("min_lr", float), "--gamma": ("gamma", float), "--step-every": ("step_every", int),
    "--grad-clip": ("grad_clip", float),
}


def add_train_args(parser: argparse.ArgumentParser, name: str, *, train: bool = True) -> None:
    """The options every example takes. Training options default to ``None``: the example's preset decides."""
    add_common_args(parser)
    if train:
        group = parser.add_argument_group("optimization (defaults: the example's preset)")
        docs = _field_docs()
        for flag, (field, tp) in TRAIN_FLAGS.items():
            group.add_argument(flag, type=tp, default=None, help=docs.get(field, ""))
    parser.add_argument("--run-dir", default=f"runs/examples/{name}",
                        help="folder for checkpoints, samples and results (default: %(default)s)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --run-dir")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N training and N test examples (smoke runs)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (per-epoch lines stay)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars and no per-epoch lines")


def _field_docs() -> dict[str, str]:
    """TrainConfig's field docstrings (for --help)."""
    import ast
    import inspect

    docs, last = {}, None
    for node in ast.parse(inspect.getsource(TrainConfig)).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            last = node.target.id
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) and last:
            docs[last] = str(node.value.value).replace("%", "%%")
            last = None
    return docs


def train_config(args, preset: Mapping | None = None, prefix: str = "") -> TrainConfig:
    """The preset (a dict of TrainConfig fields) with every option given on the command line on top."""
    data = dict(preset or {})
    for flag, (field, _) in TRAIN_FLAGS.items():
        value = getattr(args, prefix + flag[2:].replace("-", "_"), None)
        if value is not None:
            data[field] = value
    return from_dict(TrainConfig, data)


def setup(args) -> Clock:
    """Pin threads, seed every generator, pick the device; starts the clock. The run folder is made by the first
    file written into it (every write is atomic and makes its folder), so a run that fails on its arguments or
    data leaves no empty folder behind."""
    if args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be >= 1, got {args.limit}")
    pin_threads(args.threads)
    seed_everything(args.seed)
    torch.manual_seed(args.seed)
    args.device = nets.pick_device(args.device)
    args.run_clock = Clock()                     # trainers that resume credit it with their earlier sessions
    return args.run_clock


def command_line(module: str, argv) -> str:
    argv = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", "-m", module, *map(shlex.quote, map(str, argv))])


def finish(args, clock: Clock, result: dict, summary: str) -> dict:
    """Print the results line (``result: ...``), save ``results.json`` in the run folder, and with ``--json``
    print the result as one JSON object on the last line of stdout."""
    result = {**result, "wall_s": round(clock.wall, 2), "cpu_s": round(clock.cpu, 2), "seed": args.seed,
              "threads": args.threads}
    line = (f"result: {summary}; {result.get('epochs', '?')} epochs, wall {result['wall_s']:.0f} s, "
            f"CPU {result['cpu_s']:.0f} s")
    print(line, flush=True)
    atomic_write_text(Path(args.run_dir) / "results.json", json.dumps(result, indent=2, default=str) + "\n")
    if args.json:
        emit(result, True)
    return result
