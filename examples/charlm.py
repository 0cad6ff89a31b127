"""Character-level language models: ``python -m examples.charlm --model lstm|gru|gpt``.

The classic char-rnn experiment (Karpathy 2015, "The Unreasonable Effectiveness of Recurrent Neural Networks";
Graves 2013, arXiv:1308.0850) and its transformer successor (nanoGPT's ``shakespeare_char``): predict the next
character of tinyshakespeare, then sample new text one character at a time.

* ``lstm`` / ``gru``: ``nets.RecurrentLM`` (embedding, stacked LSTM (Hochreiter & Schmidhuber 1997) or GRU
  (Cho et al. 2014), softmax), trained by truncated backpropagation through time on random windows.
* ``gpt``: ``nets.GPT``, a decoder-only transformer (Radford et al. 2018/2019; Vaswani et al. 2017) with a
  causal mask and tied input/output embeddings, trained with AdamW, linear warm-up and cosine decay.

The loss is the mean negative log-likelihood per character in nats. Validation is the last 10% of the text
(the split of char-rnn and nanoGPT) and is measured exactly, over all of it: the transformer reads it in
consecutive windows of its context length (as nanoGPT's estimate does on random ones), a recurrent net reads
it as one stream carrying its state. An "epoch" here is ``--steps-per-epoch`` batches of random windows.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

import nets
from engine.cli import UserError, run_main
from engine.core import atomic_write_text

from . import data, train


@dataclass(frozen=True)
class Preset:
    model: dict
    train: dict = field(default_factory=dict)
    context: int = 128
    steps_per_epoch: int = 250


PRESETS = {
    # Measured on the 2-core CPU (README): 1,000 steps of 32 x 128 characters reach validation loss 1.56. No
    # dropout: the run sees the training text about 4 times, too few to overfit, and dropout costs 25% of a step.
    "gpt": Preset(dict(depth=4, dim=192, heads=4, dropout=0.0),
                  dict(epochs=4, batch_size=32, optimizer="adamw", lr=2e-3, momentum=0.9, beta2=0.99,
                       weight_decay=0.1, scheduler="cosine", warmup=100, min_lr=0.1, grad_clip=1.0),
                  context=128, steps_per_epoch=250),
    "lstm": Preset(dict(layers=2, hidden=256, embed_dim=64, dropout=0.0),
                   dict(epochs=4, batch_size=32, optimizer="adam", lr=3e-3, momentum=0.9, beta2=0.99,
                        scheduler="cosine", warmup=100, min_lr=0.1, grad_clip=1.0),
                   context=128, steps_per_epoch=250),
    "gru": Preset(dict(layers=2, hidden=256, embed_dim=64, dropout=0.0),
                  dict(epochs=4, batch_size=32, optimizer="adam", lr=3e-3, momentum=0.9, beta2=0.99,
                       scheduler="cosine", warmup=100, min_lr=0.1, grad_clip=1.0),
                  context=128, steps_per_epoch=250),
}


def build_model(args, vocab_size: int):
    preset = PRESETS[args.model].model
    layers = args.layers or preset.get("depth", preset.get("layers"))
    width = args.width or preset.get("dim", preset.get("hidden"))
    dropout = preset["dropout"] if args.dropout is None else args.dropout
    if args.model == "gpt":
        return nets.build_model({"name": "gpt", "vocab_size": vocab_size, "max_len": args.context, "dim": width,
                                 "depth": layers, "heads": args.heads or preset["heads"], "dropout": dropout})
    return nets.build_model({"name": "rnn_lm", "vocab_size": vocab_size, "cell": args.model,
                             "embed_dim": preset["embed_dim"], "hidden": width, "layers": layers,
                             "dropout": dropout})


def logits_of(model, tokens: torch.Tensor) -> torch.Tensor:
    out = model(tokens)
    return out[0] if isinstance(out, tuple) else out                        # RecurrentLM also returns its state


@torch.inference_mode()
def validation_loss(model, tokens: torch.Tensor, context: int, recurrent: bool, batch_size: int = 64,
                    device: torch.device | str = "cpu") -> float:
    """Mean NLL (nats per character) of predicting ``tokens[1:]`` from what precedes, over the whole split."""
    model.eval()
    total, count = 0.0, 0
    if recurrent:
        state = None                                                          # one stream, state carried along
        for start in range(0, len(tokens) - 1, context):
            x = tokens[start:start + context][None].to(device)
            y = tokens[start + 1:start + 1 + context][None].to(device)
            x = x[:, : y.shape[1]]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), reduction="sum").item()
            count += y.numel()
        return total / count
    x, y = data.CharCorpus.chunks(tokens, context)                             # consecutive windows [N, T]
    pieces = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    tail = len(x) * context
    if tail < len(tokens) - 1:                                                 # the last, shorter window
        pieces.append((tokens[tail:-1][None], tokens[tail + 1:][None]))
    for xb, yb in pieces:
        logits = logits_of(model, xb.to(device))
        total += F.cross_entropy(logits.flatten(0, 1).float(), yb.to(device).flatten(), reduction="sum").item()
        count += yb.numel()
    return total / count


def sample(model, corpus: data.CharCorpus, prompt: str, length: int, temperature: float, top_k: int | None,
           seed: int, device) -> str:
    model.eval()
    tokens = corpus.encode(prompt)[None].to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    if isinstance(model, nets.GPT):
        out = model.generate(tokens, length, temperature=temperature, top_k=top_k, generator=generator)
    else:
        out = model.generate(tokens, length, temperature=temperature, generator=generator)
    return corpus.decode(out[0].tolist())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m examples.charlm", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(PRESETS), default="gpt")
    p.add_argument("--text", default=None, help="UTF-8 text corpus (default: tinyshakespeare in ../shared/data)")
    p.add_argument("--context", type=int, default=None, help="characters per training window (and GPT context)")
    p.add_argument("--layers", type=int, default=None, help="transformer blocks / recurrent layers")
    p.add_argument("--width", type=int, default=None, help="transformer width / recurrent hidden units")
    p.add_argument("--heads", type=int, default=None, help="attention heads (gpt)")
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--steps-per-epoch", type=int, default=None, help="training batches between evaluations")
    p.add_argument("--sample", type=int, default=500, help="characters to sample at the end (0: none)")
    p.add_argument("--prompt", default="\n", help="text the sample starts from")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=None)
    train.add_train_args(p, "charlm")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.run_dir == "runs/examples/charlm":
        args.run_dir = f"runs/examples/charlm-{args.model}"
    clock = train.setup(args)
    preset = PRESETS[args.model]
    args.context = args.context or preset.context
    steps = args.steps_per_epoch or preset.steps_per_epoch
    if args.context < 1 or steps < 1:
        raise UserError("--context and --steps-per-epoch must be >= 1")
    cfg = train.train_config(args, preset.train)
    # --limit: the first N characters of the corpus (smoke runs).
    corpus = data.CharCorpus.from_file(args.text, limit=args.limit)
    model = build_model(args, corpus.vocab_size).to(args.device)
    recurrent = not isinstance(model, nets.GPT)
    windows = torch.Generator().manual_seed(args.seed)
    trainer = train.Trainer(model, cfg, steps_per_epoch=steps, run_dir=args.run_dir, name="model",
                            generators={"windows": windows}, progress=not args.no_progress, quiet=args.quiet,
                            metadata={"example": "charlm", "model": args.model, "chars": corpus.chars},
                            title=f"charlm-{args.model}", run_clock=args.run_clock)

    def batches(epoch: int):
        for _ in range(steps):
            yield corpus.random_windows(cfg.batch_size, args.context, windows)

    def step(batch):
        x, y = (t.to(args.device) for t in batch)
        logits = logits_of(model, x)
        return {"loss": F.cross_entropy(logits.flatten(0, 1), y.flatten())}

    def evaluate():
        return {"val_loss": validation_loss(model, corpus.val, args.context, recurrent, device=args.device)}

    result = trainer.fit(batches, step, evaluate, resume=args.resume)
    val = result["final"]["val_loss"] if result["history"] else evaluate()["val_loss"]
    text = ""
    if args.sample > 0:
        text = sample(model, corpus, args.prompt, args.sample, args.temperature, args.top_k, args.seed, args.device)
        atomic_write_text(f"{args.run_dir}/sample.txt", text)
        print(text, flush=True)
    params = nets.num_parameters(model)
    best = min((r["val_loss"] for r in result["history"]), default=val)
    summary = (f"charlm {args.model} validation loss {val:.4f} nats/char (best {best:.4f}), {params:,} parameters, "
               f"{result['steps']:,} steps of {cfg.batch_size}x{args.context} characters")
    train.finish(args, clock, {"example": "charlm", "model": args.model, "parameters": params, "val_loss": val,
                               "best_val_loss": best, "epochs": result["epochs"], "steps": result["steps"],
                               "context": args.context, "train_config": cfg.__dict__,
                               "train_wall_s": result["train_wall_s"], "train_cpu_s": result["train_cpu_s"],
                               "checkpoint": str(trainer.path), "sample": text, "corpus": corpus.name,
                               "command": train.command_line("examples.charlm", argv)}, summary)
    return 0


if __name__ == "__main__":
    run_main(main)
