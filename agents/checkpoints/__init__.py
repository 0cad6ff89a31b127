"""Trained networks shipped with the package: ``<game>.pt`` (``nets`` checkpoints), found by
``agents.make("alphazero", game)``, ``engine.analyze`` and ``engine.arena``. How each was trained:
docs/players.md."""

from __future__ import annotations

from pathlib import Path

CHECKPOINT_DIR = Path(__file__).resolve().parent

__all__ = ["CHECKPOINT_DIR", "default_checkpoint", "shipped_games"]


def default_checkpoint(game) -> Path:
    """Where the shipped checkpoint of ``game`` lives (``agents/checkpoints/<game name>.pt``)."""
    return CHECKPOINT_DIR / f"{game.name}.pt"


def shipped_games() -> list[str]:
    """The games a network is shipped for."""
    return sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))
