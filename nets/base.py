"""The one contract that lets any head sit on any backbone (Stable-Baselines3's ``features_dim``).

A backbone maps a batch ``x[B, ...]`` to features ``[B, *out_shape]`` and says so: ``out_shape`` is the
per-sample output shape (``(512,)`` for the Nature-DQN CNN, ``(64, 9, 9)`` for a ResNet tower on a 9x9 board,
``(T, 128)`` for a transformer over ``T`` tokens) and ``out_dim`` its number of elements. A head is built with
``in_shape=backbone.out_shape``; flat heads flatten spatial features, spatial heads (AlphaZero's policy/value
convolutions) use the channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn


def as_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    """``7`` -> ``(7,)``; a sequence of positive ints -> a tuple."""
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if not shape or any(s <= 0 for s in shape):
        raise ValueError(f"a shape must be positive integers, got {shape}")
    return shape


class Backbone(nn.Module):
    """Base class of the feature extractors: subclasses set ``self.out_shape``."""

    out_shape: tuple[int, ...]

    @property
    def out_dim(self) -> int:
        return math.prod(self.out_shape)


def num_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters; a parameter shared by two layers (tied embeddings) counts once."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
