"""A DCGAN on MNIST: ``python -m examples.gan``, writing a grid of samples (PNG) after every epoch.

Generative adversarial nets (Goodfellow et al. 2014, arXiv:1406.2661): a generator ``G(z)`` turns noise into
images, a discriminator ``D(x)`` tells real from generated ones; ``D`` ascends ``log D(x) + log(1 - D(G(z)))``
and ``G`` ascends ``log D(G(z))`` (the non-saturating loss of the paper). The architecture follows DCGAN
(Radford, Metz & Chintala 2015, arXiv:1511.06434): no pooling, strided convolutions in ``D`` (``nets.ConvNet``
with ``downsample="stride"``, LeakyReLU, no BatchNorm on its input layer), fractionally strided (transposed)
convolutions in ``G`` with BatchNorm and ReLU and a ``tanh`` output, Adam with rate 2e-4 and beta1 = 0.5.

Samples of a fixed set of noise vectors go to ``samples_epochNNN.png`` so the progress is visible. With
``--classifier CKPT`` (a model saved by ``examples.mnist``), 1,000 samples are scored by that classifier: the
"classifier score" ``exp(E_x KL(p(y|x) || p(y)))`` (the Inception score of Salimans et al. 2016 with an MNIST
classifier: 10 when every sample is a confident digit and all digits are equally frequent, 1 at worst).
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

import nets
from engine.cli import UserError, run_main
from nets import init

from . import data as datasets
from . import images, train
from . import mnist as mnist_example

PRESET = dict(epochs=5, batch_size=64, optimizer="adam", lr=2e-4, momentum=0.5, beta2=0.999)


class Generator(nn.Module):
    """``z [B, Z]`` -> linear -> ``[B, 2w, 7, 7]`` -> convT -> ``[B, w, 14, 14]`` -> convT -> ``[B, 1, 28, 28]``
    in [-1, 1]; BatchNorm and ReLU after each layer but the last (DCGAN)."""

    def __init__(self, noise_dim: int = 64, width: int = 32):
        super().__init__()
        self.noise_dim, self.width = noise_dim, width
        self.project = nn.Sequential(init.init_layer(nn.Linear(noise_dim, 2 * width * 49, bias=False), "relu"),
                                     init.init_norm(nn.BatchNorm1d(2 * width * 49)), nn.ReLU())
        self.up = nn.Sequential(
            init.init_layer(nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), "relu"),   # 7 -> 14
            init.init_norm(nn.BatchNorm2d(width)), nn.ReLU(),
            init.init_layer(nn.ConvTranspose2d(width, 1, 4, 2, 1), "tanh"), nn.Tanh())            # 14 -> 28

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.project(z).view(-1, 2 * self.width, 7, 7))


def discriminator(width: int = 32):
    """``nets``: a strided ConvNet (w then 2w maps, 5x5, LeakyReLU, no BN on the input layer) + one logit."""
    return nets.build_model({"name": "net",
                             "backbone": {"name": "convnet", "in_shape": [1, 28, 28], "stages": [[width], [2 * width]],
                                          "kernel": 5, "activation": "leaky_relu", "downsample": "stride",
                                          "input_norm": False},
                             "head": {"name": "classifier", "num_classes": 1}})


@torch.inference_mode()
def classifier_score(classifier: nn.Module, pictures: torch.Tensor) -> dict:
    """Classifier score ``exp(E KL(p(y|x) || p(y)))``, mean top-class confidence and digit frequencies."""
    classifier.eval()
    probs = classifier(pictures).float().softmax(dim=1)                  # [N, 10]
    marginal = probs.mean(dim=0, keepdim=True)
    kl = (probs * (probs.clamp_min(1e-12).log() - marginal.clamp_min(1e-12).log())).sum(dim=1)
    return {"classifier_score": math.exp(kl.mean().item()), "confidence": probs.max(dim=1).values.mean().item(),
            "digit_frequencies": [round(v, 3) for v in marginal[0].tolist()]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examples.gan", description=__doc__.split("\n")[0])
    p.add_argument("--noise-dim", type=int, default=64, help="size of the noise vector z")
    p.add_argument("--width", type=int, default=32, help="feature maps of G's and D's 14x14 layer")
    p.add_argument("--samples", type=int, default=64, help="samples per grid")
    p.add_argument("--classifier", default=None, help="checkpoint of an MNIST classifier (examples.mnist) to "
                   "score 1,000 samples with")
    mnist_example.add_data_args(p)
    train.add_train_args(p, "gan")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    clock = train.setup(args)
    if args.noise_dim < 1 or args.width < 1 or args.samples < 1:
        raise UserError("--noise-dim, --width and --samples must be >= 1")
    classifier = nets.load_model(args.classifier)[0] if args.classifier else None   # fail early on a bad file
    cfg = train.train_config(args, PRESET)
    data = mnist_example.load(args)
    real_images = data.train_images * 2 - 1                                             # tanh range [-1, 1]
    gen, disc = Generator(args.noise_dim, args.width), discriminator(args.width)
    model = nn.ModuleDict({"generator": gen, "discriminator": disc}).to(args.device)
    opt_g = train.OPTIMIZERS[cfg.optimizer](list(gen.parameters()), cfg)
    opt_d = train.OPTIMIZERS[cfg.optimizer](list(disc.parameters()), cfg)
    order = torch.Generator().manual_seed(args.seed)
    noise = torch.Generator().manual_seed(args.seed + 1)
    fixed_noise = torch.randn(args.samples, args.noise_dim, generator=torch.Generator().manual_seed(args.seed + 2))
    steps = math.ceil(len(real_images) / cfg.batch_size)
    trainer = train.Trainer(model, cfg, steps_per_epoch=steps, run_dir=args.run_dir, name="model", optimizer=None,
                            extra_optimizers={"generator": opt_g, "discriminator": opt_d},
                            generators={"order": order, "noise": noise}, progress=not args.no_progress,
                            quiet=args.quiet, metadata={"example": "gan"}, title="gan", run_clock=args.run_clock)

    def batches(epoch: int):
        for idx in datasets.batches(len(real_images), cfg.batch_size, order):
            yield real_images[idx]

    def step(real):
        real = real.to(args.device)
        z = torch.randn(len(real), args.noise_dim, generator=noise).to(args.device)
        fake = gen(z)
        ones, zeros = torch.ones(len(real), 1, device=args.device), torch.zeros(len(real), 1, device=args.device)
        # Discriminator: real -> 1, generated -> 0 (the generator's output is a constant here).
        d_real, d_fake = disc(real), disc(fake.detach())
        d_loss = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(d_fake, zeros)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # Generator: the non-saturating loss -log D(G(z)).
        g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    def evaluate():
        gen.eval()
        pictures = (gen(fixed_noise.to(args.device)) + 1) / 2
        epoch = trainer.epoch + 1
        images.save_grid(pictures, f"{args.run_dir}/samples_epoch{epoch:03d}.png",
                         rows=int(math.sqrt(args.samples)) or 1, title=f"DCGAN samples after epoch {epoch}")
        out = {}
        if classifier is not None:
            z = torch.randn(1000, args.noise_dim, generator=torch.Generator().manual_seed(args.seed + 3))
            out = classifier_score(classifier, (gen(z.to(args.device)).cpu() + 1) / 2)
            out.pop("digit_frequencies")
        return out

    result = trainer.fit(batches, step, evaluate, resume=args.resume)
    gen.eval()
    with torch.inference_mode():
        final = (gen(fixed_noise.to(args.device)) + 1) / 2
        grid = images.save_grid(final, f"{args.run_dir}/samples.png", rows=int(math.sqrt(args.samples)) or 1,
                                title=f"DCGAN samples after {result['epochs']} epochs")
        out = {"example": "gan", "epochs": result["epochs"], "samples": str(grid),
               "generator_parameters": nets.num_parameters(gen),
               "discriminator_parameters": nets.num_parameters(disc), "train_config": cfg.__dict__,
               **{k: result["final"].get(k) for k in ("train_d_loss", "train_g_loss", "train_d_real",
                                                        "train_d_fake")},
               "train_wall_s": result["train_wall_s"], "train_cpu_s": result["train_cpu_s"],
               "checkpoint": str(trainer.path), "command": train.command_line("examples.gan", argv)}
        summary = f"gan samples in {grid}"
        if classifier is not None:
            z = torch.randn(1000, args.noise_dim, generator=torch.Generator().manual_seed(args.seed + 3))
            scores = classifier_score(classifier, (gen(z.to(args.device)).cpu() + 1) / 2)
            out.update(scores)
            summary += (f", classifier score {scores['classifier_score']:.2f} / 10, mean confidence "
                        f"{100 * scores['confidence']:.1f}%")
    train.finish(args, clock, out, summary)
    return 0


if __name__ == "__main__":
    run_main(main)
