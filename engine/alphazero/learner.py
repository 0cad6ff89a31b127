"""The learner: AlphaZero's loss on batches from the replay window.

Silver et al. 2017/2018: ``l = (z - v)^2 - pi^T log p + c ||theta||^2``, the value's squared error, the policy's
cross-entropy against the search's target ``pi`` and L2 regularisation, minimised by SGD with momentum (the L2
term as weight decay). Options: a win/draw/loss value head trained by cross-entropy (Leela Chess Zero), AdamW
(decoupled weight decay), a learning rate that follows a schedule over iterations, gradient clipping and bf16
mixed precision where the run's precision resolves to bf16 (a GPU, or a CPU with native bf16: ``nets.precision``):
the forward pass under bf16 autocast, the weights, their gradients and the optimizer's state in fp32.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from nets import pick_device
from nets.precision import precision_autocast, resolve_precision

from .config import TrainSection


def learning_rate(cfg: TrainSection, iteration: int, iterations: int) -> float:
    """The learning rate of ``iteration`` (1-based) of ``iterations``."""
    if cfg.lr_schedule == "cosine":
        frac = (iteration - 1) / max(iterations - 1, 1)
        return cfg.lr * (cfg.lr_final + (1.0 - cfg.lr_final) * 0.5 * (1.0 + math.cos(math.pi * min(frac, 1.0))))
    if cfg.lr_schedule == "step":
        return cfg.lr * cfg.lr_gamma ** sum(1 for m in cfg.lr_milestones if iteration >= m)
    return cfg.lr


def score_target(margin: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """The score head's target ``[B, S]`` for final margins ``[B]``: a margin on a bin (``x.5``) is one-hot; between
    two bins (an integer margin, with integer komi) it is split linearly between them; outside, the end bin."""
    pos = (margin.float() - support[0]).clamp(0, len(support) - 1)       # fractional bin index
    lo = pos.floor().long().clamp(max=len(support) - 2)
    frac = (pos - lo.float()).unsqueeze(1)
    target = torch.zeros(len(margin), len(support), device=margin.device)
    target.scatter_(1, lo.unsqueeze(1), 1.0 - frac)
    target.scatter_add_(1, lo.unsqueeze(1) + 1, frac)
    return target


def aux_losses(net, out, ownership: torch.Tensor, score: torch.Tensor, has_target: torch.Tensor) -> dict:
    """KataGo's auxiliary losses (Wu 2019, arXiv:1902.10565, §4.1; ``python/metrics_pytorch.py`` of KataGo),
    averaged over the positions that have targets (games that ended by the rules; resigned ones have none):

    * ``ownership_loss``: the mean over the board's points of the cross-entropy between the predicted owner,
      ``P(mover) = sigmoid(2 * logit)`` (tanh of the logit is the expectation), and the final owner (+1 / 0 / -1
      for the mover, 0 counted half each way). KataGo weighs it 1.5 (1.5 / board area per point).
    * ``score_loss``: the score belief's cross-entropy against the final margin (``score_target``) plus the
      squared distance of the two CDFs (KataGo: 0.02 each).
    """
    mask = has_target.float()
    count = mask.sum().clamp(min=1.0)
    result = {}
    if out.ownership is not None:
        logits = 2.0 * out.ownership.float().flatten(1)
        target = (1.0 + ownership.float().flatten(1)) / 2.0
        per_point = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        result["ownership_loss"] = (per_point.mean(dim=1) * mask).sum() / count
    if out.score is not None:
        support = net.score_head.support
        target = score_target(score, support)
        logp = F.log_softmax(out.score.float(), dim=1)
        pdf = -(target * logp).sum(dim=1)
        cdf = (logp.exp().cumsum(dim=1) - target.cumsum(dim=1)).square().sum(dim=1)
        result["score_loss"] = ((pdf + cdf) * mask).sum() / count
    return result


class Learner:
    """Trains ``net`` (in place) with ``cfg`` (``TrainSection``) on ``device`` in ``precision`` (``run.precision``:
    ``auto``, ``fp32`` or ``bf16``; ``cfg.mixed_precision`` false means fp32 whatever it says).

    ``train(replay, steps, rng, game)`` runs ``steps`` steps on batches sampled from a ``ReplayBuffer`` and returns
    mean losses; ``train_batch`` does one step on given arrays. ``step`` counts the steps ever done.
    """

    def __init__(self, net: torch.nn.Module, cfg: TrainSection, device: str | torch.device = "cpu",
                 precision: str = "auto"):
        self.cfg = cfg
        self.device = pick_device(device)
        self.precision = resolve_precision(precision if cfg.mixed_precision else "fp32", self.device)
        self.net = net.to(self.device)
        self.wdl = cfg.value_loss == "wdl"
        self.aux = cfg.ownership_weight > 0 or cfg.score_weight > 0  # KataGo's auxiliary losses
        if cfg.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(self.net.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                             weight_decay=cfg.weight_decay)
        else:
            self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, betas=(cfg.momentum, 0.999),
                                               weight_decay=cfg.weight_decay)
        self.step = 0

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def losses(self, planes: torch.Tensor, policy: torch.Tensor, value: torch.Tensor, result: torch.Tensor,
               aux: tuple[torch.Tensor, ...] | None = None):
        """(total, policy cross-entropy, value loss, auxiliary losses) on one batch (tensors on the learner's
        device); ``aux``: KataGo's targets ``(ownership[B, H, W], score[B], has_target[B])``, see ``aux_losses``."""
        with precision_autocast(self.device, self.precision):
            if self.wdl or self.aux:
                out = self.net.forward_all(planes)
                logits, wdl_logits, v = out.policy, out.wdl, out.value
            else:
                logits, v = self.net(planes)
        logits = logits.float()
        policy_loss = -(policy * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        if self.wdl:
            # classes: win, draw, loss for the mover (the head's order)
            target = (1 - result.long()).clamp(0, 2)
            value_loss = F.cross_entropy(wdl_logits.float(), target)
        else:
            value_loss = F.mse_loss(v.float(), value)
        total = policy_loss + self.cfg.value_weight * value_loss
        extra = {}
        if self.aux and aux is not None:
            extra = aux_losses(self.net, out, *aux)
            total = total + self.cfg.ownership_weight * extra.get("ownership_loss", 0.0) \
                + self.cfg.score_weight * extra.get("score_loss", 0.0)
        return total, policy_loss, value_loss, extra

    def train_batch(self, planes: np.ndarray, policy: np.ndarray, value: np.ndarray, result: np.ndarray,
                    *aux: np.ndarray) -> dict:
        """One optimisation step; returns the batch's losses (before the step). ``aux``: the replay's ownership,
        score and has-target arrays when the run trains KataGo's auxiliary heads."""
        self.net.train()
        dev = self.device
        x = torch.from_numpy(np.ascontiguousarray(planes)).to(dev, non_blocking=True)
        pi = torch.from_numpy(np.ascontiguousarray(policy)).to(dev, non_blocking=True)
        z = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)).to(dev, non_blocking=True)
        r = torch.from_numpy(np.ascontiguousarray(result)).to(dev, non_blocking=True)
        targets = tuple(torch.from_numpy(np.ascontiguousarray(a)).to(dev, non_blocking=True) for a in aux) or None
        total, pl, vl, extra = self.losses(x, pi, z, r, targets)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        return {"loss": float(total.detach()), "policy_loss": float(pl.detach()), "value_loss": float(vl.detach()),
                **{k: float(v.detach()) for k, v in extra.items()}}

    def train(self, replay, steps: int, rng: np.random.Generator, game=None, augment: bool = True,
              progress: Callable[[int], None] | None = None) -> dict:
        """``steps`` steps on batches from ``replay``; mean losses, samples/s and the policy's entropy target."""
        sums = {"loss": 0.0, "policy_loss": 0.0, "value_loss": 0.0}
        if self.aux:
            sums.update({k: 0.0 for k, w in (("ownership_loss", self.cfg.ownership_weight),
                                              ("score_loss", self.cfg.score_weight)) if w > 0})
        t0 = time.perf_counter()
        for i in range(steps):
            batch = replay.sample(self.cfg.batch_size, rng, game, augment)
            out = self.train_batch(*batch)
            for k in sums:
                sums[k] += out[k]
            if progress is not None:
                progress(i + 1)
        seconds = time.perf_counter() - t0
        result = {k: (v / steps if steps else float("nan")) for k, v in sums.items()}
        result.update(steps=steps, seconds=seconds,
                      samples_per_second=steps * self.cfg.batch_size / seconds if steps and seconds > 0 else 0.0)
        return result

    # --------------------------------------------------------------------------------------------- state
    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
