"""Multilayer perceptron backbone: Linear -> [norm] -> activation -> [dropout], repeated.

BatchNorm: Ioffe & Szegedy 2015 (arXiv:1502.03167); LayerNorm: Ba et al. 2016 (arXiv:1607.06450); dropout:
Srivastava et al. 2014 (JMLR 15). Inputs with more than one feature axis (an image ``[B, 1, 28, 28]``) are
flattened, so the MNIST MLP is ``MLP(in_shape=(1, 28, 28), widths=[800, 800])`` + a classifier head.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from . import init
from .base import Backbone, as_shape
from .registry import register_backbone, remember_config

NORMS = {"none": None, "batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


@register_backbone("mlp")
class MLP(Backbone):
    """``in_shape`` -> ``widths[0]`` -> ... -> ``widths[-1]``; ``out_shape = (widths[-1],)``.

    Args:
        in_shape: per-sample input shape (an int or a shape, flattened).
        widths: hidden widths; the last one is the output width.
        activation: ``relu``, ``gelu``, ``tanh``, ``sigmoid``, ... (also selects the initialization).
        dropout: dropout probability after each activation (0 = none).
        norm: ``"none"``, ``"batch"`` or ``"layer"`` normalization before each activation.
    """

    def __init__(self, in_shape: int | Sequence[int], widths: Sequence[int] = (256, 256), activation: str = "relu",
                 dropout: float = 0.0, norm: str = "none"):
        super().__init__()
        remember_config(self, "mlp", dict(in_shape=in_shape, widths=widths, activation=activation, dropout=dropout,
                                          norm=norm))
        init.activation(activation)  # an unknown name fails here, naming the known ones
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; known: {', '.join(NORMS)}")
        if not widths:
            raise ValueError("an MLP needs at least one width")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_shape = as_shape(in_shape)
        layers: list[nn.Module] = [nn.Flatten()] if len(self.in_shape) > 1 else []
        fan_in = math.prod(self.in_shape)
        for width in widths:
            # A normalization right after the linear layer makes its bias redundant.
            layers.append(init.init_layer(nn.Linear(fan_in, width, bias=norm == "none"), activation))
            if NORMS[norm] is not None:
                layers.append(init.init_norm(NORMS[norm](width)))
            layers.append(init.activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            fan_in = width
        self.layers = nn.Sequential(*layers)
        self.out_shape = (int(widths[-1]),)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, *in_shape] -> [B, widths[-1]]
        return self.layers(x)
