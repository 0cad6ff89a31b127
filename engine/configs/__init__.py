"""The shipped configurations (YAML), installed with the package so that they are found from any directory.

Commands take a configuration by name or by path: ``--config go9``, ``--config go9.yaml`` and
``--config configs/go9.yaml`` name the shipped ``go9.yaml`` (a file of that name in the current directory
wins); any other path is read as it is. ``python -m engine.selfplay --help`` and the README list them.
"""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent

__all__ = ["DIR", "names", "shipped"]


def names() -> list[str]:
    """The names of the shipped configurations (``go9``, ``dqn_cartpole`` ...)."""
    return sorted(p.stem for p in DIR.glob("*.yaml"))


def shipped(name: str | Path) -> Path | None:
    """The shipped file that ``name`` means (``go9``, ``go9.yaml``, ``configs/go9.yaml``), or None."""
    path = Path(name)
    if path.parent.name not in ("", "configs") or path.parent.parent != Path("."):
        return None
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    if stem not in names():
        return None
    return DIR / f"{stem}.yaml"
