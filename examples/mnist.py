"""MNIST digit classification: ``python -m examples.mnist --model mlp|lenet|cnn``.

Three classic points on the MNIST table (LeCun et al. 1998, "Gradient-based learning applied to document
recognition"; error rates at http://yann.lecun.com/exdb/mnist/), all from ``nets``:

* ``mlp``: one hidden layer of 200 rectified units and a softmax, the classic fully connected baseline
  (``nets.MLP`` + ``nets.ClassifierHead``): about 98% test accuracy.
* ``lenet``: ``nets.LeNet`` (51,902 parameters; LeCun et al. 1998): about 99%.
* ``cnn``: a modern convolutional net, ``nets.ConvNet`` (3x3 convolutions, BatchNorm: Ioffe & Szegedy 2015,
  spatial dropout) with a dropout classifier (Srivastava et al. 2014), trained on randomly shifted, rotated and
  scaled digits (Simard et al. 2003, "Best practices for convolutional neural networks"): 99.5% and more.

Each model has a preset of optimization settings (``PRESETS``); any ``--lr``, ``--epochs`` ... overrides it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import nets
from engine.cli import run_main

from . import data, train


@dataclass(frozen=True)
class Preset:
    """How to build one model and train it."""

    build: Callable[[argparse.Namespace], object]
    train: dict = field(default_factory=dict)
    augment: dict | None = None
    """random_affine arguments, or None for no augmentation"""
    help: str = ""


def build_mlp(args) -> object:
    return nets.build_model({"name": "net",
                             "backbone": {"name": "mlp", "in_shape": [1, 28, 28], "widths": [args.hidden]},
                             "head": {"name": "classifier", "num_classes": 10}})


def build_lenet(args) -> object:
    return nets.build_model({"name": "lenet"})


def build_cnn(args) -> object:
    return nets.build_model({"name": "net",
                             "backbone": {"name": "convnet", "in_shape": [1, 28, 28],
                                          "stages": [[32], [64, 64]], "dropout": 0.1},
                             "head": {"name": "classifier", "num_classes": 10, "hidden": [256], "dropout": 0.4}})


PRESETS = {
    "mlp": Preset(build_mlp, dict(epochs=30, batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9,
                                  weight_decay=1e-4, scheduler="cosine"),
                  help="784-200-10 rectifier MLP"),
    "lenet": Preset(build_lenet, dict(epochs=20, batch_size=128, optimizer="adam", lr=2e-3, scheduler="cosine",
                                      weight_decay=1e-4),
                    help="LeNet (51,902 parameters)"),
    "cnn": Preset(build_cnn, dict(epochs=15, batch_size=128, optimizer="adam", lr=2e-3, scheduler="cosine",
                                  warmup=0.02, weight_decay=1e-4),
                  augment=dict(shift=2.5, rotate=10.0, scale=0.1),
                  help="ConvNet [[32],[64,64]] + BatchNorm + dropout + random affine augmentation"),
}


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None,
                        help="folder with the four MNIST IDX files (default: ../shared/data/mnist, ./data/mnist)")
    parser.add_argument("--no-verify", action="store_true", help="skip the SHA-256 checks (other copies of MNIST)")
    parser.add_argument("--download", action="store_true",
                        help="fetch missing MNIST files from a public mirror into --data-dir (or ./data/mnist)")


def load(args) -> data.Mnist:
    folder = args.data_dir if args.data_dir is not None or not args.download else "data/mnist"
    return data.load_mnist(folder, verify=not args.no_verify, download=args.download).limit(args.limit)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examples.mnist", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(PRESETS), default="mlp",
                   help="; ".join(f"{k}: {v.help}" for k, v in PRESETS.items()))
    p.add_argument("--hidden", type=int, default=200, help="hidden units of the MLP (default: %(default)s)")
    p.add_argument("--augment", choices=["preset", "on", "off"], default="preset",
                   help="random affine augmentation (preset: on for cnn only)")
    add_data_args(p)
    train.add_train_args(p, "mnist")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    args.run_dir = args.run_dir if args.run_dir != "runs/examples/mnist" else f"runs/examples/mnist-{args.model}"
    clock = train.setup(args)
    preset = PRESETS[args.model]
    cfg = train.train_config(args, preset.train)
    mnist = load(args)
    model = preset.build(args)
    augment_args = preset.augment if args.augment == "preset" else (
        (preset.augment or dict(shift=2.0, rotate=10.0, scale=0.1)) if args.augment == "on" else None)
    augment = functools.partial(data.random_affine, **augment_args) if augment_args else None
    result = train.fit_classifier(model, mnist.train_images, mnist.train_labels, mnist.test_images,
                                  mnist.test_labels, cfg, args, name="model", augment=augment,
                                  title=f"mnist-{args.model}", metadata={"example": "mnist", "model": args.model})
    acc = result["test_accuracy"]
    summary = (f"mnist {args.model} test accuracy {100 * acc:.2f}% (error {100 * (1 - acc):.2f}%), "
               f"{nets.num_parameters(model):,} parameters")
    train.finish(args, clock, {"example": "mnist", "model": args.model, "parameters": nets.num_parameters(model),
                               "test_accuracy": acc, "test_loss": result["test_loss"], "epochs": result["epochs"],
                               "train_config": cfg.__dict__, "augment": augment_args,
                               "train_wall_s": result["train_wall_s"], "train_cpu_s": result["train_cpu_s"],
                               "checkpoint": result["checkpoint"], "data": mnist.source,
                               "command": train.command_line("examples.mnist", argv)}, summary)
    return 0


if __name__ == "__main__":
    run_main(main)
