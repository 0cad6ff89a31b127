"""Residual tower for board games (AlphaZero).

He et al. 2016, "Deep Residual Learning for Image Recognition" (arXiv:1512.03385); the tower of AlphaGo Zero
(Silver et al. 2017, Nature 550, "Methods"): a 3x3 convolution + BatchNorm + ReLU stem, then ``blocks``
residual blocks ``x -> ReLU(x + BN(conv(ReLU(BN(conv(x))))))``, all with ``channels`` maps, board size kept.

Two optional additions from the strongest open programs:

* **Squeeze-and-excitation** (Hu et al. 2018, arXiv:1709.01507), in the Leela Chess Zero form: the block's
  output is pooled per channel, passed through a bottleneck of ``channels // se_ratio`` units and turned into
  a per-channel scale ``sigmoid(gamma)`` *and* shift ``beta``, applied before the skip connection.
* **Global pooling bias** (Wu 2019, "Accelerating Self-Play Learning in Go", KataGo, arXiv:1902.10565): in
  every ``global_pool_every``-th block the first convolution's last ``global_pool_channels`` maps are
  BN+ReLU'd, pooled over the board (mean and max) and mapped by a linear layer to a bias for each remaining
  map; a convolution thus sees the whole board at once (ko fights, life and death far away). KataGo's third
  pooled feature, the mean scaled by board size, is left out: it only matters when one net plays several board
  sizes with masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import init
from .base import Backbone, as_shape
from .registry import register_backbone, remember_config


def conv3x3(cin: int, cout: int) -> nn.Conv2d:
    # No bias: the BatchNorm after it has one.
    return init.init_layer(nn.Conv2d(cin, cout, 3, padding=1, bias=False), "relu")


class SqueezeExcitation(nn.Module):
    """``x * sigmoid(gamma) + beta``, with ``gamma, beta`` [B, C] from the board-pooled ``x`` (Lc0 variant)."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.fc1 = init.init_layer(nn.Linear(channels, hidden), "relu")
        self.fc2 = init.init_layer(nn.Linear(hidden, 2 * channels), "linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:            # [B, C, H, W]
        squeezed = torch.relu(self.fc1(x.mean(dim=(2, 3))))         # [B, hidden]
        gamma, beta = self.fc2(squeezed).chunk(2, dim=1)            # [B, C] each
        return x * torch.sigmoid(gamma)[:, :, None, None] + beta[:, :, None, None]


class GlobalPoolingBias(nn.Module):
    """KataGo's global pooling: pooled maps ``g`` [B, G, H, W] -> a bias for each map of ``x`` [B, C-G, H, W]."""

    def __init__(self, pooled: int, biased: int):
        super().__init__()
        self.norm = init.init_norm(nn.BatchNorm2d(pooled))
        self.fc = init.init_layer(nn.Linear(2 * pooled, biased), "linear")

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        g = torch.relu(self.norm(g))
        pooled = torch.cat([g.mean(dim=(2, 3)), g.amax(dim=(2, 3))], dim=1)  # [B, 2G]
        return x + self.fc(pooled)[:, :, None, None]


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with a skip; optional squeeze-excitation and global pooling bias."""

    def __init__(self, channels: int, se_hidden: int = 0, global_pool: int = 0):
        super().__init__()
        self.global_pool = global_pool
        mid = channels - global_pool  # maps that reach the second convolution
        self.conv1 = conv3x3(channels, channels)
        self.pool_bias = GlobalPoolingBias(global_pool, mid) if global_pool else None
        self.bn1 = init.init_norm(nn.BatchNorm2d(mid))
        self.conv2 = conv3x3(mid, channels)
        self.bn2 = init.init_norm(nn.BatchNorm2d(channels))
        self.se = SqueezeExcitation(channels, se_hidden) if se_hidden else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:            # [B, C, H, W] -> [B, C, H, W]
        y = self.conv1(x)
        if self.pool_bias is not None:
            y = self.pool_bias(y[:, :-self.global_pool], y[:, -self.global_pool:])
        y = self.bn2(self.conv2(torch.relu(self.bn1(y))))
        if self.se is not None:
            y = self.se(y)
        return torch.relu(x + y)


@register_backbone("resnet")
class ResNetTower(Backbone):
    """``[B, C_in, H, W]`` -> ``[B, channels, H, W]``; ``out_shape = (channels, H, W)``.

    Args:
        in_shape: input planes ``(C_in, H, W)``.
        blocks: number of residual blocks (AlphaGo Zero: 19 or 39; 6 to 10 for small boards).
        channels: maps per convolution (AlphaGo Zero: 256).
        se_ratio: squeeze-excitation bottleneck ``channels // se_ratio`` (0 = off; Lc0 uses 4 to 8).
        global_pool_channels: maps pooled for the global bias (0 = off; KataGo: about a fifth of channels).
        global_pool_every: the global pooling bias goes in blocks ``every-1, 2*every-1, ...``.
    """

    def __init__(self, in_shape: Sequence[int], blocks: int = 6, channels: int = 64, se_ratio: int = 0,
                 global_pool_channels: int = 0, global_pool_every: int = 2):
        super().__init__()
        remember_config(self, "resnet", dict(in_shape=in_shape, blocks=blocks, channels=channels, se_ratio=se_ratio,
                                             global_pool_channels=global_pool_channels,
                                             global_pool_every=global_pool_every))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"a ResNet tower takes planes (channels, height, width), got {self.in_shape}")
        if blocks < 0 or channels <= 0:
            raise ValueError(f"blocks must be >= 0 and channels > 0, got blocks={blocks}, channels={channels}")
        if se_ratio < 0 or (se_ratio and channels // se_ratio < 1):
            raise ValueError(f"se_ratio {se_ratio} leaves no squeeze-excitation units for {channels} channels")
        if not 0 <= global_pool_channels < channels:
            raise ValueError(f"global_pool_channels must be in [0, channels), got {global_pool_channels}")
        if global_pool_every < 1:
            raise ValueError(f"global_pool_every must be >= 1, got {global_pool_every}")
        self.stem = nn.Sequential(conv3x3(self.in_shape[0], channels), init.init_norm(nn.BatchNorm2d(channels)),
                                  nn.ReLU())
        se_hidden = channels // se_ratio if se_ratio else 0
        self.blocks = nn.Sequential(*[
            ResidualBlock(channels, se_hidden, global_pool_channels if (i + 1) % global_pool_every == 0 else 0)
            for i in range(blocks)])
        self.out_shape = (channels, *self.in_shape[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))
