"""Slow acceptance runs (``pytest -m slow``): DQN on CartPole-v1 with the default config over five seeds."""

from __future__ import annotations

import pytest

from .test_cli import last_json, run_cli


@pytest.mark.slow
def test_cartpole_reaches_475_within_50k_steps_in_4_of_5_seeds(tmp_path):
    out = last_json(run_cli("engine.bench", "dqn_cartpole", "--seeds", "0,1,2,3,4", "--workers", "2", "--json",
                            "--out", str(tmp_path / "cartpole.json")))
    assert out["seeds"] == 5 and all(r["steps"] == 50_000 for r in out["runs"])
    assert out["seeds_reaching"] >= 4, out["runs"]
    # the default config's robustness (measured: all 5 by 40k, each at 475 or more at every evaluation from then on)
    assert out["seeds_reaching_by"] == 5 and out["seeds_holding_from_by"] == 5, out["runs"]
