"""The run folder of ``engine.selfplay`` as a user meets it: resuming with changes, finished runs, the network to
play, interruptions before any network exists, and a run that stops at its target against pure MCTS."""

from __future__ import annotations

import io

import pytest
import yaml
from rich.console import Console

from engine.alphazero import SelfPlayRun, make_config
from engine.cli import UserError

from .test_alphazero_pipeline import TINY

QUIET = ["run.tensorboard=false", "run.plots=false"]


def tiny(*extra):
    return make_config(None, TINY + QUIET + list(extra))


def console():
    return Console(file=io.StringIO(), width=300)


def printed(run) -> str:
    return run.console.file.getvalue()


def test_resume_with_changes_saves_them_and_says_what_the_schedule_does(tmp_path):
    folder = tmp_path / "run"
    SelfPlayRun.create(tiny(), seed=2, folder=folder, progress=False, console=console()).run()
    more = SelfPlayRun.resume(folder, ["run.iterations=4"], progress=False, console=console())
    # the changed setting is the run's own now: a later plain --resume (Ctrl-C's "continue with" line) goes on
    assert yaml.safe_load((folder / "config.yaml").read_text())["run"]["iterations"] == 4
    assert SelfPlayRun.resume(folder, progress=False).cfg.run.iterations == 4
    # the cosine schedule (0.02 down to 0.002) spans the new length, so the rate goes back up: the run says so
    assert more.notes == ["learning rate: iteration 2 trained at 0.002; the cosine schedule now spans iterations "
                          "1..4, so iteration 3 trains at 0.0065 (to keep it lower, resume with "
                          "train.lr_schedule=constant train.lr=0.002)"]
    out = more.run()
    assert out["iterations"] == 4 and more.notes[0] in printed(more)


def test_resuming_a_finished_run_says_what_to_pass(tmp_path):
    from engine.selfplay import main

    folder = tmp_path / "run"
    SelfPlayRun.create(tiny("run.iterations=1"), seed=2, folder=folder, progress=False, console=console()).run()
    with pytest.raises(UserError, match=r"is finished: it has done its run.iterations=1 iterations; .*"
                                        r"--resume .* run.iterations=13"):
        main(["--resume", str(folder), "--no-progress"])


def test_the_network_to_play_is_named_for_what_it_is(tmp_path):
    plain = SelfPlayRun.create(tiny(), seed=1, folder=tmp_path / "a", progress=False, console=console())
    out = plain.run()
    newest = tmp_path / "a" / "checkpoints" / "newest.pt"
    assert out["checkpoint"] == str(newest) and not (tmp_path / "a" / "checkpoints" / "best.pt").exists()
    assert newest.read_bytes() == (tmp_path / "a" / "checkpoints" / "iter-0002.pt").read_bytes()
    assert f"play it: python -m engine.play tictactoe --checkpoint {newest}" in printed(plain)
    readme = (tmp_path / "a" / "README.txt").read_text()
    assert "checkpoints/newest.pt" in readme and "Two Elo figures" in readme
    gated = SelfPlayRun.create(tiny("eval.gating=true", "eval.opponents=[best, random]"), seed=1,
                               folder=tmp_path / "b", progress=False, console=console())
    assert gated.run()["checkpoint"] == str(tmp_path / "b" / "checkpoints" / "best.pt")
    assert not (tmp_path / "b" / "checkpoints" / "newest.pt").exists()


def test_an_interruption_in_the_first_iteration_names_no_missing_network(tmp_path):
    run = SelfPlayRun.create(tiny(), seed=1, folder=tmp_path / "run", progress=False, console=console())

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    run.games.play = interrupted
    out = run.run()
    assert out["stopped"] == "interrupted" and out["iterations"] == 0 and out["checkpoint"] is None
    assert "play it" not in printed(run) and "--resume" in printed(run)


def test_a_run_stops_once_its_network_reaches_the_target_against_pure_mcts(tmp_path):
    from engine.selfplay import main

    # pure MCTS with 1 rollout a move is nearly random: the first evaluation reaches a low target
    cfg = tiny("run.iterations=5", "run.target_mcts_score=0.25", "eval.mcts_simulations=1")
    run = SelfPlayRun.create(cfg, seed=4, folder=tmp_path / "run", progress=False, console=console())
    out = run.run()
    assert out["stopped"] == "target_reached" and out["iterations"] == 1 and out["score_mcts"] >= 0.25
    text = printed(run)
    assert "until its network scores >= 0.25 against pure MCTS with 1 rollouts, at most to iteration 5" in text
    assert "target reached: its network scored" in text and "play it: python -m engine.play tictactoe" in text
    with pytest.raises(UserError, match="is finished: its network scored .* run.target_mcts_score=0"):
        main(["--resume", str(tmp_path / "run"), "--no-progress"])


def test_a_target_needs_evaluations_against_pure_mcts():
    with pytest.raises(UserError, match="run.target_mcts_score needs evaluations against pure MCTS"):
        tiny("run.target_mcts_score=0.5", "eval.opponents=[previous, random]")


def test_the_default_run_goes_until_it_beats_pure_mcts_with_1000_rollouts():
    from engine.selfplay import DEFAULT_CONFIG

    cfg = make_config(DEFAULT_CONFIG)
    assert cfg.game.name == "connect4" and cfg.eval.mcts_simulations == 1000 and "mcts" in cfg.eval.opponents
    assert cfg.run.target_mcts_score > 0.5 and cfg.run.iterations > 12  # a target, and a cap above the old length
    assert make_config().run.target_mcts_score == 0  # other configs and files inherit no stopping rule
