"""Helpers shared by the benchmarks: argument parsing, machine facts, JSON output."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
from pathlib import Path

from ..cli import add_common_args, emit, pin_threads
from ..core import atomic_write_text


def parser(name: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m engine.bench {name}", description=description)
    add_common_args(p)
    p.add_argument("--out", default=f"bench-results/{name}.json", help="where to write the JSON result")
    p.add_argument("--threads", type=int, default=1, help="torch / OpenMP threads (1 unless measured otherwise)")
    return p


def machine() -> dict:
    info = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count()}
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:  # pragma: no cover
        pass
    return info


def finish(name: str, args, result: dict, text: str | None = None) -> dict:
    """Add machine facts and a timestamp, write ``args.out`` and print the result."""
    result = {"benchmark": name, **result, "machine": machine(),
              "date": _dt.datetime.now().isoformat(timespec="seconds")}
    if args.out:
        atomic_write_text(Path(args.out), json.dumps(result, indent=2, default=str) + "\n")
    emit(result, args.json, text)
    return result


def setup(args) -> None:
    pin_threads(args.threads)
