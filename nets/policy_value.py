"""The AlphaZero network: a trunk (ResNet tower or board transformer) with policy and value heads.

Silver et al. 2017, "Mastering the game of Go without human knowledge" (Nature 550, "Methods": the residual
tower and the two heads) and 2018, "A general reinforcement learning algorithm that masters chess, shogi, and
Go through self-play" (Science 362). ``forward(planes[B, C, H, W]) -> (logits[B, A], value[B])``: policy logits
over the game's whole action space (the search masks illegal moves) and the value in [-1, 1] for the player to
move (the planes are encoded from the mover's view). Optional KataGo heads (Wu 2019, arXiv:1902.10565, §4.1) for
auxiliary losses: ``ownership`` (the final owner of each point) and ``score`` (the final margin), returned by
``forward_all``; off by default, so a net without them has the same parameters as before they existed.

    net = PolicyValueNet((17, 9, 9), 82, blocks=6, channels=64)
    net = PolicyValueNet.from_config((17, 9, 9), 82, PolicyValueConfig(trunk="transformer", blocks=4))
    net = build_model(net.config)                     # the same architecture, e.g. from a checkpoint
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from .base import Backbone, as_shape
from .heads import OwnershipHead, PolicyValueHead, PolicyValueOutput, ScoreHead
from .registry import NetConfigError, register_model, remember_config
from .resnet import ResNetTower
from .transformer import POSITIONS, BoardTransformer


@dataclasses.dataclass
class PolicyValueConfig:
    """The architecture of an AlphaZero network (the game supplies ``plane_shape`` and ``num_actions``)."""

    trunk: str = "resnet"
    """``resnet`` (AlphaZero's residual tower) or ``transformer`` (board encoder, one token per square)."""
    blocks: int = 6
    """Residual blocks (ResNet) or transformer layers."""
    channels: int = 64
    """Maps per convolution (ResNet) or the model width (transformer)."""
    se_ratio: int = 0
    """ResNet: squeeze-excitation bottleneck channels // se_ratio (0 = off)."""
    global_pool_channels: int = 0
    """ResNet: maps pooled for KataGo's global pooling bias (0 = off)."""
    global_pool_every: int = 2
    """ResNet: the global pooling bias sits in every such block."""
    attention_heads: int = 4
    """Transformer: attention heads (channels must be divisible by it)."""
    positions: str = "learned"
    """Transformer: ``learned`` or ``sinusoidal`` square positions."""
    policy_channels: int = 2
    """1x1-convolution maps of the policy head (AlphaZero: 2)."""
    value_channels: int = 1
    """1x1-convolution maps of the value head (AlphaZero: 1)."""
    value_hidden: int = 256
    """Hidden units of the value head (AlphaZero: 256)."""
    wdl: bool = False
    """Predict win/draw/loss probabilities; the value is then P(win) - P(loss)."""
    ownership: bool = False
    """KataGo's ownership head: the final owner of each point, for an auxiliary loss (games with ownership: Go)."""
    score: bool = False
    """KataGo's score head: the final score margin as a distribution over half-point bins, and its mean."""

    def validate(self) -> None:
        if self.trunk not in TRUNKS:
            raise NetConfigError(f"unknown trunk {self.trunk!r}; known: {', '.join(TRUNKS)}")
        if self.blocks < 0 or self.channels < 1:
            raise NetConfigError(f"blocks must be >= 0 and channels >= 1, got {self.blocks} and {self.channels}")
        if self.trunk == "transformer" and self.channels % self.attention_heads:
            raise NetConfigError(f"channels {self.channels} is not divisible by attention_heads {self.attention_heads}")
        if self.positions not in POSITIONS:
            raise NetConfigError(f"unknown positions {self.positions!r}; known: {', '.join(POSITIONS)}")


def _resnet(plane_shape: tuple[int, ...], cfg: PolicyValueConfig) -> Backbone:
    return ResNetTower(plane_shape, cfg.blocks, cfg.channels, cfg.se_ratio, cfg.global_pool_channels,
                       cfg.global_pool_every)


def _transformer(plane_shape: tuple[int, ...], cfg: PolicyValueConfig) -> Backbone:
    return BoardTransformer(plane_shape, dim=cfg.channels, depth=cfg.blocks, heads=cfg.attention_heads,
                            positions=cfg.positions)


TRUNKS: dict[str, Callable[[tuple[int, ...], PolicyValueConfig], Backbone]] = {
    "resnet": _resnet,
    "transformer": _transformer,
}
"""Trunk name -> builder from ``(plane_shape, config)``."""


@register_model("policy_value")
class PolicyValueNet(nn.Module):
    """AlphaZero's network. ``forward(x[B, C, H, W]) -> (logits[B, A], value[B])``.

    Keyword arguments are the fields of ``PolicyValueConfig``; ``forward_all`` also returns the win/draw/loss
    logits (``PolicyValueOutput``) for training with ``wdl=True``.
    """

    def __init__(self, plane_shape: Sequence[int], num_actions: int, trunk: str = "resnet", blocks: int = 6,
                 channels: int = 64, se_ratio: int = 0, global_pool_channels: int = 0, global_pool_every: int = 2,
                 attention_heads: int = 4, positions: str = "learned", policy_channels: int = 2,
                 value_channels: int = 1, value_hidden: int = 256, wdl: bool = False, ownership: bool = False,
                 score: bool = False):
        super().__init__()
        cfg = PolicyValueConfig(trunk, blocks, channels, se_ratio, global_pool_channels, global_pool_every,
                                attention_heads, positions, policy_channels, value_channels, value_hidden, wdl,
                                ownership, score)
        cfg.validate()
        remember_config(self, "policy_value", dict(plane_shape=plane_shape, num_actions=num_actions,
                                                   **dataclasses.asdict(cfg)))
        self.plane_shape = as_shape(plane_shape)
        if len(self.plane_shape) != 3:
            raise NetConfigError(f"plane_shape must be (channels, height, width), got {self.plane_shape}")
        if num_actions < 1:
            raise NetConfigError(f"num_actions must be >= 1, got {num_actions}")
        self.num_actions = int(num_actions)
        self.arch = cfg
        self.trunk = TRUNKS[trunk](self.plane_shape, cfg)
        self.head = PolicyValueHead(self.trunk.out_shape, num_actions, policy_channels, value_channels, value_hidden,
                                    wdl)
        # absent (not merely unused) when off: the state dict of a net without them is unchanged
        if ownership:
            self.ownership_head = OwnershipHead(self.trunk.out_shape)
        if score:
            self.score_head = ScoreHead(self.trunk.out_shape, value_hidden)

    @classmethod
    def from_config(cls, plane_shape: Sequence[int], num_actions: int,
                    config: PolicyValueConfig | Mapping | None = None) -> PolicyValueNet:
        if config is None:
            config = PolicyValueConfig()
        if dataclasses.is_dataclass(config):
            config = dataclasses.asdict(config)
        valid = {f.name for f in dataclasses.fields(PolicyValueConfig)}
        unknown = sorted(set(config) - valid)
        if unknown:
            raise NetConfigError(f"unknown network option {unknown[0]!r}; valid: {', '.join(sorted(valid))}")
        return cls(plane_shape, num_actions, **config)

    def forward_all(self, x: torch.Tensor) -> PolicyValueOutput:
        features = self.trunk(x)
        out = self.head(features)
        if self.arch.ownership:
            out = out._replace(ownership=self.ownership_head(features))
        if self.arch.score:
            out = out._replace(score=self.score_head(features))
        return out

    def score_mean(self, score_logits: torch.Tensor) -> torch.Tensor:
        """The expected final lead ``[B]`` of the mover from ``forward_all(x).score``."""
        return self.score_head.mean(score_logits)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.trunk(x))
        return out.policy, out.value
