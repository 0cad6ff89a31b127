"""Weight initialization scaled by fan-in / fan-out.

* He et al. 2015, "Delving Deep into Rectifiers" (arXiv:1502.01852): for a layer followed by a rectifier
  (ReLU, and here also GELU/SiLU, which behave alike near zero), weights ~ N(0, 2 / fan_in) keep the variance
  of activations constant through depth.
* Glorot & Bengio 2010, "Understanding the difficulty of training deep feedforward neural networks": for a
  layer followed by a linear, tanh or sigmoid output, weights ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

Biases start at zero; normalization layers at scale 1, shift 0. Every module in ``nets`` initializes its own
layers with ``init_layer`` naming the nonlinearity that follows, so the rule is explicit where the layer is made.
"""

from __future__ import annotations

import torch
from torch import nn

RECTIFIERS = frozenset({"relu", "gelu", "silu", "leaky_relu", "elu"})
"""Nonlinearities that get He initialization."""

_XAVIER_GAIN = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "softmax": 1.0}


def init_layer(layer: nn.Module, nonlinearity: str = "linear") -> nn.Module:
    """Initialize a Linear / Conv / Embedding layer for the nonlinearity that follows it; returns the layer."""
    weight = getattr(layer, "weight", None)
    if weight is None:
        return layer
    if isinstance(layer, nn.Embedding):
        # An embedding has no fan-in worth the name; unit-variance-over-sqrt(dim) rows keep the residual
        # stream of a transformer at the scale its LayerNorms expect.
        nn.init.normal_(weight, mean=0.0, std=weight.shape[1] ** -0.5)
        return layer
    if nonlinearity in RECTIFIERS:
        nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")
    elif nonlinearity in _XAVIER_GAIN:
        nn.init.xavier_uniform_(weight, gain=_XAVIER_GAIN[nonlinearity])
    else:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r} for initialization; known: "
                         f"{', '.join(sorted(RECTIFIERS | _XAVIER_GAIN.keys()))}")
    bias = getattr(layer, "bias", None)
    if bias is not None:
        nn.init.zeros_(bias)
    return layer


def init_norm(layer: nn.Module) -> nn.Module:
    """Normalization layers: scale 1, shift 0 (the identity at the start of training)."""
    if getattr(layer, "weight", None) is not None:
        nn.init.ones_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return layer


def init_recurrent(rnn: nn.RNNBase) -> nn.RNNBase:
    """LSTM / GRU: Xavier input-to-hidden (sigmoid/tanh gates), orthogonal hidden-to-hidden, zero biases.

    The LSTM forget-gate bias starts at 1 (Jozefowicz et al. 2015, "An Empirical Exploration of Recurrent
    Network Architectures") so that early in training the cell remembers by default.
    """
    for name, param in rnn.named_parameters():
        if name.startswith("weight_ih"):
            gates = param.shape[0] // rnn.hidden_size
            for g in range(gates):  # each gate block is its own fan-in/fan-out matrix
                nn.init.xavier_uniform_(param[g * rnn.hidden_size:(g + 1) * rnn.hidden_size])
        elif name.startswith("weight_hh"):
            gates = param.shape[0] // rnn.hidden_size
            for g in range(gates):
                nn.init.orthogonal_(param[g * rnn.hidden_size:(g + 1) * rnn.hidden_size])
        elif name.startswith("bias"):
            nn.init.zeros_(param)
            if isinstance(rnn, nn.LSTM) and name.startswith("bias_ih"):
                with torch.no_grad():
                    param[rnn.hidden_size:2 * rnn.hidden_size].fill_(1.0)  # gate order: input, forget, cell, out
    return rnn


ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}
"""Activation name -> module; the same names select the initialization (``init_layer``)."""


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]()
