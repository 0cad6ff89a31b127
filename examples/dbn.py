"""Deep belief net on MNIST: ``python -m examples.dbn``.

Hinton, Osindero & Teh 2006, "A fast learning algorithm for deep belief nets" (Neural Computation 18): a stack
of RBMs (``examples.rbm``, binomial units) trained greedily, each by contrastive divergence (CD-k, CD-1 by
default) on the hidden activities of the one below, for the paper's 784-500-500-2000 architecture. The top RBM
models the 500 penultimate units *together with* the 10 label units (a softmax group), so it is a generative
model of digits and labels. It is trained by persistent contrastive divergence (PCD, Tieleman 2008) by default:
with CD-1 a Gibbs chain started at random stays in dense states far from any digit code, which CD never visits
(``--top cd`` shows it: grey blobs), while PCD's persistent chains visit such states and raise their free energy.

* **generation**: clamp a label, run alternating Gibbs sampling in the top RBM, then one top-down pass through
  the lower RBMs' generative weights gives an image (``samples.png``, one row per digit);
* **classification by the generative model**: the label whose free energy with the penultimate code is lowest;
* **fine-tuning** (Hinton & Salakhutdinov 2006): the RBM weights initialize a ``nets`` sigmoid MLP with a
  softmax layer, trained by backpropagation on the labels (the reported test accuracy), with dropout on the
  hidden units (Srivastava et al. 2014, "Dropout", JMLR 15, fine-tune pre-trained DBNs with dropout). Without
  it the net fits the training set and stops improving at about 98.3-98.5%.

Hinton et al. 2006 report 1.25% test error with their up-down fine-tuning (98.75%); backpropagation from the
same pre-training reaches about 1.2% (Hinton & Salakhutdinov 2006).
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

import nets
from engine.cli import UserError, run_main

from . import data as datasets
from . import images, pretrain, train
from . import mnist as mnist_example
from .rbm import RBM, PersistentChain, bernoulli

PRETRAIN = dict(epochs=10, batch_size=100, optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=2e-4)
"""Hinton & Salakhutdinov's rbm.m: rate 0.1, momentum 0.5 then 0.9, weight cost 0.0002, batches of 100."""
TOP_PCD = dict(lr=0.01, scheduler="linear")
"""The top RBM under PCD (Tieleman 2008): a smaller learning rate, so the persistent chains keep up with the
weights, decaying linearly to zero, so they end close to the model's equilibrium."""
FINETUNE = dict(epochs=60, batch_size=100, optimizer="sgd", lr=0.1, momentum=0.9, scheduler="cosine")
FINETUNE_DROPOUT = 0.2
LABELS = 10


class DBN(nn.Module):
    """The stack of RBMs (the top one with the label units)."""

    def __init__(self, sizes: list[int], visible: int = 784, label_top: bool = True):
        super().__init__()
        dims = [visible, *sizes]
        self.rbms = nn.ModuleList([RBM(dims[i] + (LABELS if label_top and i == len(sizes) - 1 else 0), dims[i + 1],
                                       label_units=LABELS if label_top and i == len(sizes) - 1 else 0)
                                   for i in range(len(sizes))])

    @torch.no_grad()
    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """Mean-field bottom-up pass to the top RBM's (non-label) visible units."""
        for rbm in self.rbms[:-1]:
            x = rbm.hidden_prob(x)
        return x

    @torch.no_grad()
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """The label of lowest free energy in the top RBM, given the penultimate code (Hinton et al. 2006)."""
        top = self.rbms[-1]
        code = self.penultimate(x)
        energies = []
        for label in range(LABELS):
            onehot = F.one_hot(torch.full((len(x),), label), LABELS).to(code.dtype)
            energies.append(top.free_energy(torch.cat([code, onehot], dim=1)))
        return torch.stack(energies, dim=1).argmin(dim=1)

    @torch.no_grad()
    def generate(self, labels: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images [N, V] for ``labels`` [N]: Gibbs sampling in the top RBM with the label clamped, then a
        top-down pass through the lower RBMs' generative weights (probabilities, as Hinton et al. show them)."""
        top = self.rbms[-1]
        n, width = len(labels), top.visible - LABELS
        start = torch.cat([bernoulli(torch.full((n, width), 0.5), generator),
                           F.one_hot(labels, LABELS).float()], dim=1)
        clamp = torch.zeros_like(start, dtype=torch.bool)
        clamp[:, width:] = True
        p = top.gibbs(start, steps, generator, clamp=clamp)[:, :width]
        for rbm in reversed(self.rbms[:-1]):
            p = rbm.visible_prob(p)
        return p


def train_rbm(rbm: RBM, inputs: torch.Tensor, held_out: torch.Tensor, cfg: train.TrainConfig, args, index: int,
              persistent: PersistentChain | None = None) -> dict:
    """CD-k on ``inputs`` [N, V] (probabilities; ``--propagate sample`` draws binary states from them), or PCD-k
    with the ``persistent`` chains."""
    order = torch.Generator().manual_seed(args.seed + 100 * index)
    chain = torch.Generator(device=inputs.device).manual_seed(args.seed + 100 * index + 1)
    steps = math.ceil(len(inputs) / cfg.batch_size)
    trainer = train.Trainer(rbm, cfg, steps_per_epoch=steps, run_dir=args.run_dir, name=f"rbm{index}",
                            generators={"order": order, "chain": chain},
                            states={"persistent": persistent} if persistent is not None else None,
                            progress=not args.no_progress,
                            quiet=args.quiet, title=f"dbn rbm{index} {rbm.visible}x{rbm.hidden}",
                            metadata={"example": "dbn", "layer": index}, run_clock=args.run_clock)
    probe = inputs[:1000]

    def batches(epoch: int):
        # Momentum 0.5 for the first epochs, while the weights are still changing fast (Hinton 2010, sec. 9).
        for group in trainer.optimizer.param_groups:
            group["momentum"] = args.initial_momentum if epoch < args.momentum_switch else cfg.momentum
        for idx in datasets.batches(len(inputs), cfg.batch_size, order):
            yield inputs[idx.to(inputs.device)]

    def step(x):
        if args.propagate == "sample":
            x = bernoulli(x, chain)
        if persistent is not None:
            out = persistent.gradients(rbm, x, args.cd_k, chain, mean_field=args.mean_field)
        else:
            out = rbm.cd_gradients(x, args.cd_k, chain, mean_field=args.mean_field)
        # PCD's chains are not reconstructions of the batch: its reconstruction error is the evaluation's
        return {} if out["reconstruction_error"] is None else {"recon_error": out["reconstruction_error"]}

    def evaluate():
        # Free energy of training vs held-out data: a gap that keeps growing is overfitting (Hinton 2010, sec. 6);
        # the persistent chains' free energy near the data's says they sample where the data is.
        out = {"free_energy_train": float(rbm.free_energy(probe).mean()),
               "free_energy_held_out": float(rbm.free_energy(held_out).mean()),
               "recon_error": float((probe - rbm.visible_prob(rbm.hidden_prob(probe))).pow(2).sum(1).mean())}
        if persistent is not None and persistent.state is not None:
            out["free_energy_chains"] = float(rbm.free_energy(persistent.state).mean())
        return out

    return trainer.fit(batches, step, evaluate, resume=args.resume)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examples.dbn", description=__doc__.split("\n")[0])
    pretrain.add_pretrain_args(p, "500,500,2000", FINETUNE_DROPOUT)
    p.add_argument("--cd-k", type=int, default=1, help="Gibbs steps of contrastive divergence (default: CD-1)")
    p.add_argument("--mean-field", action="store_true",
                   help="probabilities instead of samples for h1 and the reconstruction in the CD statistics")
    p.add_argument("--propagate", choices=["mean", "sample"], default="mean",
                   help="train each RBM on the probabilities of the layer below, or on binary samples of them")
    p.add_argument("--top", choices=["pcd", "cd"], default="pcd",
                   help="negative phase of the top (label) RBM: pcd, persistent chains (Tieleman 2008), so Gibbs "
                   "sampling from a random start reaches digits; cd, chains restarted at the data (default: "
                   "%(default)s)")
    p.add_argument("--pcd-chains", type=int, default=None,
                   help="persistent chains of --top pcd (default: the pre-training batch size)")
    p.add_argument("--top-lr", type=float, default=None,
                   help="learning rate of the top RBM (default: --pretrain-lr for cd; for pcd TOP_PCD's, "
                   f"{TOP_PCD['lr']}, decaying linearly to 0)")
    p.add_argument("--initial-momentum", type=float, default=0.5)
    p.add_argument("--momentum-switch", type=int, default=5, help="epoch from which --pretrain-momentum applies")
    p.add_argument("--no-labels", action="store_true", help="top RBM without label units (no generation)")
    p.add_argument("--gibbs-steps", type=int, default=1000, help="Gibbs steps at the top per generated digit")
    p.add_argument("--samples-per-digit", type=int, default=10, help="generated samples of each digit (0: none)")
    mnist_example.add_data_args(p)
    train.add_train_args(p, "dbn")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    clock = train.setup(args)
    if args.cd_k < 1:
        raise UserError(f"--cd-k must be >= 1, got {args.cd_k}")
    if args.pcd_chains is not None and args.pcd_chains < 1:
        raise UserError(f"--pcd-chains must be >= 1, got {args.pcd_chains}")
    pretrain.check_args(args)
    sizes = pretrain.parse_sizes(args.sizes)
    pre_cfg = pretrain.pretrain_config(args, PRETRAIN)
    top_cfg = dataclasses.replace(pre_cfg, **(TOP_PCD if args.top == "pcd" else {}))
    if args.top_lr is not None:
        top_cfg.lr = args.top_lr
    top_cfg.validate()
    fine_cfg = train.train_config(args, FINETUNE)
    data = mnist_example.load(args)
    x = data.train_images.flatten(1).to(args.device)
    held_out = data.test_images.flatten(1)[:1000].to(args.device)
    dbn = DBN(sizes, x.shape[1], label_top=not args.no_labels).to(args.device)
    layers_result = []
    inputs = x
    for i, rbm in enumerate(dbn.rbms, start=1):
        top = i == len(dbn.rbms)
        if rbm.label_units:
            labels = F.one_hot(data.train_labels, LABELS).float().to(args.device)
            inputs = torch.cat([inputs, labels], dim=1)
            held_out = torch.cat([held_out, F.one_hot(data.test_labels[:len(held_out)], LABELS).float().to(
                args.device)], dim=1)
        persistent = PersistentChain(args.pcd_chains or pre_cfg.batch_size) if top and args.top == "pcd" else None
        result = train_rbm(rbm, inputs, held_out, top_cfg if top else pre_cfg, args, i, persistent)
        layers_result.append({"layer": i, "shape": [rbm.visible, rbm.hidden], "negative": "pcd" if persistent
                              else "cd", "lr": (top_cfg if top else pre_cfg).lr, **result["final"]})
        if not top:
            inputs, held_out = pretrain.propagate(rbm.hidden_prob, inputs), pretrain.propagate(rbm.hidden_prob,
                                                                                              held_out)
    dbn.cpu()                    # classification by free energy and generation: cheap, and on CPU generators
    out = {"example": "dbn", "sizes": sizes, "pretrain": layers_result, "pretrain_config": pre_cfg.__dict__,
           "top": args.top}
    if not args.no_labels:
        generative = (dbn.classify(data.test_images.flatten(1)) == data.test_labels).float().mean().item()
        out["generative_test_accuracy"] = generative
        if args.samples_per_digit > 0:
            gen = torch.Generator().manual_seed(args.seed + 7)
            digits = torch.arange(LABELS).repeat_interleave(args.samples_per_digit)
            pictures = dbn.generate(digits, args.gibbs_steps, gen).view(-1, 28, 28)
            out["samples"] = str(images.save_grid(
                pictures, f"{args.run_dir}/samples.png", rows=LABELS, row_labels=[str(d) for d in range(LABELS)],
                title=f"DBN samples, {args.gibbs_steps} Gibbs steps at the top"))
    net = pretrain.finetune_net(sizes, dropout=args.finetune_dropout)
    pretrain.load_pretrained(net, [(rbm.weight, rbm.hidden_bias) for rbm in dbn.rbms])
    shape = "-".join(map(str, [x.shape[1], *sizes, LABELS]))
    if args.no_finetune:
        acc = None
        summary = f"dbn {shape} pre-trained only"
        out.update(epochs=0)
    else:
        result = pretrain.finetune(args, net, data, fine_cfg, f"dbn finetune {shape}",
                                   {"example": "dbn", "sizes": sizes})
        acc = result["test_accuracy"]
        out.update(epochs=result["epochs"], finetune_config=fine_cfg.__dict__, checkpoint=result["checkpoint"])
        summary = f"dbn {shape} fine-tuned test accuracy {100 * acc:.2f}% (error {100 * (1 - acc):.2f}%)"
    if "generative_test_accuracy" in out:
        summary += (f"; top-RBM free-energy classification before fine-tuning "
                    f"{100 * out['generative_test_accuracy']:.2f}%")
    out.update(test_accuracy=acc, parameters=nets.num_parameters(net),
               command=train.command_line("examples.dbn", argv))
    train.finish(args, clock, out, summary + f"; pre-training {pre_cfg.epochs} epochs per RBM, fine-tuning")
    return 0


if __name__ == "__main__":
    run_main(main)
