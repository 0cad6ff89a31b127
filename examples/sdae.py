"""Stacked denoising autoencoders on MNIST: ``python -m examples.sdae``.

Vincent, Larochelle, Lajoie, Bengio & Manzagol 2010, "Stacked Denoising Autoencoders: Learning Useful
Representations in a Deep Network with a Local Denoising Criterion" (JMLR 11). Each layer is an autoencoder
with sigmoid units and tied weights,

    h = sigm(W x~ + c),    z = sigm(W' h + b),    loss = -sum_j x_j log z_j + (1 - x_j) log(1 - z_j),

trained to reconstruct its *clean* input ``x`` from a corrupted copy ``x~`` (masking noise: a fraction ``nu`` of
the inputs, chosen at random, set to 0). Layers are trained greedily, each on the clean codes of the one below;
then the encoders initialize a ``nets`` sigmoid MLP with a softmax layer that is fine-tuned by backpropagation
(``examples.pretrain``), with dropout on the hidden units (Srivastava et al. 2014): without it the net fits the
training set and stops improving at about 98.4-98.6%. The paper's SDAE-3 (three layers of 1,000, nu = 0.25 on
MNIST) has 1.28% test error.
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

import nets
from engine.cli import UserError, run_main

from . import data as datasets
from . import mnist as mnist_example
from . import pretrain, train

PRETRAIN = dict(epochs=15, batch_size=64, optimizer="sgd", lr=0.1, momentum=0.9)
FINETUNE = dict(epochs=60, batch_size=100, optimizer="sgd", lr=0.1, momentum=0.9, scheduler="cosine")
FINETUNE_DROPOUT = 0.2


class DenoisingAutoencoder(nn.Module):
    """Sigmoid encoder ``h = sigm(W x + c)`` and tied decoder ``z = sigm(W' h + b)``, weight ``W`` [H, V]."""

    def __init__(self, visible: int, hidden: int):
        super().__init__()
        # Glorot & Bengio's uniform range times 4 for sigmoid units (the paper's code).
        bound = 4 * math.sqrt(6.0 / (visible + hidden))
        self.weight = nn.Parameter(torch.empty(hidden, visible).uniform_(-bound, bound))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))      # c
        self.visible_bias = nn.Parameter(torch.zeros(visible))    # b

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(F.linear(x, self.weight, self.hidden_bias))

    def decode_logits(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.weight + self.visible_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode_logits(self.encode(x)))

    def reconstruction_loss(self, x: torch.Tensor, corrupted: torch.Tensor | None = None) -> torch.Tensor:
        """Cross-entropy of the clean ``x`` under the reconstruction of ``corrupted`` (summed over units,
        averaged over the batch); with ``corrupted=None`` the plain autoencoder's reconstruction error."""
        logits = self.decode_logits(self.encode(x if corrupted is None else corrupted))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


def mask(x: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Masking noise: each input set to 0 with probability ``fraction``."""
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= fraction
    return x * keep


def train_layer(dae: DenoisingAutoencoder, inputs: torch.Tensor, held_out: torch.Tensor, cfg: train.TrainConfig,
                args, index: int) -> dict:
    order = torch.Generator().manual_seed(args.seed + 100 * index)
    noise = torch.Generator(device=inputs.device).manual_seed(args.seed + 100 * index + 1)
    steps = math.ceil(len(inputs) / cfg.batch_size)
    trainer = train.Trainer(dae, cfg, steps_per_epoch=steps, run_dir=args.run_dir, name=f"dae{index}",
                            generators={"order": order, "noise": noise}, progress=not args.no_progress,
                            quiet=args.quiet, title=f"sdae layer{index} {dae.weight.shape[1]}x{dae.weight.shape[0]}",
                            metadata={"example": "sdae", "layer": index}, run_clock=args.run_clock)

    def batches(epoch: int):
        for idx in datasets.batches(len(inputs), cfg.batch_size, order):
            yield inputs[idx.to(inputs.device)]

    def step(x):
        return {"loss": dae.reconstruction_loss(x, mask(x, args.noise, noise))}

    def evaluate():
        fixed = torch.Generator(device=held_out.device).manual_seed(1)     # the same corruption every epoch
        return {"held_out_denoising": float(dae.reconstruction_loss(held_out, mask(held_out, args.noise, fixed))),
                "held_out_reconstruction": float(dae.reconstruction_loss(held_out))}

    return trainer.fit(batches, step, evaluate, resume=args.resume)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examples.sdae", description=__doc__.split("\n")[0])
    pretrain.add_pretrain_args(p, "1000,1000,1000", FINETUNE_DROPOUT)
    p.add_argument("--noise", type=float, default=0.25, help="masking noise: fraction of inputs zeroed")
    mnist_example.add_data_args(p)
    train.add_train_args(p, "sdae")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    clock = train.setup(args)
    if not 0.0 <= args.noise < 1.0:
        raise UserError(f"--noise must be in [0, 1), got {args.noise}")
    pretrain.check_args(args)
    sizes = pretrain.parse_sizes(args.sizes)
    pre_cfg = pretrain.pretrain_config(args, PRETRAIN)
    fine_cfg = train.train_config(args, FINETUNE)
    data = mnist_example.load(args)
    inputs = data.train_images.flatten(1).to(args.device)
    held_out = data.test_images.flatten(1)[:1000].to(args.device)
    dims = [inputs.shape[1], *sizes]
    layers, layers_result = [], []
    for i in range(len(sizes)):
        dae = DenoisingAutoencoder(dims[i], dims[i + 1]).to(args.device)
        result = train_layer(dae, inputs, held_out, pre_cfg, args, i + 1)
        layers_result.append({"layer": i + 1, "shape": [dims[i], dims[i + 1]], **result["final"]})
        layers.append(dae)
        if i < len(sizes) - 1:
            inputs, held_out = pretrain.propagate(dae.encode, inputs), pretrain.propagate(dae.encode, held_out)
    net = pretrain.finetune_net(sizes, dropout=args.finetune_dropout)
    pretrain.load_pretrained(net, [(dae.weight, dae.hidden_bias) for dae in layers])
    shape = "-".join(map(str, [dims[0], *sizes, 10]))
    out = {"example": "sdae", "sizes": sizes, "noise": args.noise, "pretrain": layers_result,
           "pretrain_config": pre_cfg.__dict__}
    if args.no_finetune:
        acc, summary = None, f"sdae {shape} pre-trained only"
        out.update(epochs=0)
    else:
        result = pretrain.finetune(args, net, data, fine_cfg, f"sdae finetune {shape}",
                                   {"example": "sdae", "sizes": sizes})
        acc = result["test_accuracy"]
        out.update(epochs=result["epochs"], finetune_config=fine_cfg.__dict__, checkpoint=result["checkpoint"])
        summary = f"sdae {shape} fine-tuned test accuracy {100 * acc:.2f}% (error {100 * (1 - acc):.2f}%)"
    out.update(test_accuracy=acc, parameters=nets.num_parameters(net),
               command=train.command_line("examples.sdae", argv))
    train.finish(args, clock, out, summary + f"; masking noise {args.noise}, pre-training {pre_cfg.epochs} "
                 f"epochs per layer, fine-tuning")
    return 0


if __name__ == "__main__":
    run_main(main)
