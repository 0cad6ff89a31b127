"""Network speed: AlphaZero ResNet inference positions/s in fp32 and bf16 side by side, GFLOP/s, and training.

Networks (``--net``, comma-separated or ``all``):

* ``go9``: 6 residual blocks x 64 channels on 9x9, 17 input planes, 82 actions (the default);
* ``chess``: 6 x 64 on 8x8, 119 planes (AlphaZero's chess stack), 4,672 actions;
* ``connect4``: 4 x 32 on 6x7, 3 planes, 7 actions, value head 64 (the shipped Connect Four net);
* ``custom``: ``--blocks --channels --board --planes --actions`` (giving any of them picks it).

For each network and batch size the figures are positions/s through ``nets.PolicyValueEvaluator`` (numpy planes in,
masked numpy logits out: what self-play pays; BatchNorm folded, channels-last) in each precision:

* ``fp32`` and ``bf16`` (``precision=``; bf16 weights, bf16 planes, fp32 outputs) and ``bf16_over_fp32``;
* ``fp32_unfolded`` (``--baseline``): the fp32 evaluator without BatchNorm folding, what the folding gains;
* ``compiled`` (``--compile``): the fp32 evaluator through ``torch.compile`` (minutes to compile on the CPU);
* ``gflops``: GFLOP/s of each variant (the network's FLOPs per position counted by ``torch.utils.flop_counter``)
  and ``peak_share``: that over the core's peak, measured in the same run as the best GEMM rate (``--gemm``
  square fp32 and bf16 matrix products, one thread); ``peak_share_per_cpu_second`` the same per second of CPU
  time (on a shared machine the wall-clock peak and the network are measured under different loads);
* ``training``: samples/s of ``engine.alphazero.Learner`` steps (SGD, policy cross-entropy + value MSE, batch
  ``--train-batch``) with ``precision`` fp32 and bf16 (autocast, fp32 weights), and their ratio.

The variants compared at one batch size are called in turn, call by call, each call timed on its own, over
``--repeat`` rounds of about ``--seconds`` per variant (the best round counts): load from other processes falls on
all of them alike, so their ratios hold on a busy machine even when the absolute figures drop. ``per_cpu_second``
repeats the rates per second of this process's CPU time (steadier on a shared machine). ``native_bf16`` says
whether this CPU has bf16 arithmetic (``nets.precision``); without it bf16 is emulated and slower than fp32, and
``precision=auto`` runs fp32.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

import nets
from nets.precision import cpu_bf16_flags, native_bf16

from ..cli import UserError, seed_everything
from ._common import finish, parser, setup

NETS: dict[str, dict] = {
    "go9": dict(plane_shape=(17, 9, 9), num_actions=82, blocks=6, channels=64, value_hidden=256),
    "chess": dict(plane_shape=(119, 8, 8), num_actions=4672, blocks=6, channels=64, value_hidden=256),
    "connect4": dict(plane_shape=(3, 6, 7), num_actions=7, blocks=4, channels=32, value_hidden=64),
}
"""The benchmarked architectures (``nets.PolicyValueNet`` keyword arguments)."""


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


def _sig(x: float) -> float:
    """``x`` to 3 significant digits (small figures of tiny test networks stay non-zero)."""
    return float(f"{x:.3g}")


def gemm_peak(size: int, device: torch.device, seconds: float, repeat: int, sync) -> tuple[dict, dict]:
    """GFLOP/s of ``size x size`` matrix products in fp32 and bf16, alternated (the core's practical peak): per
    second of wall-clock time and per second of this process's CPU time."""
    a32 = torch.randn(size, size, device=device)
    b32 = torch.randn(size, size, device=device)
    a16, b16 = a32.bfloat16(), b32.bfloat16()
    out32, out16 = torch.empty_like(a32), torch.empty_like(a16)
    fns = {"fp32": lambda: torch.mm(a32, b32, out=out32), "bf16": lambda: torch.mm(a16, b16, out=out16)}
    cpu: dict[str, dict] = {}
    rates = _rates(fns, 1, seconds, repeat, sync, cpu)
    flop = 2 * size ** 3 / 1e9
    return {k: v * flop for k, v in rates.items()}, {k: v[1] * flop for k, v in cpu.items()}


def flops_per_position(model: torch.nn.Module, plane_shape, device) -> float:
    """Floating-point operations of one forward pass per position (convolutions, linear layers, matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(8, *plane_shape, device=device)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(x)
    return counter.get_total_flops() / 8


def _evaluators(model, device, max_batch: int, args) -> dict[str, nets.PolicyValueEvaluator]:
    def make(**options):
        return nets.PolicyValueEvaluator(model, device=device, max_batch=max_batch, **options)

    evaluators = {"fp32": make(precision="fp32"), "bf16": make(precision="bf16")}
    if args.baseline:
        evaluators["fp32_unfolded"] = make(precision="fp32", fold_bn=False)
    if args.compile:
        evaluators["compiled"] = make(precision="fp32", compile=True)
    return evaluators


def _training(arch: dict, device, args, sync) -> dict:
    """Samples/s of the AlphaZero learner in fp32 and bf16 (alternated)."""
    from ..alphazero.config import TrainSection
    from ..alphazero.learner import Learner

    b = args.train_batch
    rng = np.random.default_rng(args.seed)
    planes = (rng.random((b, *arch["plane_shape"])) < 0.3).astype(np.float32)
    policy = rng.dirichlet(np.ones(arch["num_actions"]), size=b).astype(np.float32)
    value = rng.uniform(-1, 1, b).astype(np.float32)
    result = np.sign(value).astype(np.int8)
    learners = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(args.seed)
        net = nets.PolicyValueNet(**arch).to(memory_format=torch.channels_last)
        learners[precision] = Learner(net, TrainSection(batch_size=b, lr=0.01), device, precision=precision)
    cpu_rates: dict[str, dict] = {}
    rates = _rates({k: (lambda learner=learner: learner.train_batch(planes, policy, value, result))
                    for k, learner in learners.items()}, b, args.seconds, args.repeat, sync, cpu_rates)
    return {"samples_per_second": {k: round(v, 1) for k, v in rates.items()},
            "bf16_over_fp32": round(rates["bf16"] / rates["fp32"], 3), "batch": b,
            "per_cpu_second": {k: v[b] for k, v in cpu_rates.items()}}


def bench_network(name: str, arch: dict, device, peak: dict, args, sync) -> tuple[dict, list[str]]:
    """Every figure of one network; returns its JSON part and its report lines."""
    seed_everything(args.seed)
    shape, actions = arch["plane_shape"], arch["num_actions"]
    model = nets.PolicyValueNet(**arch).eval()
    flops = flops_per_position(model, shape, device)
    batches = args.batch_sizes
    evaluators = _evaluators(model, device, max(batches), args)
    rng = np.random.default_rng(args.seed)
    cpu_rates: dict[str, dict] = {}
    out: dict = {"network": {**arch, "parameters": nets.num_parameters(model)},
                 "mflop_per_position": round(flops / 1e6, 2), "positions_per_second": {k: {} for k in evaluators},
                 "bf16_over_fp32": {}, "gflops": {k: {} for k in evaluators}, "peak_share": {k: {} for k in evaluators}}
    lines = [f"{name}: {arch['blocks']}x{arch['channels']} on {shape}, {actions} actions, "
             f"{out['network']['parameters']:,} parameters, {flops / 1e6:.1f} MFLOP/position"]
    for batch in batches:
        planes = (rng.random((batch, *shape)) < 0.3).astype(np.float32)
        legal = rng.random((batch, actions)) < 0.5
        fns = {k: (lambda ev=ev, x=planes, m=legal: ev(x, m)) for k, ev in evaluators.items()}
        rates = _rates(fns, batch, args.seconds, args.repeat, sync, cpu_rates)
        for key, rate in rates.items():
            gflops = rate * flops / 1e9
            out["positions_per_second"][key][batch] = round(rate, 1)
            out["gflops"][key][batch] = _sig(gflops)
            out["peak_share"][key][batch] = _sig(gflops / peak["bf16" if key == "bf16" else "fp32"])
        ratio = rates["bf16"] / rates["fp32"]
        out["bf16_over_fp32"][batch] = round(ratio, 3)
        extra = "".join(f"   {k} {rates[k]:9,.0f}" for k in rates if k not in ("fp32", "bf16"))
        lines.append(f"  batch {batch:4d}: fp32 {rates['fp32']:9,.0f} ({out['gflops']['fp32'][batch]:.1f} GFLOP/s, "
                     f"{out['peak_share']['fp32'][batch]:.0%} of peak)   bf16 {rates['bf16']:9,.0f} "
                     f"({out['gflops']['bf16'][batch]:.1f} GFLOP/s, {out['peak_share']['bf16'][batch]:.0%})   "
                     f"bf16/fp32 {ratio:.2f}x{extra}")
    if args.train_batch > 0:
        out["training"] = _training(arch, device, args, sync)
        t = out["training"]
        lines.append(f"  training (batch {t['batch']}): fp32 {t['samples_per_second']['fp32']:,.0f} samples/s, "
                     f"bf16 {t['samples_per_second']['bf16']:,.0f}: {t['bf16_over_fp32']:.2f}x")
    out["per_cpu_second"] = cpu_rates
    out["peak_share_per_cpu_second"] = {
        k: {b: _sig(r * flops / 1e9 / peak["cpu_bf16" if k == "bf16" else "cpu_fp32"]) for b, r in v.items()}
        for k, v in cpu_rates.items()}
    return out, lines


def _networks(args) -> dict[str, dict]:
    custom = {k: getattr(args, k) for k in ("blocks", "channels", "board", "planes", "actions")
              if getattr(args, k) is not None}
    if custom:
        board, planes = custom.get("board", 9), custom.get("planes", 17)
        return {"custom": dict(plane_shape=(planes, board, board), num_actions=custom.get("actions", board * board + 1),
                               blocks=custom.get("blocks", 6), channels=custom.get("channels", 64), value_hidden=256)}
    names = list(NETS) if args.net == "all" else [n.strip() for n in args.net.split(",") if n.strip()]
    unknown = [n for n in names if n not in NETS]
    if unknown or not names:
        raise UserError(f"--net: unknown network {unknown[0] if unknown else ''!r}; known: {', '.join(NETS)}, all")
    return {n: NETS[n] for n in names}


def main(argv=None):
    p = parser("nn", __doc__)
    p.add_argument("--net", default="go9", help=f"networks: {', '.join(NETS)} (comma-separated) or all")
    for key in ("blocks", "channels", "board", "planes", "actions"):
        p.add_argument(f"--{key}", type=int, default=None, help="a custom network (see above)")
    p.add_argument("--batches", default="1,16,64,256", help="comma-separated inference batch sizes")
    p.add_argument("--train-batch", type=int, default=256, help="learner batch (0: no training figures)")
    p.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    p.add_argument("--repeat", type=int, default=3, help="measurements per figure; the best is reported")
    p.add_argument("--gemm", type=int, default=512, help="matrix size of the GEMM that measures the peak")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--baseline", action="store_true", help="also time the fp32 evaluator without BatchNorm folding")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (minutes on the CPU)")
    args = p.parse_args(argv)
    setup(args)
    device = nets.pick_device(args.device)
    try:
        args.batch_sizes = [int(b) for b in args.batches.split(",") if b.strip()]
    except ValueError:
        raise UserError(f"--batches must be comma-separated integers, got {args.batches!r}") from None
    if args.gemm < 8:
        raise UserError(f"--gemm must be at least 8, got {args.gemm}")
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        raise UserError(f"--batches must be positive integers, got {args.batches!r}")
    networks = _networks(args)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    peak, peak_cpu = gemm_peak(args.gemm, device, args.seconds, args.repeat, sync)
    peak |= {f"cpu_{k}": v for k, v in peak_cpu.items()}
    result: dict = {"device": str(device), "threads": args.threads, "batch_sizes": args.batch_sizes,
                    "native_bf16": native_bf16(device), "cpu_bf16_flags": list(cpu_bf16_flags()),
                    "auto_precision": nets.resolve_precision("auto", device), "gemm": args.gemm,
                    "peak_gflops": {k: _sig(peak[k]) for k in ("fp32", "bf16")},
                    "peak_gflops_per_cpu_second": {k: _sig(v) for k, v in peak_cpu.items()},
                    "networks": {}}
    lines = [f"{device}, {args.threads} thread(s), native bf16: {result['native_bf16']} "
             f"({', '.join(result['cpu_bf16_flags']) or 'no avx512_bf16 / amx_bf16'}); positions/s through the "
             f"evaluator, best of {args.repeat}; GEMM {args.gemm}: fp32 {peak['fp32']:.3g} GFLOP/s, "
             f"bf16 {peak['bf16']:.3g}"]
    for name, arch in networks.items():
        out, net_lines = bench_network(name, arch, device, peak, args, sync)
        result["networks"][name] = out
        lines += net_lines
    if len(networks) == 1:  # one network: its figures at the top level too (bf16_over_fp32: batch -> ratio)
        result.update(next(iter(result["networks"].values())))
    finish("nn", args, result, None if args.json else "\n".join(lines))
