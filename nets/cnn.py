"""Convolutional backbones for images: the Nature-DQN network, LeNet and a plain VGG-style ConvNet.

* **Nature DQN** (Mnih et al. 2015, "Human-level control through deep reinforcement learning", Nature 518):
  4 stacked 84x84 grey frames -> conv 32 8x8 /4 -> conv 64 4x4 /2 -> conv 64 3x3 /1 -> 3136 -> FC 512, ReLU
  after each. Byte frames (``uint8``) are scaled to [0, 1] inside ``forward`` so replay memory can stay bytes.
  ``hidden=0`` stops after the convolutions (``out_shape = (3136,)``) for heads that bring their own hidden
  layers, such as the two 512-unit streams of the dueling network (Wang et al. 2016).

* **LeNet** (LeCun et al. 1998, "Gradient-based learning applied to document recognition"), the variant with
  exactly **51,902** trainable parameters. MNIST digits (28x28) are zero-padded by 2 pixels to 32x32, as in the
  paper, so the 5x5 receptive fields of the first layer can reach the strokes at the digit's edge:

  ======  ==========  ==================================  ==========  ======================
  layer   input       operation                           output      parameters
  ======  ==========  ==================================  ==========  ======================
  pad     1x28x28     zero padding 2                      1x32x32     0
  C1      1x32x32     conv 5x5, 6 maps, bias              6x28x28     6 x (25 + 1)   =    156
  S2      6x28x28     2x2 pooling, stride 2               6x14x14     0
  C2      6x14x14     conv 5x5, 16 maps, each on all 6    16x10x10    16 x (150 + 1) =  2,416
  S4      16x10x10    2x2 pooling, stride 2               16x5x5      0
  N1      400         fully connected, 120                120         120 x (400 + 1) = 48,120
  output  120         fully connected, 10 (class logits)  10          10 x (120 + 1) =  1,210
  ======  ==========  ==================================  ==========  ======================

  It differs from the paper's LeNet-5 in exactly the places the parameter count pins down: C2 sees all six C1
  maps (the paper's sparse connection table gives 1,516), the subsampling layers have no trainable
  coefficient and bias (pure pooling, 0 parameters), and the 84-unit F6 layer with the RBF output is replaced
  by one linear layer from the 120 units to 10 logits (a softmax classifier). N1 is the paper's C5: a 5x5
  convolution over a 5x5 input is a fully connected layer. ReLU and max pooling by default (``activation=
  "tanh"``, ``pool="avg"`` for the paper's flavour; neither changes a parameter count).

* **ConvNet**: the plain "modern" stack (Simonyan & Zisserman 2014, VGG, arXiv:1409.1556): stages of
  ``[conv kxk -> BatchNorm (Ioffe & Szegedy 2015) -> activation] x n``, each stage ending by halving the
  resolution with 2x2 max/avg pooling or by striding its last convolution (Springenberg et al. 2014, "Striving
  for Simplicity", arXiv:1412.6806), then optional spatial dropout. ``input_norm=False`` leaves the first
  convolution unnormalized, as the DCGAN discriminator does (Radford et al. 2015, arXiv:1511.06434).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import init
from .base import Backbone, as_shape
from .heads import ClassifierHead
from .registry import register_backbone, register_model, remember_config


def _conv_out(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@register_backbone("nature_cnn")
class NatureCNN(Backbone):
    """The Nature-DQN convolutional torso: ``[B, 4, 84, 84]`` (float or uint8) -> ``[B, hidden]``."""

    def __init__(self, in_shape: Sequence[int] = (4, 84, 84), hidden: int = 512):
        super().__init__()
        remember_config(self, "nature_cnn", dict(in_shape=in_shape, hidden=hidden))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"NatureCNN takes (channels, height, width), got {self.in_shape}")
        c, h, w = self.in_shape
        specs = [(32, 8, 4), (64, 4, 2), (64, 3, 1)]  # (maps, kernel, stride)
        layers: list[nn.Module] = []
        for maps, kernel, stride in specs:
            layers += [init.init_layer(nn.Conv2d(c, maps, kernel, stride), "relu"), nn.ReLU()]
            c, h, w = maps, _conv_out(h, kernel, stride), _conv_out(w, kernel, stride)
            if h <= 0 or w <= 0:
                raise ValueError(f"input {self.in_shape} is too small for the Nature-DQN convolutions")
        layers.append(nn.Flatten())
        flat = c * h * w
        if hidden:
            layers += [init.init_layer(nn.Linear(flat, hidden), "relu"), nn.ReLU()]
        self.layers = nn.Sequential(*layers)
        self.out_shape = (hidden or flat,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, hidden]
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        return self.layers(x)


POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


@register_backbone("lenet_features")
class LeNetFeatures(Backbone):
    """LeNet up to the 120 hidden units: ``[B, 1, 28 or 32, 28 or 32]`` -> ``[B, 120]`` (the table above)."""

    def __init__(self, in_shape: Sequence[int] = (1, 28, 28), activation: str = "relu", pool: str = "max"):
        super().__init__()
        remember_config(self, "lenet_features", dict(in_shape=in_shape, activation=activation, pool=pool))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3 or self.in_shape[1:] not in ((28, 28), (32, 32)):
            raise ValueError(f"LeNet takes (channels, 28, 28) or (channels, 32, 32) images, got {self.in_shape}")
        if pool not in POOLS:
            raise ValueError(f"unknown pooling {pool!r}; known: {', '.join(POOLS)}")
        self.pad = (32 - self.in_shape[1]) // 2
        self.c1 = init.init_layer(nn.Conv2d(self.in_shape[0], 6, 5), activation)
        self.s2 = POOLS[pool](2, 2)
        self.c2 = init.init_layer(nn.Conv2d(6, 16, 5), activation)
        self.s4 = POOLS[pool](2, 2)
        self.n1 = init.init_layer(nn.Linear(16 * 5 * 5, 120), activation)
        self.act = init.activation(activation)
        self.out_shape = (120,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad:
            x = F.pad(x, (self.pad,) * 4)                   # [B, 1, 32, 32]
        x = self.s2(self.act(self.c1(x)))                   # [B, 6, 14, 14]
        x = self.s4(self.act(self.c2(x)))                   # [B, 16, 5, 5]
        return self.act(self.n1(x.flatten(1)))              # [B, 120]


@register_model("lenet")
class LeNet(nn.Module):
    """The whole LeNet classifier (51,902 parameters with 10 classes): ``features`` then ``classifier``."""

    def __init__(self, num_classes: int = 10, in_shape: Sequence[int] = (1, 28, 28), activation: str = "relu",
                 pool: str = "max"):
        super().__init__()
        remember_config(self, "lenet", dict(num_classes=num_classes, in_shape=in_shape, activation=activation,
                                            pool=pool))
        self.features = LeNetFeatures(in_shape, activation, pool)
        self.classifier = ClassifierHead(self.features.out_shape, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, 1, 28, 28] -> logits [B, num_classes]
        return self.classifier(self.features(x))

    def layer_table(self) -> list[dict]:
        """Name, weight shape and parameter count of each trainable layer (C1, C2, N1, output)."""
        layers = [("C1", self.features.c1), ("C2", self.features.c2), ("N1", self.features.n1),
                  ("output", self.classifier.out)]
        return [{"layer": name, "weight": tuple(m.weight.shape),
                 "parameters": sum(p.numel() for p in m.parameters())} for name, m in layers]


DOWNSAMPLES = ("max", "avg", "stride", "none")


@register_backbone("convnet")
class ConvNet(Backbone):
    """Stages of same-padded convolutions, each halving the resolution: ``[B, C, H, W]`` -> ``[B, C', H', W']``.

    Args:
        in_shape: ``(channels, height, width)``.
        stages: output maps of each convolution, one list per stage (``[[32, 32], [64, 64]]``).
        kernel: odd kernel size (``padding = kernel // 2`` keeps the size inside a stage).
        norm: ``"batch"`` or ``"none"`` after each convolution.
        activation: ``relu``, ``leaky_relu``, ``gelu``, ... (also selects the initialization).
        downsample: ``"max"`` / ``"avg"`` 2x2 pooling, ``"stride"`` (the stage's last convolution strides 2: a size
            ``n`` becomes ``ceil(n / 2)``) or ``"none"``.
        dropout: spatial dropout (whole maps) after each stage.
        input_norm: normalize the very first convolution (``False``: DCGAN's discriminator).
    """

    def __init__(self, in_shape: Sequence[int] = (1, 28, 28), stages: Sequence[Sequence[int]] = ((32, 32), (64, 64)),
                 kernel: int = 3, norm: str = "batch", activation: str = "relu", downsample: str = "max",
                 dropout: float = 0.0, input_norm: bool = True):
        super().__init__()
        remember_config(self, "convnet", dict(in_shape=in_shape, stages=stages, kernel=kernel, norm=norm,
                                              activation=activation, downsample=downsample, dropout=dropout,
                                              input_norm=input_norm))
        self.in_shape = as_shape(in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"ConvNet takes (channels, height, width), got {self.in_shape}")
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd (same padding), got {kernel}")
        if norm not in ("batch", "none"):
            raise ValueError(f"unknown norm {norm!r}; known: batch, none")
        if downsample not in DOWNSAMPLES:
            raise ValueError(f"unknown downsample {downsample!r}; known: {', '.join(DOWNSAMPLES)}")
        if not stages or any(len(stage) == 0 for stage in stages):
            raise ValueError(f"every stage needs at least one convolution, got {stages}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        init.activation(activation)
        c, h, w = self.in_shape
        layers: list[nn.Module] = []
        first = True
        for stage in stages:
            for i, maps in enumerate(stage):
                stride = 2 if downsample == "stride" and i == len(stage) - 1 else 1
                normalize = norm == "batch" and (input_norm or not first)
                # A BatchNorm right after the convolution makes its bias redundant.
                layers.append(init.init_layer(nn.Conv2d(c, int(maps), kernel, stride, kernel // 2, bias=not normalize),
                                              activation))
                if normalize:
                    layers.append(init.init_norm(nn.BatchNorm2d(int(maps))))
                layers.append(init.activation(activation))
                c, first = int(maps), False
                h, w = _conv_out(h, kernel, stride, kernel // 2), _conv_out(w, kernel, stride, kernel // 2)
            if downsample in ("max", "avg"):
                layers.append(POOLS[downsample](2, 2))
                h, w = h // 2, w // 2
            if h <= 0 or w <= 0:
                raise ValueError(f"input {self.in_shape} is too small for {len(stages)} downsampling stages")
            if dropout > 0:
                layers.append(nn.Dropout2d(dropout))
        self.layers = nn.Sequential(*layers)
        self.out_shape = (c, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, C', H', W']
        return self.layers(x)
