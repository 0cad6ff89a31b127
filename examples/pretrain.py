"""Greedy layer-wise pre-training, then supervised fine-tuning of the whole stack as one ``nets`` MLP.

Hinton, Osindero & Teh 2006 (deep belief nets) and Bengio, Lamblin, Popovici & Larochelle 2007 ("Greedy
layer-wise training of deep networks"): train one unsupervised layer at a time on the codes of the layers below,
then put the layers' encoder weights into a feed-forward net (``nets.MLP`` with sigmoid units, the units the
layers were trained with), add a softmax layer and fine-tune everything by backpropagation (Hinton &
Salakhutdinov 2006, Science 313). Shared by ``examples.dbn`` (RBMs) and ``examples.sdae`` (denoising
autoencoders).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import torch
from torch import nn

import nets
from engine.cli import UserError

from . import train


def parse_sizes(text: str) -> list[int]:
    """``"500,500,2000"`` -> ``[500, 500, 2000]``."""
    try:
        sizes = [int(s) for s in str(text).replace("-", ",").split(",") if s.strip()]
    except ValueError:
        raise UserError(f"layer sizes must be comma-separated integers, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise UserError(f"layer sizes must be positive integers, got {text!r}")
    return sizes


def finetune_net(sizes: Sequence[int], in_shape=(1, 28, 28), num_classes: int = 10, dropout: float = 0.0):
    """A ``nets`` MLP with sigmoid hidden layers of ``sizes`` and a softmax classifier on top."""
    return nets.build_model({"name": "net",
                             "backbone": {"name": "mlp", "in_shape": list(in_shape), "widths": list(sizes),
                                          "activation": "sigmoid", "dropout": dropout},
                             "head": {"name": "classifier", "num_classes": num_classes}})


def hidden_layers(net) -> list[nn.Linear]:
    return [m for m in net.backbone.layers if isinstance(m, nn.Linear)]


@torch.no_grad()
def load_pretrained(net, layers: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Copy each pre-trained layer's ``(weight [H, V], hidden bias [H])`` into the MLP's linear layers."""
    linears = hidden_layers(net)
    if len(linears) != len(layers):
        raise ValueError(f"{len(layers)} pre-trained layers for an MLP with {len(linears)}")
    for linear, (weight, bias) in zip(linears, layers, strict=True):
        linear.weight.copy_(weight[:, : linear.in_features])   # a top RBM's label columns are left out
        linear.bias.copy_(bias)


@torch.no_grad()
def propagate(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 2000
              ) -> torch.Tensor:
    """``encode`` applied in batches (codes for the next layer)."""
    return torch.cat([encode(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]) if len(x) else x


def add_pretrain_args(parser: argparse.ArgumentParser, sizes: str, finetune_dropout: float = 0.0) -> None:
    group = parser.add_argument_group("greedy pre-training (defaults: the example's preset)")
    group.add_argument("--sizes", default=sizes, help="hidden layer sizes, bottom to top (default: %(default)s)")
    group.add_argument("--pretrain-epochs", type=int, default=None, help="epochs per layer")
    group.add_argument("--pretrain-lr", type=float, default=None)
    group.add_argument("--pretrain-batch-size", type=int, default=None)
    group.add_argument("--pretrain-momentum", type=float, default=None)
    group.add_argument("--pretrain-weight-decay", type=float, default=None)
    group.add_argument("--pretrain-optimizer", default=None)
    group.add_argument("--finetune-dropout", type=float, default=finetune_dropout, help="dropout after each hidden "
                       "layer while fine-tuning (Srivastava et al. 2014; default: %(default)s)")
    group.add_argument("--finetune-input-dropout", type=float, default=0.0, help="dropout of the input pixels "
                       "while fine-tuning (Srivastava et al. 2014 keep 80%%; default: %(default)s)")
    group.add_argument("--no-finetune", action="store_true", help="stop after pre-training")


def check_args(args) -> None:
    """Fine-tuning options checked before pre-training starts (not after an hour of it)."""
    for name in ("finetune_dropout", "finetune_input_dropout"):
        rate = getattr(args, name)
        if not 0.0 <= rate < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1), got {rate}")


def pretrain_config(args, preset: dict) -> train.TrainConfig:
    return train.train_config(args, preset, prefix="pretrain_")


def input_dropout(rate: float) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None:
    """Dropout of the input units as a training-batch transform: each pixel zeroed with probability ``rate``,
    the rest scaled by ``1 / (1 - rate)`` so the test-time net (no dropout) sees inputs of the same mean."""
    if rate == 0:
        return None

    def drop(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        keep = torch.rand(x.shape, generator=generator) >= rate
        return x * keep / (1.0 - rate)

    return drop


def finetune(args, net, mnist, cfg: train.TrainConfig, title: str, metadata: dict) -> dict:
    """Supervised training of the whole net on MNIST (``examples.train.fit_classifier``), with
    ``--finetune-dropout`` in the net and ``--finetune-input-dropout`` on its inputs."""
    return train.fit_classifier(net, mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels,
                                cfg, args, name="finetune", title=title, metadata=metadata,
                                augment=input_dropout(args.finetune_input_dropout))
