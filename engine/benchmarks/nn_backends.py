"""Other ways to run an AlphaZero network on the CPU, timed against the project's fp32 evaluator in one run.

The record behind docs/performance.md ("Other ways tried"): the 6x64 Go 9x9 net (or ``--net chess|connect4``) at
batch ``--batch``, one thread, each way alternated call by call with ``nets.PolicyValueEvaluator(precision="fp32")``
(BatchNorm folded, channels-last) so that load falls on all alike. Ways whose package is not installed are
reported as skipped (``pip install onnxruntime onnx openvino`` to try them):

* ``onnxruntime``: the folded network exported to ONNX, CPU provider, all graph optimisations;
* ``openvino_f32`` / ``openvino_bf16``: OpenVINO with that inference precision hint;
* ``int8_dynamic``: ``torch.ao.quantization.quantize_dynamic`` (linear layers);
* ``int8_static``: FX graph-mode static quantization, x86 backend, calibrated on 8 random batches;
* ``compiled`` (``--compile``): ``torch.compile`` of the folded evaluator (minutes on the CPU).

Each way also reports ``max_value_difference``: the largest difference of its value output from the reference's.
"""

from __future__ import annotations

import copy
import io
import time

import numpy as np
import torch

import nets

from ..cli import seed_everything
from ._common import finish, parser, setup
from .nn import NETS, _rates


def _onnxruntime(model, x: np.ndarray):
    import onnxruntime as ort

    buf = io.BytesIO()
    torch.onnx.export(nets.fold_batchnorm(model), torch.from_numpy(x), buf, input_names=["x"],
                      output_names=["logits", "value"], dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    return {"onnxruntime": (lambda: session.run(None, {"x": x}), lambda: session.run(None, {"x": x})[1])}


def _openvino(model, x: np.ndarray):
    import openvino as ov

    core = ov.Core()
    converted = ov.convert_model(nets.fold_batchnorm(model), example_input=torch.from_numpy(x))
    ways = {}
    for hint in ("f32", "bf16"):
        request = core.compile_model(converted, "CPU", {"INFERENCE_NUM_THREADS": 1,
                                                        "INFERENCE_PRECISION_HINT": hint}).create_infer_request()
        ways[f"openvino_{hint}"] = (lambda r=request: r.infer({0: x}),
                                    lambda r=request: list(r.infer({0: x}).values())[1])
    return ways


def _torch_way(name: str, module, x: np.ndarray):
    xt = torch.from_numpy(x)

    def run():
        with torch.inference_mode():
            return module(xt)
    return {name: (run, lambda: run()[1].numpy())}


def _int8_dynamic(model, x):
    from torch.ao.quantization import quantize_dynamic

    return _torch_way("int8_dynamic", quantize_dynamic(nets.fold_batchnorm(model), {torch.nn.Linear}, torch.qint8), x)


def _int8_static(model, x):
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    prepared = prepare_fx(copy.deepcopy(model).eval(), get_default_qconfig_mapping("x86"),
                          example_inputs=(torch.from_numpy(x),))
    with torch.inference_mode():
        for seed in range(8):
            prepared(torch.from_numpy((np.random.default_rng(seed + 1).random(x.shape) < 0.3).astype(np.float32)))
    return _torch_way("int8_static", convert_fx(prepared), x)


def main(argv=None):
    p = parser("nn_backends", __doc__)
    p.add_argument("--net", default="go9", choices=list(NETS))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement")
    p.add_argument("--repeat", type=int, default=3, help="measurements per figure; the best is reported")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (minutes on the CPU)")
    args = p.parse_args(argv)
    setup(args)
    seed_everything(args.seed)
    arch = NETS[args.net]
    model = nets.PolicyValueNet(**arch).eval()
    x = (np.random.default_rng(args.seed).random((args.batch, *arch["plane_shape"])) < 0.3).astype(np.float32)
    legal = np.ones((args.batch, arch["num_actions"]), bool)
    reference = nets.PolicyValueEvaluator(model, device="cpu", precision="fp32")
    ref_value = reference(x, legal)[1]
    ways = {"reference": (lambda: reference(x, legal), lambda: reference(x, legal)[1])}
    skipped, compile_seconds = {}, None
    for build in (_onnxruntime, _openvino, _int8_dynamic, _int8_static):
        try:
            ways |= build(model, x)
        except ImportError as err:
            skipped[build.__name__.lstrip("_")] = f"not installed: {err.name}"
    if args.compile:
        start = time.perf_counter()
        compiled = nets.PolicyValueEvaluator(model, device="cpu", precision="fp32", compile=True)
        compiled(x, legal)
        compile_seconds = round(time.perf_counter() - start, 1)
        ways["compiled"] = (lambda: compiled(x, legal), lambda: compiled(x, legal)[1])
    cpu: dict[str, dict] = {}
    rates = _rates({k: run for k, (run, _) in ways.items()}, args.batch, args.seconds, args.repeat,
                   lambda: None, cpu)
    result = {"network": {"name": args.net, **arch}, "batch": args.batch, "threads": args.threads,
              "positions_per_second": {k: round(v, 1) for k, v in rates.items()},
              "per_cpu_second": {k: v[args.batch] for k, v in cpu.items()},
              "over_reference": {k: round(v / rates["reference"], 3) for k, v in rates.items()},
              "max_value_difference": {k: float(np.abs(np.asarray(value()).reshape(-1) - ref_value).max())
                                       for k, (_, value) in ways.items()},
              "skipped": skipped, "compile_seconds": compile_seconds}
    lines = [f"{args.net} at batch {args.batch}, one thread: positions/s (over the fp32 evaluator; max value diff)"]
    lines += [f"  {k:14s} {rates[k]:9,.0f}  {result['over_reference'][k]:.2f}x  "
              f"{result['max_value_difference'][k]:.1g}" for k in rates]
    lines += [f"  {k:14s} skipped ({why})" for k, why in skipped.items()]
    finish("nn_backends", args, result, None if args.json else "\n".join(lines))
