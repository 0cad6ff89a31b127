"""Batched inference: a generic helper and the evaluator the MCTS calls.

``PolicyValueEvaluator`` is where game, search and network meet (sketch 3 of STYLE.md; OpenSpiel's
``alpha_zero/evaluator.py``): the search gathers the leaves of many games into one array and calls::

    logits, value = evaluator(planes, legal)
    # planes: float32 [L, C, H, W], legal: bool [L, A]
    # logits: float32 [L, A] with illegal actions set to ILLEGAL_LOGIT (-1e9) unless mask_illegal=False
    # value:  float32 [L] in [-1, 1], from the view of the player to move in each position

It runs under ``torch.inference_mode`` in eval mode (BatchNorm uses its running statistics), avoids copies
(``torch.from_numpy`` views the search's arrays on the CPU; on a GPU the planes go through a preallocated
pinned buffer and an asynchronous copy), splits ``L > max_batch`` into chunks, and runs an inference copy of
the network: BatchNorm folded into the convolutions, channels-last, and bf16 weights where the precision setting
resolves to bf16 (``nets.precision``: ``auto`` takes it on GPUs and on CPUs with native bf16).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .device import autocast, pick_device, prepare, to_input, unwrap
from .precision import fold_batchnorm, inference_dtype, precision_autocast, resolve_precision

ILLEGAL_LOGIT = -1.0e9
"""Logit given to illegal actions: ``exp(ILLEGAL_LOGIT - max)`` is exactly 0 in float32, and it stays finite."""


def _to_cpu_float(tree):
    if tree is None:
        return None
    if isinstance(tree, torch.Tensor):
        tree = tree.detach()
        return (tree.float() if tree.is_floating_point() else tree).cpu()
    if isinstance(tree, tuple):
        items = [_to_cpu_float(t) for t in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if isinstance(tree, list):
        return [_to_cpu_float(t) for t in tree]
    if isinstance(tree, dict):
        return {k: _to_cpu_float(v) for k, v in tree.items()}
    return tree


def _concat(chunks: list):
    first = chunks[0]
    if first is None:
        return None
    if isinstance(first, torch.Tensor):
        return torch.cat(chunks) if len(chunks) > 1 else first
    if isinstance(first, tuple):
        items = [_concat([c[i] for c in chunks]) for i in range(len(first))]
        return type(first)(*items) if hasattr(first, "_fields") else tuple(items)
    if isinstance(first, list):
        return [_concat([c[i] for c in chunks]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: _concat([c[k] for c in chunks]) for k in first}
    return chunks


def predict(model: nn.Module, inputs: np.ndarray | torch.Tensor, *, batch_size: int = 1024,
            device: str | torch.device | None = None, use_autocast: bool = True):
    """Run ``model`` over ``inputs[N, ...]`` in chunks of ``batch_size`` under ``torch.inference_mode``.

    The model is put in eval mode for the call (and back after). Returns the model's output structure
    (a tensor, tuple, named tuple, dict) with every tensor concatenated on the CPU, floats as float32.
    """
    device = pick_device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        chunks = []
        with torch.inference_mode(), autocast(device, use_autocast):
            x_all = torch.from_numpy(inputs) if isinstance(inputs, np.ndarray) else inputs
            for start in range(0, len(x_all), batch_size):
                x = x_all[start:start + batch_size].to(device, non_blocking=True)
                chunks.append(_to_cpu_float(model(x)))
        if not chunks:
            raise ValueError("predict got no inputs")
        return _concat(chunks)
    finally:
        model.train(was_training)


class PolicyValueEvaluator:
    """The MCTS evaluator: ``evaluator(planes[L, C, H, W], legal[L, A]) -> (logits[L, A], value[L])``.

    Args:
        model: a network with ``forward(x) -> (logits, value)`` (``PolicyValueNet``). The evaluator runs its own
            inference copy of it (folded, converted); give it new weights with ``load_state_dict``, not by
            changing ``model`` in place.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda[:i]``.
        max_batch: largest batch run at once (longer inputs are split; GPU buffers are this big).
        mask_illegal: set illegal logits to ``ILLEGAL_LOGIT`` (the default) or leave them as the net made them.
        precision: ``auto`` (bf16 where the device computes it natively, else fp32), ``fp32`` or ``bf16``
            (``nets.precision``); in bf16 the weights are cast once and the planes at each call, outputs are fp32.
        fold_bn: fold each BatchNorm that follows a convolution into it (same outputs up to rounding, faster).
        use_autocast: False forces fp32 (older spelling of ``precision="fp32"``).
        channels_last: run convolutions in the channels-last (NHWC) memory format; ``None`` (default) turns it
            on for convolutional networks, where oneDNN on the CPU and tensor cores on a GPU are faster with it
            (about 1.5x for the 6x64 ResNet on one CPU core; see ``python -m engine.bench nn``).
        compile: ``torch.compile`` the inference copy (see ``nets.device.prepare``).

    Returned arrays are new for each call on the CPU (views of the network's output tensors, no copy) and
    copies of the pinned output buffers on a GPU: the caller may keep them.
    """

    def __init__(self, model: nn.Module, *, device: str | torch.device | None = "auto", max_batch: int = 1024,
                 mask_illegal: bool = True, precision: str = "auto", fold_bn: bool = True,
                 use_autocast: bool = True, channels_last: bool | None = None, compile: bool = False):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.device = pick_device(device)
        self.max_batch = int(max_batch)
        self.mask_illegal = mask_illegal
        self.precision = resolve_precision(precision if use_autocast else "fp32", self.device)
        self.dtype = inference_dtype(self.precision)
        self.fold_bn = bool(fold_bn)
        self.compile = bool(compile)
        base = unwrap(model)
        if channels_last is None:
            channels_last = any(isinstance(m, nn.Conv2d) for m in base.modules())
        self.channels_last = bool(channels_last)
        self.plane_shape = tuple(getattr(base, "plane_shape", ())) or None
        self.num_actions = getattr(base, "num_actions", None)
        self.source = base.to(self.device).eval()  # the caller's network: new weights go here, then are re-folded
        self.model = self._inference_copy(self.compile)
        self._pinned: dict[str, torch.Tensor] = {}
        self.calls = 0
        self.positions = 0

    def _inference_copy(self, compile: bool = False) -> nn.Module:
        model = fold_batchnorm(self.source) if self.fold_bn else self.source
        if model is self.source and self.dtype != torch.float32:
            model = copy.deepcopy(model)  # the caller's network keeps its fp32 weights
        model = prepare(model, self.device, channels_last=self.channels_last).to(self.dtype).eval()
        return torch.compile(model) if compile else model

    # -------------------------------------------------------------------------------------------------
    def load_state_dict(self, state_dict) -> None:
        """New weights from the learner: loaded into the source network, then folded and converted anew."""
        self.source.load_state_dict(state_dict)
        if unwrap(self.model) is not self.source:  # same parameters, values copied: a compiled wrapper stays valid
            unwrap(self.model).load_state_dict(self._inference_copy().state_dict())

    def _check(self, planes: np.ndarray, legal: np.ndarray) -> None:
        if not isinstance(planes, np.ndarray) or planes.dtype != np.float32 or planes.ndim != 4:
            raise ValueError(f"planes must be a float32 array [L, C, H, W], got "
                             f"{getattr(planes, 'dtype', type(planes).__name__)} {getattr(planes, 'shape', '')}")
        if self.plane_shape is not None and planes.shape[1:] != self.plane_shape:
            raise ValueError(f"planes have shape {planes.shape[1:]} per position; the network takes {self.plane_shape}")
        if not isinstance(legal, np.ndarray) or legal.dtype != np.bool_ or legal.ndim != 2 \
                or legal.shape[0] != planes.shape[0]:
            raise ValueError(f"legal must be a bool array [L, A] with L = {planes.shape[0]}, got "
                             f"{getattr(legal, 'dtype', type(legal).__name__)} {getattr(legal, 'shape', '')}")
        if self.num_actions is not None and legal.shape[1] != self.num_actions:
            raise ValueError(f"legal has {legal.shape[1]} actions; the network predicts {self.num_actions}")

    def _buffer(self, name: str, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        """A pinned host buffer, allocated once at ``max_batch`` rows and reused (GPU only)."""
        buf = self._pinned.get(name)
        if buf is None or tuple(buf.shape[1:]) != tuple(shape):
            buf = torch.empty((self.max_batch, *shape), dtype=dtype, pin_memory=True)
            self._pinned[name] = buf
        return buf

    def _run(self, planes: np.ndarray, legal: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        n = planes.shape[0]
        if self.device.type == "cuda":
            x_host = self._buffer("planes", planes.shape[1:], torch.float32)[:n]
            x_host.numpy()[...] = planes                         # one memcpy into pinned memory
            legal_host = self._buffer("legal", legal.shape[1:], torch.bool)[:n]
            legal_host.numpy()[...] = legal
            x = to_input(x_host, self.device, self.channels_last).to(self.dtype)
            legal_t = legal_host.to(self.device, non_blocking=True)
        else:
            x = torch.from_numpy(planes)                         # a view: no copy
            if self.channels_last:                               # one copy, cast on the way
                x = x.to(dtype=self.dtype, memory_format=torch.channels_last)
            else:
                x = x.to(self.dtype)
            legal_t = torch.from_numpy(legal)
        logits, value = self.model(x)
        logits, value = logits.float(), value.float()
        if self.mask_illegal:
            logits = logits.masked_fill(legal_t.logical_not(), ILLEGAL_LOGIT)
        return logits, value

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._check(planes, legal)
        total = planes.shape[0]
        self.calls += 1
        self.positions += total
        if total == 0:
            return np.empty((0, legal.shape[1]), np.float32), np.empty(0, np.float32)
        planes = np.ascontiguousarray(planes)        # no copy when already contiguous (the search's buffers are)
        legal = np.ascontiguousarray(legal)
        cuda = self.device.type == "cuda"
        with torch.inference_mode():
            if total <= self.max_batch and not cuda:
                logits, value = self._run(planes, legal)
                return logits.numpy(), value.numpy()
            out_logits = np.empty((total, legal.shape[1]), np.float32)
            out_value = np.empty(total, np.float32)
            for start in range(0, total, self.max_batch):
                stop = min(start + self.max_batch, total)
                logits, value = self._run(planes[start:stop], legal[start:stop])
                if cuda:
                    n = stop - start
                    logits_host = self._buffer("logits", logits.shape[1:], torch.float32)[:n]
                    value_host = self._buffer("value", (), torch.float32)[:n]
                    logits_host.copy_(logits, non_blocking=True)
                    value_host.copy_(value, non_blocking=True)
                    torch.cuda.current_stream(self.device).synchronize()
                    out_logits[start:stop] = logits_host.numpy()
                    out_value[start:stop] = value_host.numpy()
                else:
                    out_logits[start:stop] = logits.numpy()
                    out_value[start:stop] = value.numpy()
            return out_logits, out_value

    @property
    def arch(self):
        """The ``PolicyValueConfig`` of the caller's network (``None`` for another model); the inference copy
        (folded, converted) is a traced module without it."""
        return getattr(unwrap(self.source), "arch", None)

    @property
    def has_auxiliary(self) -> bool:
        """Whether the network has KataGo's ownership or score head (``auxiliary``)."""
        arch = self.arch
        return bool(getattr(arch, "ownership", False) or getattr(arch, "score", False))

    def auxiliary(self, planes: np.ndarray) -> dict[str, np.ndarray]:
        """KataGo's auxiliary predictions for ``planes[L, C, H, W]``, from the view of the player to move:
        ``ownership`` float32[L, H, W] in [-1, 1] (the expected final owner of each point, +1 the mover) and
        ``score`` float32[L] (the expected final lead), those of the heads the network has (empty without)."""
        base = unwrap(self.source)  # the heads' outputs: the unfolded network (rare calls: analysis, the UI)
        if not self.has_auxiliary:
            return {}
        x = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32)).to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), precision_autocast(self.device, self.precision):
            out = base.forward_all(x)
        result = {}
        if out.ownership is not None:
            result["ownership"] = torch.tanh(out.ownership.float()).cpu().numpy()
        if out.score is not None:
            result["score"] = base.score_mean(out.score).float().cpu().numpy()
        return result


def make_evaluator(model: nn.Module, **options) -> PolicyValueEvaluator:
    """``PolicyValueEvaluator(model, **options)``: the callable the MCTS takes."""
    return PolicyValueEvaluator(model, **options)
