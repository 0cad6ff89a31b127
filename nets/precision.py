"""Numeric precision of a network: ``precision: auto | fp32 | bf16`` and the inference form of a net.

* ``resolve_precision("auto", device)``: ``bf16`` where the hardware computes in bfloat16 natively, else ``fp32``:
  a GPU with bf16 support, or a CPU whose flags (``/proc/cpuinfo``) list ``avx512_bf16`` or ``amx_bf16``
  (AVX512-BF16 dot products, AMX tiles) or, on ARM, ``bf16``. Elsewhere bf16 is emulated and slower than
  fp32 (about 3x slower for the 6x64 ResNet on an AVX2-only core), so ``auto`` never guesses: it detects.
  ``bf16`` asked for explicitly runs anyway (emulated where it must be).
* ``precision_autocast(device, precision)``: the context a learner's forward pass runs in: bf16 autocast (weights,
  gradients and optimizer state stay fp32; bf16 keeps fp32's exponent range, so no loss scaling) or nothing.
* ``fold_batchnorm(model)``: a copy of an eval-mode model with each BatchNorm that directly follows a convolution
  folded into that convolution's weights and bias (Ioffe & Szegedy 2015 at inference: ``BN(conv(x))`` is one affine
  map of ``x``, so one convolution): one pass over the activations fewer per layer.
* ``inference_dtype(precision)``: the dtype an evaluator casts weights and inputs to (bf16 weights once, instead of
  autocast casting them on every call).

See docs/performance.md for the figures that chose these defaults.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch
from torch import nn

from .registry import NetConfigError

PRECISIONS = ("auto", "fp32", "bf16")
"""Valid values of every ``precision`` setting."""

_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")   # x86: /proc/cpuinfo "flags"
_ARM_BF16_FLAGS = ("bf16",)                        # aarch64: /proc/cpuinfo "Features"


def check_precision(value, key: str = "precision") -> str:
    """``value`` if it is one of ``PRECISIONS``; else a ``NetConfigError`` (one line) listing them."""
    if value not in PRECISIONS:
        raise NetConfigError(f"{key} must be one of {', '.join(PRECISIONS)}, got {value!r}")
    return value


@functools.cache
def cpu_bf16_flags(cpuinfo: str = "/proc/cpuinfo") -> tuple[str, ...]:
    """The CPU flags that mean native bf16 arithmetic (empty where there are none or no ``/proc/cpuinfo``)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return ()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("flags", "features"):
            flags = set(value.split())
            wanted = _NATIVE_BF16_FLAGS if key == "flags" else _ARM_BF16_FLAGS
            return tuple(f for f in wanted if f in flags)
    return ()


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bf16 natively (detected: GPU capability or the CPU's flags)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(cpu_bf16_flags())
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``fp32`` or ``bf16`` for a setting of ``PRECISIONS`` on ``device`` (``auto``: bf16 where it is native)."""
    check_precision(precision)
    device = torch.device(device)
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise NetConfigError(f"precision 'bf16' asked for, but GPU {device} has no bf16 support (use fp32 or auto)")
    return precision


def inference_dtype(precision: str) -> torch.dtype:
    """The dtype of weights and inputs at inference for a resolved precision."""
    return torch.bfloat16 if precision == "bf16" else torch.float32


def precision_autocast(device: torch.device | str, precision: str):
    """bf16 autocast on ``device`` for a resolved precision ``bf16``; a context that changes nothing for fp32."""
    device = torch.device(device)
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every BatchNorm fed only by a convolution folded into it.

    The model is traced with ``torch.fx``; a BatchNorm after anything else (KataGo's pooled bias sits between a
    convolution and its norm) stays as it is. A model without BatchNorm, or one that cannot be traced, is returned
    unchanged (in eval mode). The copy computes the same function as the eval-mode original up to rounding.
    """
    from torch.fx.experimental.optimization import fuse
    from torch.fx.proxy import TraceError

    model.eval()
    if not any(isinstance(m, _BATCHNORMS) for m in model.modules()):
        return model
    try:
        return fuse(model, inplace=False).eval()
    except (TraceError, TypeError, RuntimeError, NotImplementedError, AttributeError):
        return model


PRECISION_HELP = ("network arithmetic: auto (bf16 where the CPU has AVX512-BF16 or AMX, or on a GPU; else fp32), "
                  "fp32 or bf16")


def add_precision_argument(parser, default: str | None = "auto") -> None:
    """``--precision auto|fp32|bf16`` on an ``argparse`` parser (check the value with ``check_precision``); a
    command whose configuration holds the setting passes ``default=None`` (absent: the configuration's)."""
    help = PRECISION_HELP if default else PRECISION_HELP + " (default: the configuration's run.precision)"
    parser.add_argument("--precision", default=default, metavar="auto|fp32|bf16", help=help)
