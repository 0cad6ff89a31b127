"""``Net``: any registered backbone with any registered head, from one configuration.

    net = build_model({"name": "net",
                       "backbone": {"name": "nature_cnn", "in_shape": [4, 84, 84], "hidden": 0},
                       "head": {"name": "dueling_q", "num_actions": 6, "hidden": 512}})

The head is built with ``in_shape=backbone.out_shape`` (the Stable-Baselines3 ``features_dim`` contract), so
the head configuration never repeats the backbone's size. A recurrent backbone carries its state:
``forward(x, state) -> (head output, state)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from .registry import make_backbone, make_head, register_model


@register_model("net")
class Net(nn.Module):
    """``head(backbone(x))``; ``config`` rebuilds it (``build_model(net.config)``)."""

    def __init__(self, backbone: Mapping | str, head: Mapping | str):
        super().__init__()
        self.backbone = make_backbone(backbone)
        self.head = make_head(head, self.backbone.out_shape)
        self.is_recurrent = bool(getattr(self.backbone, "is_recurrent", False))
        head_config = {k: v for k, v in self.head.config.items() if k != "in_shape"}
        self.config = {"name": "net", "backbone": self.backbone.config, "head": head_config}

    def forward(self, x: torch.Tensor, state=None):
        if self.is_recurrent:
            features, state = self.backbone(x, state)
            return self.head(features), state
        return self.head(self.backbone(x))

    def q_values(self, x: torch.Tensor) -> torch.Tensor:
        """Q-values ``[B, A]`` for Q-type heads (``q``, ``dueling_q``, ``c51``: the expected return)."""
        if not hasattr(self.head, "q_values"):
            raise TypeError(f"head {self.head.config['name']!r} does not predict Q-values")
        return self.head.q_values(self(x))
