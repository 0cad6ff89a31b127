"""Typed configs: YAML + dotted overrides, clear errors on unknown keys and wrong types, save and reload."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from engine.config import ConfigError, load_config, save_config, to_dict


@dataclass
class Search:
    simulations: int = 100
    c_init: float = 1.25
    gumbel: bool = False


@dataclass
class Run:
    game: str = "connect4"
    game_options: dict = field(default_factory=dict)
    mcts: Search = field(default_factory=Search)
    lr_steps: list[int] = field(default_factory=list)
    note: str | None = None


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("game: tictactoe\nmcts:\n  simulations: 50\n  c_init: 2\n")
    cfg = load_config(Run, path, ["mcts.simulations=200", "game_options.width=8", "lr_steps=[10, 20]"])
    assert cfg.game == "tictactoe" and cfg.mcts.simulations == 200 and cfg.mcts.c_init == 2.0
    assert isinstance(cfg.mcts.c_init, float)
    assert cfg.game_options == {"width": 8} and cfg.lr_steps == [10, 20]


@pytest.mark.parametrize("override, message", [
    ("mcts.simulation=3", "unknown config key 'mcts.simulation'; valid keys under mcts: simulations, c_init, gumbel"),
    ("mcts.simulations=lots", "mcts.simulations must be an integer, got 'lots'"),
    ("mcts.gumbel=2", "mcts.gumbel must be true or false"),
    ("seed=3", "unknown config key 'seed'; valid keys: game, game_options, mcts, lr_steps, note"),
    ("lr_steps=5", "lr_steps must be a list"),
    ("mcts", "must be written key=value"),
])
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError) as info:
        load_config(Run, None, [override])
    assert message in str(info.value)


def test_bad_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Run, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("mcts: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Run, bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("mcts:\n  simulatons: 5\n")
    with pytest.raises(ConfigError, match="mcts.simulatons"):
        load_config(Run, wrong)


def test_resolved_config_round_trip(tmp_path):
    cfg = load_config(Run, None, ["mcts.simulations=7", "note=hello"])
    save_config(cfg, tmp_path / "run" / "config.yaml")
    again = load_config(Run, tmp_path / "run" / "config.yaml")
    assert again == cfg and to_dict(again)["mcts"]["simulations"] == 7
