"""Shared command-line plumbing: ``--seed``, ``--json``, game options and clean error exits.

Every command prints its final result as one JSON object on the last line of stdout when given ``--json``;
people get readable text and progress bars instead (progress goes to stderr so stdout stays parseable).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable, Sequence

import numpy as np
import yaml
from numba import njit


class UserError(Exception):
    """A problem with what the user asked for (bad option, file, position ...): reported without a traceback."""


# Optional dependencies: module -> (what pip installs, the extra of pyproject.toml that brings it).
_EXTRAS = {"ale_py": ("ale-py", "atari"), "cv2": ("opencv-python-headless", "atari"), "ray": ("ray", "ray"),
           "chess": ("chess", "dev"), "pettingzoo": ("pettingzoo", "dev")}


def missing_extra(module: str, what: str) -> UserError:
    """The one-line error for an optional dependency that cannot be imported: what needs it and what to install."""
    package, extra = _EXTRAS.get(module, (module, None))
    how = f'pip install -e ".[{extra}]"' if extra else f"pip install {package}"
    return UserError(f"{what} needs {package}, which is not installed: {how}")


def require(module: str, what: str) -> None:
    """Import ``module`` now, or raise ``missing_extra`` (call it before anything is written)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise missing_extra(module, what) from None


def add_common_args(parser: argparse.ArgumentParser, seed: int | None = 0) -> None:
    parser.add_argument("--seed", type=int, default=seed, help="random seed (same seed, same machine: same result)")
    parser.add_argument("--json", action="store_true",
                        help="print the final result as one JSON object on the last line of stdout")


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy, Numba-compiled code and torch (when imported) from one number."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _seed_numba(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


@njit(cache=True)
def _seed_numba(seed):
    np.random.seed(seed)  # Numba-compiled code keeps its own NumPy generator state


def parse_value(text: str):
    """A command-line value: YAML scalars (``7``, ``7.5``, ``true``, ``[1, 2]``), else the string itself."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_key_values(items: Sequence[str], what: str = "option") -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"{what} {item!r} must be written key=value")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def make_game(name: str, options: Sequence[str] | dict = ()):
    """``games.make`` with options given as ``key=value`` strings; errors become ``UserError``."""
    import games

    kwargs = options if isinstance(options, dict) else parse_key_values(options, "game option")
    try:
        return games.make(name, **kwargs)
    except (ValueError, TypeError) as err:
        raise UserError(str(err)) from None


def emit(result: dict, as_json: bool, text: str | None = None) -> None:
    """Print the final result: readable text, or with ``--json`` one JSON object on the last line."""
    if as_json:
        print(json.dumps(result, default=_jsonable), flush=True)
    else:
        if text is None:
            text = "\n".join(f"{k}: {v}" for k, v in result.items())
        print(text, flush=True)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run a command: user errors print one clear line on stderr and exit 2; Ctrl-C exits 130."""
    from games import IllegalMove

    try:
        code = main(argv)
    except (UserError, IllegalMove) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def stop_on_sigterm() -> None:
    """``kill`` (SIGTERM, e.g. from ``timeout`` or a cluster scheduler) stops a training command like Ctrl-C:
    it raises KeyboardInterrupt in the main thread, so the run saves its checkpoint before it exits. Repeats
    (``timeout`` forwards the signal that ``pkill`` also sent) are ignored while the command is stopping."""
    import signal

    def _terminate(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)


def add_threads_arg(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` for a command that runs a network (read it with ``pin_threads_of(args)``)."""
    parser.add_argument("--threads", type=int, default=1,
                        help="torch / OpenMP threads (default 1: more threads than free cores slow a search down)")


def pin_threads_of(args) -> None:
    """``pin_threads(args.threads)``, a bad count being a ``UserError``."""
    if args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    pin_threads(args.threads)


def pin_threads(n: int = 1) -> None:
    """Pin torch and OpenMP/BLAS threads (two threads on two busy cores collapse; see README), and keep freed
    memory in the process (``tune_allocator``)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
    tune_allocator()


_ALLOCATOR_TUNED = False


def tune_allocator() -> bool:
    """Stop glibc's malloc from handing the network's activation buffers back to the kernel after every call.

    A forward pass allocates and frees tensors of hundreds of KB (the 4x32 Connect Four ResNet: 344 KB per
    activation at batch 64). glibc serves such blocks with ``mmap`` or trims them off the top of the heap when
    they are freed (system calls), so the next call takes a page fault on every 4 KB page it touches again:
    measured on the 2-core VM, up to 440 minor faults per network call in self-play, and self-play 12% faster
    per CPU-second with this tuning (three alternating pairs of runs; PyTorch's CPU performance guide suggests
    jemalloc or tcmalloc for the same reason). Here malloc keeps blocks up to 32 MiB in its heap
    (``M_MMAP_THRESHOLD``), trims only past 256 MiB free (``M_TRIM_THRESHOLD``) and grows by 16 MiB at a time
    (``M_TOP_PAD``): after warm-up a call faults on no page. The price: a process may keep up to 256 MiB of freed
    memory. Bigger arrays (the replay) are still mapped and unmapped as before. Process-wide, once; a no-op
    (False) off glibc."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # malloc.h
    ok = (mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 and mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1
          and mallopt(M_TOP_PAD, 16 << 20) == 1)
    _ALLOCATOR_TUNED = ok
    return ok
