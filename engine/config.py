"""Typed configuration: dataclasses filled from YAML files and dotted command-line overrides.

    cfg = load_config(SelfPlayConfig, "connect4", ["mcts.simulations=200", "train.lr=0.01"])

A configuration is a YAML file or the name of a shipped one (``connect4``, ``configs/go9.yaml``: see
``engine.configs``), found from any directory.

An unknown key or a value of the wrong type is a ``ConfigError`` that names the key and lists the valid ones.
``save_config`` writes the resolved configuration (YAML) into a run folder, ``load_config`` reads it back.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import yaml

from .cli import parse_value
from .core import ConfigError

__all__ = ["ConfigError", "apply_overrides", "from_dict", "load_config", "read_yaml", "save_config", "to_dict"]


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _describe(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value, tp, key: str):
    """Check (and gently convert: int -> float, scalar -> 1-tuple never) ``value`` against type ``tp``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{key}: {value!r} is not a valid {_describe(tp)}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping of {', '.join(_field_types(tp))}, got {value!r}")
        return from_dict(tp, value, prefix=key + ".")
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        args = typing.get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple or tp is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 1e-3 as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if typing.get_origin(tp) is typing.Literal:
        choices = typing.get_args(tp)
        if value in choices:
            return value
        raise ConfigError(f"{key} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{key}: cannot read {value!r} as {_describe(tp)}")


def from_dict(cls, data: dict, prefix: str = ""):
    """Build dataclass ``cls`` from a (nested) mapping, checking keys and types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {data!r}")
    types_ = _field_types(cls)
    unknown = [k for k in data if k not in types_]
    if unknown:
        key = prefix + str(unknown[0])
        raise ConfigError(f"unknown config key {key!r}; valid keys{' under ' + prefix.rstrip('.') if prefix else ''}: "
                          f"{', '.join(types_)}")
    kwargs = {name: _coerce(value, types_[name], prefix + name) for name, value in data.items()}
    try:
        obj = cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {err}") from None
    check = getattr(obj, "validate", None)
    if check is not None:
        check()
    return obj


def to_dict(cfg) -> dict:
    def convert(x):
        if dataclasses.is_dataclass(x):
            return {f.name: convert(getattr(x, f.name)) for f in dataclasses.fields(x)}
        if isinstance(x, (list, tuple)):
            return [convert(v) for v in x]
        if isinstance(x, dict):
            return {k: convert(v) for k, v in x.items()}
        return x
    return convert(cfg)


def apply_overrides(data: dict, overrides: Sequence[str], cls=None) -> dict:
    """Apply ``a.b.c=value`` overrides to a nested mapping (values parsed as YAML scalars)."""
    data = dict(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must be written key=value (e.g. mcts.simulations=200)")
        key, raw = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if cls is not None:
            _check_path(cls, parts)
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            child = dict(child) if isinstance(child, dict) else {}
            node[part] = child
            node = child
        node[parts[-1]] = parse_value(raw)
    return data


def _check_path(cls, parts: list[str]) -> None:
    tp = cls
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(tp):
            if typing.get_origin(tp) is dict or tp is dict:
                return  # free-form mapping (e.g. game options)
            raise ConfigError(f"config key {'.'.join(parts)!r}: {'.'.join(parts[:i])} is not a section")
        types_ = _field_types(tp)
        if part not in types_:
            where = ".".join(parts[:i])
            raise ConfigError(f"unknown config key {'.'.join(parts)!r}; valid keys"
                              f"{' under ' + where if where else ''}: {', '.join(types_)}")
        tp = types_[part]
        if typing.get_origin(tp) in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, not {type(data).__name__}")
    return data


def find_config(path: str | Path) -> Path:
    """The file a ``--config`` value names: an existing file, else the shipped configuration of that name
    (``go9``, ``go9.yaml``, ``configs/go9.yaml``); neither is a ``ConfigError`` that lists the shipped ones."""
    from . import configs

    path = Path(path)
    if path.is_file():
        return path
    found = configs.shipped(path)
    if found is not None:
        return found
    raise ConfigError(f"config {path} does not exist (a YAML file, or one of the shipped configs: "
                      f"{', '.join(configs.names())})")


def load_config(cls, path: str | Path | None = None, overrides: Sequence[str] = (), base: dict | None = None):
    """Defaults of ``cls``, then ``base``, then the YAML file (a path or a shipped name), then dotted overrides."""
    data: dict = dict(base or {})
    if path is not None:
        data = _merge(data, read_yaml(find_config(path)))
    data = apply_overrides(data, overrides, cls)
    return from_dict(cls, data)


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def save_config(cfg, path: str | Path) -> None:
    """Write the resolved configuration as YAML (atomically)."""
    from .core import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))
