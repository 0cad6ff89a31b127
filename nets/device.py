"""Device choice, mixed precision and compilation options.

* ``pick_device("auto")``: CUDA when present, else CPU.
* ``autocast(device)``: bfloat16 autocast on a GPU that supports it (no loss scaling needed: bf16 keeps the
  float32 exponent range); a no-op on the CPU, where bf16 matmuls are slower than float32 on most machines.
* ``prepare(model, device, channels_last=..., compile=...)``: move a model, optionally to the channels-last
  memory format (faster convolutions with tensor cores) and through ``torch.compile``.
* ``unwrap(model)``: the original module behind a ``torch.compile`` wrapper (checkpoints store its weights, so
  their keys do not depend on whether the model was compiled).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from engine.core import UserError


def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None): CUDA when available, else CPU; an explicit device must exist."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise UserError(f"unknown device {device!r}: {err}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {device!r} asked for, but CUDA is not available on this machine (use 'cpu' or 'auto')")
    return dev


def bf16_supported(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def autocast(device: torch.device | str, enabled: bool = True):
    """bfloat16 autocast on a bf16-capable GPU; otherwise a context that changes nothing."""
    device = torch.device(device)
    if enabled and bf16_supported(device):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def unwrap(model: nn.Module) -> nn.Module:
    """The module behind a ``torch.compile`` (``OptimizedModule``) wrapper, or the model itself."""
    return getattr(model, "_orig_mod", model)


def prepare(model: nn.Module, device: torch.device | str | None = "auto", *, channels_last: bool = False,
            compile: bool = False, compile_mode: str | None = None, dynamic: bool | None = None) -> nn.Module:
    """Move ``model`` to ``device``; optionally channels-last and ``torch.compile``d (returns the wrapper)."""
    device = pick_device(device)
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile:
        model = torch.compile(model, mode=compile_mode, dynamic=dynamic)
    return model


def to_input(x: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """Move an input batch to ``device`` (asynchronously from pinned memory) in the model's memory format."""
    x = x.to(device, non_blocking=True)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x
