"""The Atari score table shipped with the package, human-normalized scores, and the benchmark's report."""

from __future__ import annotations

import csv
import json

import pytest

from engine.dqn.scores import SCORES_FILE, human_normalized, load_scores, reference

from .conftest import shared_file
from .test_cli import last_json, run_cli


def test_shipped_table_is_the_reference_data():
    assert SCORES_FILE.read_bytes() == shared_file("atari", "atari_scores.csv").read_bytes()
    assert len(load_scores()) == 57


def test_human_normalized_scores():
    assert human_normalized("pong", 14.6) == pytest.approx(1.0)
    assert human_normalized("pong", -20.7) == pytest.approx(0.0)
    assert human_normalized("breakout", 401.2) == pytest.approx((401.2 - 1.7) / (30.5 - 1.7))
    assert human_normalized("not_a_game", 1.0) is None
    # Nature DQN normalized with the 57-game columns reproduces the table's own computed column.
    with open(SCORES_FILE, newline="") as f:
        for row in csv.DictReader(f):
            if row["nature_dqn"]:
                ref = reference(row["game"])
                assert 100 * ref["nature_dqn_hns"] == pytest.approx(float(row["nature_dqn_hns_pct_vs_57table"]),
                                                                    abs=0.06), row["game"]
            else:
                assert reference(row["game"])["nature_dqn"] is None


def test_atari_benchmark_collects_a_run(tmp_path):
    run = tmp_path / "pong"
    run.mkdir()
    summary = {"env": "ALE/Pong-v5", "preset": "nature", "steps": 1000, "final_eval_return": -3.35,
               "best_eval_return": -3.0, "evaluations": [[500, -21.0], [1000, -3.35]], "wall_time_s": 10.0,
               "steps_per_second": 100.0, "acting_steps_per_second": 400.0, "updates_per_second": 30.0,
               "device": "cpu", "interrupted": False}
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "episodes.csv").write_text("step,return,length\n400,-21,800\n900,-15,1200\n")
    out = last_json(run_cli("engine.bench", "atari", "--games", "pong", "--collect", str(run), "--json",
                            "--out", str(tmp_path / "atari.json"), "--plots-dir", str(tmp_path / "plots")))
    game = out["games"][0]
    assert game["game"] == "pong" and game["score"] == -3.35 and game["nature_dqn"] == 18.9
    assert game["hns"] == pytest.approx((-3.35 + 20.7) / (14.6 + 20.7))
    assert out["median_hns"] == pytest.approx(game["hns"]) and "57-game" in out["human_column"]
    assert (tmp_path / "plots" / "pong.png").stat().st_size > 1000
    proc = run_cli("engine.bench", "atari", "--games", "breakout", "--collect", str(run), check=False)
    assert proc.returncode == 2 and "no finished run" in proc.stderr


@pytest.mark.slow  # a minute of Pong training; test_atari_benchmark_collects_a_run covers the command by default
def test_atari_benchmark_trains_when_no_run_exists(tmp_path):
    out = last_json(run_cli(
        "engine.bench", "atari", "--games", "pong", "--steps", "300", "--runs-dir", str(tmp_path / "runs"),
        "--plots-dir", str(tmp_path / "plots"), "--out", str(tmp_path / "atari.json"), "--json",
        "train.buffer_size=1000", "train.learning_starts=100", "eval.every=0", "eval.episodes=1", "eval.num_envs=1",
        "run.save_every=0", "run.tensorboard=false", "run.device=cpu"))
    game = out["games"][0]
    assert game["steps"] >= 300 and game["preset"] == "nature" and -21 <= game["score"] <= 21
    assert game["acting_steps_per_second"] > 0 and game["updates_per_second"] > 0
    assert (tmp_path / "plots" / "pong.png").is_file()
    # A second call finds the finished run instead of training again.
    again = last_json(run_cli("engine.bench", "atari", "--games", "pong", "--steps", "300", "--runs-dir",
                              str(tmp_path / "runs"), "--plots-dir", str(tmp_path / "plots"), "--out",
                              str(tmp_path / "atari2.json"), "--json"))
    assert again["games"][0]["run_dir"] == game["run_dir"]
