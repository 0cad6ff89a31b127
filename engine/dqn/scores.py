"""Reference Atari scores and the human-normalized score, HNS = (agent - random) / (human - random).

``atari_scores.csv`` (shipped beside this module; sources in ``atari_scores_SOURCES.md``) holds, for the 57
games of the Atari-57 set, the ``random`` and ``human`` scores of DeepMind's dqn_zoo table (the table used by
Double/Dueling DQN, PER, Rainbow, IQN, Agent57 and rliable), Nature DQN's published score (Mnih et al. 2015,
Extended Data Table 2) and that paper's own random / human columns. HNS here always uses the 57-game
``random`` and ``human`` columns; ``nature_hns`` is Nature DQN's score normalized the same way, so the two are
comparable.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

__all__ = ["SCORES_FILE", "load_scores", "human_normalized", "reference"]

SCORES_FILE = Path(__file__).with_name("atari_scores.csv")


def _number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


@lru_cache(maxsize=1)
def load_scores() -> dict[str, dict]:
    """``{rom name: {"random", "human", "nature_dqn", "random_nature2015", "human_nature2015", "ale_v5_id"}}``."""
    out = {}
    with open(SCORES_FILE, newline="") as f:
        for row in csv.DictReader(f):
            out[row["game"]] = {"ale_v5_id": row["ale_v5_id"], "random": _number(row["random"]),
                                "human": _number(row["human"]), "nature_dqn": _number(row["nature_dqn"]),
                                "random_nature2015": _number(row["random_nature2015"]),
                                "human_nature2015": _number(row["human_nature2015"])}
    return out


def human_normalized(game: str, score: float) -> float | None:
    """(score - random) / (human - random) with the 57-game table's columns; None for a game not in it."""
    row = load_scores().get(game)
    if row is None or row["random"] is None or row["human"] is None:
        return None
    return (score - row["random"]) / (row["human"] - row["random"])


def reference(game: str) -> dict:
    """Nature DQN's score and its HNS for ``game`` (None where the paper has no score)."""
    row = load_scores().get(game, {})
    nature = row.get("nature_dqn")
    return {"nature_dqn": nature, "nature_dqn_hns": human_normalized(game, nature) if nature is not None else None,
            "random": row.get("random"), "human": row.get("human")}
