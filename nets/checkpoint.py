"""Checkpoints: weights, architecture, training state and metadata in one atomically written file.

A checkpoint is a ``torch.save`` of a dict holding only tensors, numbers, strings, ``None`` and lists/tuples/
dicts of them, so ``torch.load(path, weights_only=True)`` reads it (no pickled code runs on load)::

    format      "rlengine-checkpoint"          what this file is
    version     1                              layout version
    config      {"name": "policy_value", ...}  architecture: build_model(config) rebuilds the network
    model       state_dict                     weights and buffers (of the module behind torch.compile)
    optimizer   state_dict | None              e.g. Adam moments and step counts
    scheduler   state_dict | None              learning-rate schedule
    step        int                            training steps done
    rng         {"python", "numpy", "torch", "cuda", "numba", "generators"}   random states (below)
    metadata    {"created", "torch", "parameters", ...user keys}
    extra       any plain training state the caller adds (replay position, epsilon, ...)

Random states: Python's ``random`` (list of 625 ints), NumPy's legacy global generator (key as a list), torch
CPU (byte tensor) and CUDA generators, Numba's own global NumPy generator when Numba is loaded (self-play noise
is drawn in compiled code), and any named ``numpy.random.Generator`` / ``torch.Generator`` / ``random.Random``
passed as ``generators``. Restoring them makes a resumed run continue exactly as the uninterrupted one.

``read_checkpoint`` checks the CRC-32 of every entry of the zip archive that ``torch.save`` writes (torch.load
itself does not), so a flipped byte anywhere is caught rather than loaded as slightly wrong weights.

The file is written to a temporary file in the same folder and renamed over the target (``engine.core.io``): a
crash leaves the previous checkpoint whole. Reading a missing, truncated, corrupt or foreign file, or loading
weights into a different architecture, raises ``CheckpointError`` (a ``UserError``: commands report one line)
naming the file and the problem.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import pickle
import random
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.core import UserError, atomic_path

from .base import num_parameters
from .device import unwrap
from .registry import NetConfigError, build_model

FORMAT = "rlengine-checkpoint"
VERSION = 1


class CheckpointError(UserError):
    """A checkpoint file that cannot be used: missing, corrupt, foreign, or for another architecture."""


# ----------------------------------------------------------------------------------------------- RNG state
def _numba_state_ptr():
    if "numba" not in sys.modules:
        return None
    try:
        from numba import _helperlib
        return _helperlib, _helperlib.rnd_get_np_state_ptr()
    except (ImportError, AttributeError):  # pragma: no cover - Numba internals moved
        return None


def _generator_state(gen) -> dict:
    if isinstance(gen, np.random.Generator):
        return {"type": "numpy", "state": _plain(gen.bit_generator.state)}
    if isinstance(gen, torch.Generator):
        return {"type": "torch", "state": gen.get_state()}
    if isinstance(gen, random.Random):
        version, internal, gauss = gen.getstate()
        return {"type": "python", "state": [version, list(internal), gauss]}
    raise TypeError(f"cannot save the state of a {type(gen).__name__}; use numpy, torch or random generators")


def _set_generator_state(gen, saved: dict, name: str) -> None:
    kind = saved.get("type")
    if isinstance(gen, np.random.Generator) and kind == "numpy":
        gen.bit_generator.state = saved["state"]
    elif isinstance(gen, torch.Generator) and kind == "torch":
        gen.set_state(saved["state"])
    elif isinstance(gen, random.Random) and kind == "python":
        version, internal, gauss = saved["state"]
        gen.setstate((version, tuple(internal), gauss))
    else:
        raise CheckpointError(f"generator {name!r}: checkpoint holds a {kind} generator state, "
                              f"got a {type(gen).__name__}")


def capture_rng(generators: Mapping[str, Any] | None = None) -> dict:
    """The states of the global generators (Python, NumPy, torch, CUDA, Numba) and of named ``generators``."""
    version, internal, gauss = random.getstate()
    kind, key, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {
        "python": [version, list(internal), gauss],
        "numpy": {"kind": kind, "key": key.tolist(), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numba": None,
        "generators": {name: _generator_state(g) for name, g in (generators or {}).items()},
    }
    numba = _numba_state_ptr()
    if numba is not None:
        helper, ptr = numba
        index, internal = helper.rnd_get_state(ptr)
        state["numba"] = [int(index), [int(v) for v in internal]]
    return state


def restore_rng(state: Mapping, generators: Mapping[str, Any] | None = None) -> None:
    """Put back what ``capture_rng`` saved (global generators, and the named ``generators`` given here)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state((np_state["kind"], np.asarray(np_state["key"], dtype=np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    numba = _numba_state_ptr()
    if state.get("numba") is not None and numba is not None:
        helper, ptr = numba
        index, internal = state["numba"]
        helper.rnd_set_state(ptr, (index, list(internal)))
    saved = state.get("generators", {})
    for name, gen in (generators or {}).items():
        if name not in saved:
            raise CheckpointError(f"the checkpoint holds no state for generator {name!r}; it has: "
                                  f"{', '.join(saved) or 'none'}")
        _set_generator_state(gen, saved[name], name)


# ----------------------------------------------------------------------------------------------- save
def _plain(obj, where: str = "value"):
    """``obj`` with NumPy scalars/arrays made plain; anything ``weights_only`` cannot read is an error."""
    if obj is None or isinstance(obj, (bool, torch.Tensor)):
        return obj
    for plain in (str, int, float):  # subclasses (torch's TorchVersion, IntEnum) would pickle as classes
        if isinstance(obj, plain):
            return plain(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise CheckpointError(f"checkpoint {where}: key {k!r} must be a string or an integer")
            out[k] = _plain(v, f"{where}.{k}")
        return out
    raise CheckpointError(f"checkpoint {where}: a {type(obj).__name__} cannot be stored (only tensors, numbers, "
                          f"strings, None, and lists/dicts of them load with weights_only=True)")


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None, *,
                    step: int = 0, scheduler=None, rng: bool = True, generators: Mapping[str, Any] | None = None,
                    metadata: Mapping | None = None, extra: Mapping | None = None) -> Path:
    """Write ``model`` (+ optimizer, scheduler, step, RNG states, metadata, extra) atomically to ``path``."""
    module = unwrap(model)
    config = getattr(module, "config", None)
    meta = {"created": _dt.datetime.now().isoformat(timespec="seconds"), "torch": torch.__version__,
            "parameters": num_parameters(module)}
    meta.update(metadata or {})
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": _plain(config, "config"),
        "model": module.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": int(step),
        "rng": capture_rng(generators) if rng else None,
        "metadata": _plain(meta, "metadata"),
        "extra": _plain(dict(extra or {}), "extra"),
    }
    for name in ("optimizer", "scheduler"):
        payload[name] = _plain(payload[name], name)
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)  # a file object: the archive's inner folder is "archive", not the temp name
    return path


# ----------------------------------------------------------------------------------------------- load
@dataclasses.dataclass
class Checkpoint:
    """What a checkpoint file holds (see the module docstring)."""

    path: Path
    config: dict | None
    model: dict
    optimizer: dict | None
    scheduler: dict | None
    step: int
    rng: dict | None
    metadata: dict
    extra: dict
    version: int


def read_checkpoint(path: str | Path, map_location: str | torch.device | None = "cpu") -> Checkpoint:
    """Read and check a checkpoint file (``weights_only=True``); does not touch any model."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes)")
    _check_archive(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = ("it holds objects other than tensors and plain values" if "weights_only" in str(err).lower()
                  or "weights only" in str(err).lower() else f"unreadable pickle: {_first_line(err)}")
        raise CheckpointError(f"checkpoint {path} is not a valid checkpoint: {reason}") from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError, AttributeError,
            TypeError, IndexError) as err:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(err).__name__}: "
                              f"{_first_line(err)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        hint = ""
        if isinstance(data, dict) and data and all(isinstance(v, torch.Tensor) for v in data.values()):
            hint = " (it looks like a bare state_dict; save with nets.save_checkpoint)"
        raise CheckpointError(f"{path} is not an rlengine checkpoint{hint}")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"checkpoint {path} has layout version {version!r}; this program reads up to {VERSION}")
    missing = [k for k in ("config", "model", "step") if k not in data]
    if missing or not isinstance(data["model"], dict):
        raise CheckpointError(f"checkpoint {path} is incomplete: missing {', '.join(missing) or 'model weights'}")
    return Checkpoint(path=path, config=data["config"], model=data["model"], optimizer=data.get("optimizer"),
                      scheduler=data.get("scheduler"), step=int(data["step"]), rng=data.get("rng"),
                      metadata=data.get("metadata") or {}, extra=data.get("extra") or {}, version=version)


def _check_archive(path: Path) -> None:
    """``torch.save`` writes a zip archive with a CRC-32 per entry; torch.load does not check them, we do."""
    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as f:
                zip_start = f.read(4) == b"PK\x03\x04"
            if zip_start:
                raise CheckpointError(f"checkpoint {path} is corrupt or truncated (its zip archive has no end: "
                                      f"the file was cut short)")
            raise CheckpointError(f"{path} is not an rlengine checkpoint (not a torch.save zip archive)")
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({_first_line(err)})") from None
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt: entry {bad} fails its CRC check")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _flatten(d, prefix: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out


def _config_mismatch(saved: Mapping, current: Mapping) -> str | None:
    a, b = _flatten(saved), _flatten(current)
    # Options the checkpoint does not mention came later and hold their defaults there: not a mismatch (the
    # tensor check that follows still catches any real difference).
    keys = [k for k in sorted(a) if a[k] != b.get(k, "<absent>")]
    if not keys:
        return None
    shown = keys[:6]
    return ("checkpoint has " + ", ".join(f"{k}={a.get(k, '<absent>')!r}" for k in shown)
            + "; model has " + ", ".join(f"{k}={b.get(k, '<absent>')!r}" for k in shown)
            + (f" (and {len(keys) - 6} more)" if len(keys) > 6 else ""))


def _some(items: list[str], sep: str = ", ", shown: int = 3) -> str:
    return sep.join(items[:shown]) + (f"{sep}..." if len(items) > shown else "")


def _check_state_dict(saved: Mapping, module: nn.Module, path: Path) -> None:
    current = module.state_dict()
    missing = [k for k in current if k not in saved]
    unexpected = [k for k in saved if k not in current]
    shapes = [f"{k}: checkpoint {tuple(saved[k].shape)} vs model {tuple(current[k].shape)}"
              for k in current if k in saved and tuple(saved[k].shape) != tuple(current[k].shape)]
    problems = []
    if missing:
        problems.append(f"{len(missing)} tensors missing ({_some(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors ({_some(unexpected)})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches ({_some(shapes, '; ')})")
    if problems:
        raise CheckpointError(f"checkpoint {path} does not fit this model's architecture: {'; '.join(problems)}")


def load_checkpoint(path: str | Path, model: nn.Module | None = None, optimizer: torch.optim.Optimizer | None = None,
                    *, scheduler=None, restore_rng_state: bool = False, generators: Mapping[str, Any] | None = None,
                    map_location: str | torch.device | None = "cpu") -> Checkpoint:
    """Read ``path`` and load it into ``model`` / ``optimizer`` / ``scheduler`` (each optional).

    The architecture is checked first (the saved config against ``model.config``, then every tensor's name and
    shape); ``restore_rng_state=True`` also puts back the random generators (global and named ``generators``).
    Returns the ``Checkpoint`` (``step``, ``metadata``, ``extra``, ...).
    """
    ckpt = read_checkpoint(path, map_location)
    if model is not None:
        module = unwrap(model)
        current = getattr(module, "config", None)
        if ckpt.config is not None and current is not None:
            diff = _config_mismatch(ckpt.config, current)
            if diff:
                raise CheckpointError(f"checkpoint {ckpt.path} is for another architecture: {diff}")
        _check_state_dict(ckpt.model, module, ckpt.path)
        module.load_state_dict(ckpt.model)
    if optimizer is not None:
        if ckpt.optimizer is None:
            raise CheckpointError(f"checkpoint {ckpt.path} holds no optimizer state (saved for inference only)")
        try:
            optimizer.load_state_dict(ckpt.optimizer)
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"checkpoint {ckpt.path}: the optimizer state does not fit: {_first_line(err)}") \
                from None
    if scheduler is not None:
        if ckpt.scheduler is None:
            raise CheckpointError(f"checkpoint {ckpt.path} holds no learning-rate scheduler state")
        scheduler.load_state_dict(ckpt.scheduler)
    if restore_rng_state or generators:
        if ckpt.rng is None:
            raise CheckpointError(f"checkpoint {ckpt.path} was saved without random generator states")
        restore_rng(ckpt.rng, generators)
    return ckpt


def load_model(path: str | Path, map_location: str | torch.device | None = "cpu") -> tuple[nn.Module, Checkpoint]:
    """Rebuild a network from the architecture inside the checkpoint and load its weights (eval mode)."""
    ckpt = read_checkpoint(path, map_location)
    if not ckpt.config:
        raise CheckpointError(f"checkpoint {ckpt.path} holds no architecture config (the model was not built "
                              f"through nets.build_model); build the model yourself and use load_checkpoint")
    try:
        model = build_model(ckpt.config)
    except NetConfigError as err:
        raise CheckpointError(f"checkpoint {ckpt.path} names an architecture this program cannot build: {err}") \
            from None
    _check_state_dict(ckpt.model, model, ckpt.path)
    model.load_state_dict(ckpt.model)
    if map_location is not None:
        model.to(map_location)
    return model.eval(), ckpt
