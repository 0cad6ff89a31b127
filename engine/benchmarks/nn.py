"""Network speed: AlphaZero ResNet inference positions/s (raw, through the MCTS evaluator, compiled) and training.

Default network: 6 residual blocks x 64 channels on a 9x9 board, 17 input planes, 82 actions (Go 9x9 with
AlphaGo Zero's plane stack). Each figure is the best of ``--repeat`` rounds of about ``--seconds`` each; the
variants compared at one batch size are called in turn, call by call, so load from other processes falls on
them alike (their ratios hold on a busy machine even when the absolute figures drop):

* ``raw`` / ``raw_channels_last``: ``model(x)`` on a ready tensor under ``torch.inference_mode`` (eval mode),
  in the default (NCHW) and the channels-last (NHWC) memory format;
* ``evaluator``: ``PolicyValueEvaluator(planes, legal)`` from numpy arrays to numpy arrays with illegal moves
  masked, what self-play pays; ``evaluator_over_raw`` is its share of the raw rate in the same memory format
  (the evaluator's default, channels-last);
* ``compiled`` (``--compile``): ``torch.compile``d model, one compilation per batch size (minutes on the CPU;
  the seconds are reported);
* ``training``: samples/s of SGD steps (policy cross-entropy + value MSE, batch ``--train-batch``), both formats.

``per_cpu_second`` repeats every figure per second of this process's CPU time: with one thread on an idle
machine it equals the wall-clock figure; on a machine shared with other jobs it is the steadier one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

import nets

from ..cli import seed_everything
from ._common import finish, parser, setup


def _rates(fns: dict[str, Callable[[], None]], batch: int, seconds: float, repeat: int, sync,
           cpu_rates: dict[str, dict]) -> dict[str, float]:
    """Best items/s of each function over ``repeat`` rounds of about ``seconds`` per function.

    Within a round the functions are called in turn, one call each, and each call is timed on its own, so
    load from other processes falls on all of them alike and their ratios hold even on a busy machine.
    Wall-clock rates are returned; rates per second of process CPU time go to ``cpu_rates[name][batch]`` (one
    thread: time spent waiting for the core is not counted).
    """
    for fn in fns.values():  # warm-up: allocator, oneDNN primitive caches
        fn()
        fn()
    sync()
    best = dict.fromkeys(fns, 0.0)
    best_cpu = dict.fromkeys(fns, 0.0)
    for _ in range(repeat):
        wall = dict.fromkeys(fns, 0.0)
        cpu = dict.fromkeys(fns, 0.0)
        calls = 0
        round_start = time.perf_counter()
        while calls == 0 or time.perf_counter() - round_start < seconds * len(fns):
            for name, fn in fns.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fn()
                sync()
                wall[name] += time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
            calls += 1
        for name in fns:
            best[name] = max(best[name], calls * batch / wall[name])
            best_cpu[name] = max(best_cpu[name], calls * batch / max(cpu[name], 1e-9))
    for name, rate in best_cpu.items():
        cpu_rates.setdefault(name, {})[batch] = round(rate, 1)
    return best


def main(argv=None):
    p = parser("nn", __doc__)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--board", type=int, default=9)
    p.add_argument("--planes", type=int, default=17)
    p.add_argument("--actions", type=int, default=None, help="default: board*board + 1 (pass)")
    p.add_argument("--batches", default="1,16,64,256", help="comma-separated inference batch sizes")
    p.add_argument("--train-batch", type=int, default=256)
    p.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    p.add_argument("--repeat", type=int, default=3, help="measurements per figure; the best is reported")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (minutes on the CPU)")
    args = p.parse_args(argv)
    setup(args)
    seed_everything(args.seed)
    device = nets.pick_device(args.device)
    actions = args.actions or args.board * args.board + 1
    shape = (args.planes, args.board, args.board)
    batches = [int(b) for b in args.batches.split(",") if b.strip()]
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def build(channels_last: bool) -> torch.nn.Module:
        torch.manual_seed(args.seed)
        model = nets.PolicyValueNet(shape, actions, blocks=args.blocks, channels=args.channels)
        return nets.prepare(model, device, channels_last=channels_last)

    nchw, nhwc = build(False).eval(), build(True).eval()
    # The evaluator wraps the very module timed raw, so the two differ only by what the evaluator adds.
    evaluator = nets.PolicyValueEvaluator(nhwc, device=device, max_batch=max(batches), channels_last=True)
    rng = np.random.default_rng(args.seed)
    cpu_rates: dict[str, dict] = {}
    params = nets.num_parameters(nchw)
    result: dict = {"network": {"blocks": args.blocks, "channels": args.channels, "planes": shape,
                                "actions": actions, "parameters": params},
                    "device": str(device), "threads": args.threads, "batch_sizes": batches,
                    "raw": {}, "raw_channels_last": {}, "evaluator": {}, "evaluator_over_raw": {}}
    lines = [f"PolicyValueNet {args.blocks}x{args.channels} on {shape}, {actions} actions, {params:,} parameters, "
             f"{device}, {args.threads} thread(s); positions/s, best of {args.repeat}"]

    def forward(model, x):
        def run():
            with torch.inference_mode(), nets.autocast(device):
                model(x)
        return run

    for batch in batches:
        planes = rng.random((batch, *shape), dtype=np.float32)
        legal = rng.random((batch, actions)) < 0.5
        x = torch.from_numpy(planes).to(device)
        x_nhwc = x.contiguous(memory_format=torch.channels_last)
        # NCHW apart: interleaving it would evict the channels-last weights from the cache between calls.
        r = _rates({"raw": forward(nchw, x)}, batch, args.seconds, args.repeat, sync, cpu_rates)
        r |= _rates({"raw_channels_last": forward(nhwc, x_nhwc),
                     "evaluator": lambda planes=planes, legal=legal: evaluator(planes, legal)},
                    batch, args.seconds, args.repeat, sync, cpu_rates)
        for key, rate in r.items():
            result[key][batch] = round(rate, 1)
        share = r["evaluator"] / r["raw_channels_last"]
        result["evaluator_over_raw"][batch] = round(share, 3)
        lines.append(f"batch {batch:4d}: raw {r['raw']:9,.0f}   channels-last {r['raw_channels_last']:9,.0f}   "
                     f"evaluator {r['evaluator']:9,.0f} ({share:.1%} of raw channels-last)")

    if args.compile:
        compiled = torch.compile(build(True).eval(), dynamic=False)
        result["compiled"], result["compile_seconds"] = {}, {}
        compiled_cpu: dict[str, dict] = {}
        for batch in batches:
            x = torch.from_numpy(rng.random((batch, *shape), dtype=np.float32)).to(device)
            x = x.contiguous(memory_format=torch.channels_last)
            start = time.perf_counter()
            forward(compiled, x)()
            sync()
            compile_s = time.perf_counter() - start
            r = _rates({"compiled": forward(compiled, x), "raw_channels_last": forward(nhwc, x)}, batch,
                       args.seconds, args.repeat, sync, compiled_cpu)
            result["compiled"][batch] = round(r["compiled"], 1)
            result["compile_seconds"][batch] = round(compile_s, 1)
            speedup = r["compiled"] / r["raw_channels_last"]
            lines.append(f"batch {batch:4d}: compiled {r['compiled']:9,.0f} ({speedup:.2f}x eager channels-last, "
                         f"timed alongside); compiled in {compile_s:.0f} s")

    # Training: SGD with momentum (AlphaZero), soft policy targets and value targets.
    b = args.train_batch
    x = torch.rand(b, *shape, device=device)
    target_pi = torch.rand(b, actions, device=device).softmax(-1)
    target_z = torch.rand(b, device=device) * 2 - 1

    def trainer(channels_last: bool):
        model = build(channels_last).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        inputs = x.contiguous(memory_format=torch.channels_last) if channels_last else x

        def step():
            with nets.autocast(device):
                logits, value = model(inputs)
            loss = -(target_pi * logits.float().log_softmax(-1)).sum(-1).mean() \
                + (value.float() - target_z).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return step

    r = _rates({"contiguous": trainer(False), "channels_last": trainer(True)}, b, args.seconds, args.repeat, sync,
               cpu_rates)
    result["training_samples_per_second"] = {k: round(v, 1) for k, v in r.items()}
    result["train_batch"] = b
    lines.append(f"training (batch {b}): {r['contiguous']:,.0f} samples/s, channels-last {r['channels_last']:,.0f}")
    if args.compile:
        cpu_rates["compiled"] = compiled_cpu["compiled"]
    result["per_cpu_second"] = cpu_rates
    cpu_raw, cpu_ev = cpu_rates["raw_channels_last"], cpu_rates["evaluator"]
    lines.append("per second of process CPU time (steadier on a shared machine): evaluator "
                 + ", ".join(f"{cpu_ev[b]:,.0f} ({cpu_ev[b] / cpu_raw[b]:.1%})" for b in batches)
                 + f"; training {cpu_rates['channels_last'][b]:,.0f} samples/s")
    finish("nn", args, result, None if args.json else "\n".join(lines))
