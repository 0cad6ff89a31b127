"""Registries: configurations pick backbones, heads and whole models by name.

A configuration names a part and gives its keyword arguments::

    {"name": "nature_cnn", "in_channels": 4}                       # a backbone
    {"name": "dueling_q", "num_actions": 6}                        # a head (its input size comes from the backbone)
    {"name": "net", "backbone": {...}, "head": {...}}              # a model: a backbone with a head on top
    {"name": "policy_value", "plane_shape": [17, 9, 9], "num_actions": 82, "blocks": 6, "channels": 64}

Every part built here remembers its configuration (``module.config``, a dict of plain values) so that a
checkpoint can store it and ``build_model(config)`` can rebuild the same architecture later. An unknown name
or argument is a ``NetConfigError`` (a ``UserError``: commands report it as one line) listing the valid ones.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping

from engine.core import UserError


class NetConfigError(UserError, ValueError):
    """A network configuration names an unknown part or argument, or gives an impossible value."""


class Registry:
    """Name -> constructor, with checked keyword arguments."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable] = {}

    def register(self, name: str) -> Callable:
        def deco(obj):
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            obj.registry_name = name
            return obj
        return deco

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str) -> Callable:
        if not isinstance(name, str) or name not in self._entries:
            raise NetConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._entries[name]

    def build(self, name: str, **kwargs):
        ctor = self.get(name)
        _check_kwargs(ctor, kwargs, f"{self.kind} {name!r}")
        try:
            return ctor(**kwargs)
        except NetConfigError:
            raise
        except (TypeError, ValueError) as err:
            raise NetConfigError(f"{self.kind} {name!r}: {err}") from None


def _check_kwargs(ctor: Callable, kwargs: Mapping, what: str) -> None:
    params = inspect.signature(ctor).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [k for k in kwargs if k not in valid]
    if unknown:
        raise NetConfigError(f"{what} has no argument {unknown[0]!r}; valid: {', '.join(valid)}")
    missing = [n for n, p in params.items()
               if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and n not in kwargs]
    if missing:
        raise NetConfigError(f"{what} needs argument {missing[0]!r}")


BACKBONES = Registry("backbone")
HEADS = Registry("head")
MODELS = Registry("model")

register_backbone = BACKBONES.register
register_head = HEADS.register
register_model = MODELS.register


def _split(config: Mapping | str, kind: str) -> tuple[str, dict]:
    if isinstance(config, str):
        return config, {}
    if not isinstance(config, Mapping):
        raise NetConfigError(f"a {kind} configuration must be a name or a mapping with 'name', got {config!r}")
    if "name" not in config:
        raise NetConfigError(f"{kind} configuration {dict(config)!r} has no 'name'")
    rest = {k: copy.deepcopy(v) for k, v in config.items() if k != "name"}
    return config["name"], rest


def make_backbone(config: Mapping | str, **overrides):
    """Build a backbone from ``{"name": ..., **kwargs}`` (or a bare name)."""
    name, kwargs = _split(config, "backbone")
    return BACKBONES.build(name, **{**kwargs, **overrides})


def make_head(config: Mapping | str, in_shape, **overrides):
    """Build a head that fits a backbone whose per-sample output shape is ``in_shape``."""
    name, kwargs = _split(config, "head")
    return HEADS.build(name, in_shape=in_shape, **{**kwargs, **overrides})


def build_model(config: Mapping | str, **overrides):
    """Build a whole model (``policy_value``, ``net``, ``lenet``, ``gpt`` ...) from its configuration."""
    name, kwargs = _split(config, "model")
    return MODELS.build(name, **{**kwargs, **overrides})


def remember_config(module, name: str, kwargs: Mapping) -> None:
    """Store ``{"name": name, **kwargs}`` (plain values only) on ``module.config`` for checkpoints."""
    module.config = {"name": name, **{k: _plain(v, k) for k, v in kwargs.items()}}


def _plain(value, key: str):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return value.item()
    raise NetConfigError(f"network argument {key!r} must be a plain value (number, string, list, dict), "
                         f"got {type(value).__name__}")
