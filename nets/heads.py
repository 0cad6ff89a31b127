"""Heads: what a network predicts, on top of any backbone (built with ``in_shape=backbone.out_shape``).

* ``PolicyValueHead``: AlphaZero (Silver et al. 2018, Science 362; network as in Silver et al. 2017, Nature
  550, "Methods"): policy logits over the action space and a value ``tanh`` in [-1, 1]; spatial features
  ``(C, H, W)`` go through 1x1 convolutions (2 policy maps, 1 value map) as in the paper, flat features through
  linear layers. With ``wdl=True`` the value comes from win/draw/loss logits (Leela Chess Zero, KataGo):
  ``value = P(win) - P(loss)``, and the logits are returned for a cross-entropy loss.
* ``OwnershipHead`` and ``ScoreHead``: KataGo's auxiliary targets (Wu 2019, "Accelerating Self-Play Learning in
  Go", arXiv:1902.10565, §4.1): the final owner of each point and the final score margin as a distribution.
* ``QHead``: one Q-value per action (Mnih et al. 2015).
* ``DuelingQHead``: ``Q = V + A - mean(A)`` from two streams (Wang et al. 2016, arXiv:1511.06581).
* ``C51Head``: a categorical return distribution over ``atoms`` fixed support points per action (Bellemare,
  Dabney & Munos 2017, arXiv:1707.06887); optionally dueling (Hessel et al. 2018, Rainbow).
* ``ClassifierHead``: class logits, optionally after hidden layers.
* ``LMHead``: next-token logits whose weight is the token embedding (tied; Press & Wolf 2017, arXiv:1608.05859).

Flat heads work on the last axis, so on a sequence backbone (``[B, T, D]``) they predict per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import init
from .base import as_shape
from .registry import register_head, remember_config


def _hidden_stack(in_dim: int, hidden: Sequence[int], activation: str = "relu") -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [init.init_layer(nn.Linear(in_dim, width), activation), init.activation(activation)]
        in_dim = width
    return nn.Sequential(*layers), in_dim


class _FlatHead(nn.Module):
    """A head on flat features: spatial inputs are flattened, 1-D inputs used per position (last axis)."""

    def __init__(self, in_shape):
        super().__init__()
        self.in_shape = as_shape(in_shape)
        self.in_dim = math.prod(self.in_shape)

    def flat(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) if len(self.in_shape) > 1 else x


@register_head("classifier")
class ClassifierHead(_FlatHead):
    """``[B, *in_shape]`` -> class logits ``[B, num_classes]`` (hidden layers and dropout optional)."""

    def __init__(self, in_shape, num_classes: int, hidden: Sequence[int] = (), activation: str = "relu",
                 dropout: float = 0.0):
        super().__init__(in_shape)
        remember_config(self, "classifier", dict(in_shape=in_shape, num_classes=num_classes, hidden=hidden,
                                                 activation=activation, dropout=dropout))
        self.hidden, width = _hidden_stack(self.in_dim, hidden, activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out = init.init_layer(nn.Linear(width, num_classes), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.hidden(self.flat(x))))


@register_head("q")
class QHead(_FlatHead):
    """Q-values ``[B, num_actions]``."""

    def __init__(self, in_shape, num_actions: int, hidden: Sequence[int] = ()):
        super().__init__(in_shape)
        remember_config(self, "q", dict(in_shape=in_shape, num_actions=num_actions, hidden=hidden))
        self.hidden, width = _hidden_stack(self.in_dim, hidden)
        self.out = init.init_layer(nn.Linear(width, num_actions), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.hidden(self.flat(x)))

    def q_values(self, output: torch.Tensor) -> torch.Tensor:
        return output


@register_head("dueling_q")
class DuelingQHead(_FlatHead):
    """``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')``; each stream has a ``hidden``-unit layer (0 = none)."""

    def __init__(self, in_shape, num_actions: int, hidden: int = 512):
        super().__init__(in_shape)
        remember_config(self, "dueling_q", dict(in_shape=in_shape, num_actions=num_actions, hidden=hidden))
        stream = [hidden] if hidden else []
        self.value_hidden, v_width = _hidden_stack(self.in_dim, stream)
        self.advantage_hidden, a_width = _hidden_stack(self.in_dim, stream)
        self.value = init.init_layer(nn.Linear(v_width, 1), "linear")
        self.advantage = init.init_layer(nn.Linear(a_width, num_actions), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flat(x)
        value = self.value(self.value_hidden(x))                    # [B, 1]
        advantage = self.advantage(self.advantage_hidden(x))        # [B, A]
        # Subtracting the mean (not the max) makes V and A identifiable and is more stable (Wang et al., eq. 9).
        return value + advantage - advantage.mean(dim=-1, keepdim=True)

    def q_values(self, output: torch.Tensor) -> torch.Tensor:
        return output


@register_head("c51")
class C51Head(_FlatHead):
    """Return-distribution logits ``[B, num_actions, atoms]`` over ``support = linspace(v_min, v_max, atoms)``.

    ``probabilities(out)`` is the softmax over atoms, ``q_values(out)`` the expected return ``[B, A]``.
    """

    def __init__(self, in_shape, num_actions: int, atoms: int = 51, v_min: float = -10.0, v_max: float = 10.0,
                 hidden: int = 0, dueling: bool = False):
        super().__init__(in_shape)
        remember_config(self, "c51", dict(in_shape=in_shape, num_actions=num_actions, atoms=atoms, v_min=v_min,
                                          v_max=v_max, hidden=hidden, dueling=dueling))
        if atoms < 2 or not v_min < v_max:
            raise ValueError(f"C51 needs atoms >= 2 and v_min < v_max, got atoms={atoms}, [{v_min}, {v_max}]")
        self.num_actions, self.atoms, self.dueling = num_actions, atoms, dueling
        stream = [hidden] if hidden else []
        self.advantage_hidden, width = _hidden_stack(self.in_dim, stream)
        self.advantage = init.init_layer(nn.Linear(width, num_actions * atoms), "linear")
        if dueling:
            self.value_hidden, v_width = _hidden_stack(self.in_dim, stream)
            self.value = init.init_layer(nn.Linear(v_width, atoms), "linear")
        self.register_buffer("support", torch.linspace(v_min, v_max, atoms), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flat(x)
        lead = x.shape[:-1]
        logits = self.advantage(self.advantage_hidden(x)).view(*lead, self.num_actions, self.atoms)
        if self.dueling:
            value = self.value(self.value_hidden(x)).unsqueeze(-2)             # [B, 1, atoms]
            logits = value + logits - logits.mean(dim=-2, keepdim=True)
        return logits                                                          # [B, A, atoms]

    def probabilities(self, output: torch.Tensor) -> torch.Tensor:
        return output.softmax(dim=-1)

    def q_values(self, output: torch.Tensor) -> torch.Tensor:
        return (output.softmax(dim=-1) * self.support).sum(dim=-1)           # [B, A]


class PolicyValueOutput(NamedTuple):
    policy: torch.Tensor               # [B, A] logits
    value: torch.Tensor                # [B] in [-1, 1], from the view of the player to move
    wdl: torch.Tensor | None = None    # [B, 3] win/draw/loss logits (wdl=True), else None
    ownership: torch.Tensor | None = None  # [B, H, W] logits: tanh is the expected final owner, +1 the mover
    score: torch.Tensor | None = None      # [B, S] logits over the score bins (the mover's final lead)


@register_head("policy_value")
class PolicyValueHead(nn.Module):
    """AlphaZero's two heads. Spatial input ``(C, H, W)``:

    * policy: conv 1x1 -> ``policy_channels`` maps, BN, ReLU, linear -> ``num_actions`` logits;
    * value: conv 1x1 -> ``value_channels`` maps, BN, ReLU, linear -> ``value_hidden``, ReLU, linear -> 1, tanh
      (or -> 3 win/draw/loss logits with ``wdl=True``).

    Flat input ``(D,)``: the same without the convolutions.
    """

    def __init__(self, in_shape, num_actions: int, policy_channels: int = 2, value_channels: int = 1,
                 value_hidden: int = 256, wdl: bool = False):
        super().__init__()
        remember_config(self, "policy_value", dict(in_shape=in_shape, num_actions=num_actions,
                                                   policy_channels=policy_channels, value_channels=value_channels,
                                                   value_hidden=value_hidden, wdl=wdl))
        self.in_shape = as_shape(in_shape)
        self.num_actions, self.wdl = num_actions, wdl
        if len(self.in_shape) == 3:
            c, h, w = self.in_shape
            self.policy_conv = nn.Sequential(init.init_layer(nn.Conv2d(c, policy_channels, 1, bias=False), "relu"),
                                             init.init_norm(nn.BatchNorm2d(policy_channels)), nn.ReLU(), nn.Flatten())
            self.value_conv = nn.Sequential(init.init_layer(nn.Conv2d(c, value_channels, 1, bias=False), "relu"),
                                            init.init_norm(nn.BatchNorm2d(value_channels)), nn.ReLU(), nn.Flatten())
            policy_in, value_in = policy_channels * h * w, value_channels * h * w
        else:
            self.policy_conv = nn.Flatten() if len(self.in_shape) > 1 else nn.Identity()
            self.value_conv = nn.Flatten() if len(self.in_shape) > 1 else nn.Identity()
            policy_in = value_in = math.prod(self.in_shape)
        self.policy = init.init_layer(nn.Linear(policy_in, num_actions), "linear")
        self.value_hidden = nn.Sequential(init.init_layer(nn.Linear(value_in, value_hidden), "relu"), nn.ReLU())
        # Glorot gain 1, not tanh's 5/3: one tanh at the very end should start away from its flat ends.
        self.value = init.init_layer(nn.Linear(value_hidden, 3 if wdl else 1), "linear")

    def forward(self, x: torch.Tensor) -> PolicyValueOutput:
        logits = self.policy(self.policy_conv(x))                              # [B, A]
        v = self.value(self.value_hidden(self.value_conv(x)))                  # [B, 1] or [B, 3]
        if self.wdl:
            probs = v.float().softmax(dim=-1)
            return PolicyValueOutput(logits, probs[:, 0] - probs[:, 2], v)     # value = P(win) - P(loss)
        return PolicyValueOutput(logits, torch.tanh(v.squeeze(-1)), None)


def score_support(area: int) -> torch.Tensor:
    """The bins of ``ScoreHead``: half points ``-R + 0.5 .. R - 0.5`` with ``R = area + SCORE_EXTRA`` (KataGo's
    score belief: every margin a board of ``area`` points can end with, komi included, and some room)."""
    radius = int(area) + SCORE_EXTRA
    return torch.arange(-radius, radius, dtype=torch.float32) + 0.5


SCORE_EXTRA = 20
"""Bins of ``score_support`` beyond the board's area on each side (room for komi)."""


class OwnershipHead(nn.Module):
    """KataGo's ownership head (Wu 2019, §4.1): spatial features ``[B, C, H, W]`` -> ``[B, H, W]`` logits by a 1x1
    convolution; ``tanh`` of a logit is the expected final owner of the point, +1 for the player to move."""

    def __init__(self, in_shape):
        super().__init__()
        remember_config(self, "ownership", dict(in_shape=in_shape))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"an ownership head needs spatial features (C, H, W), got {self.in_shape}")
        self.conv = init.init_layer(nn.Conv2d(self.in_shape[0], 1, 1), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).squeeze(1)                                         # [B, H, W]


class ScoreHead(nn.Module):
    """KataGo's score belief (Wu 2019, §4.1): logits ``[B, S]`` over the mover's final lead in the half-point bins
    of ``score_support(H * W)``. Like AlphaZero's value head: conv 1x1 -> 2 maps, BN, ReLU, linear -> ``hidden``,
    ReLU, linear -> S. ``mean(logits)`` is the expected lead. (Parts of ``PolicyValueNet``, not registered heads:
    both need spatial features.)"""

    def __init__(self, in_shape, hidden: int = 256):
        super().__init__()
        remember_config(self, "score", dict(in_shape=in_shape, hidden=hidden))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"a score head needs spatial features (C, H, W), got {self.in_shape}")
        c, h, w = self.in_shape
        self.register_buffer("support", score_support(h * w), persistent=False)
        self.conv = nn.Sequential(init.init_layer(nn.Conv2d(c, 2, 1, bias=False), "relu"),
                                  init.init_norm(nn.BatchNorm2d(2)), nn.ReLU(), nn.Flatten())
        self.hidden = nn.Sequential(init.init_layer(nn.Linear(2 * h * w, hidden), "relu"), nn.ReLU())
        self.out = init.init_layer(nn.Linear(hidden, len(self.support)), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.hidden(self.conv(x)))                             # [B, S]

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return (logits.float().softmax(dim=-1) * self.support).sum(dim=-1)    # [B]


@register_head("lm")
class LMHead(nn.Module):
    """Next-token logits ``[..., vocab_size]``; ``tie(embedding)`` shares the weight with the token embedding."""

    def __init__(self, in_shape, vocab_size: int, bias: bool = False):
        super().__init__()
        remember_config(self, "lm", dict(in_shape=in_shape, vocab_size=vocab_size, bias=bias))
        self.in_dim = as_shape(in_shape)[-1]
        self.weight = nn.Parameter(torch.empty(vocab_size, self.in_dim))
        nn.init.xavier_uniform_(self.weight)
        self.bias = nn.Parameter(torch.zeros(vocab_size)) if bias else None

    def tie(self, embedding: nn.Embedding) -> LMHead:
        if embedding.weight.shape != self.weight.shape:
            raise ValueError(f"cannot tie an LM head of shape {tuple(self.weight.shape)} to an embedding of shape "
                             f"{tuple(embedding.weight.shape)}")
        self.weight = embedding.weight  # the same Parameter: one set of numbers, two uses
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)
