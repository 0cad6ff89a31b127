"""KataGo's auxiliary targets in the AlphaZero pipeline: self-play records the final ownership and score margin from
each mover's view, the replay keeps (and saves, and augments) them, the learner trains the heads on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import games
from engine.alphazero import Learner, ReplayBuffer, SelfPlayWorker, build_net, make_config
from engine.alphazero.learner import score_target
from engine.config import ConfigError
from nets import score_support

GO5 = [
    "game.name=go", "game.options={size: 5, komi: 0.5}", "net.blocks=1", "net.channels=8", "net.value_hidden=16",
    "net.ownership=true", "net.score=true", "train.ownership_weight=1.5", "train.score_weight=0.02",
    "mcts.simulations=8", "mcts.gumbel_max_considered=4", "selfplay.parallel_games=4",
    "selfplay.games_per_iteration=4", "selfplay.resign_threshold=-1", "train.batch_size=32", "train.lr=0.01",
    "run.device=cpu",
]


@pytest.fixture(scope="module")
def go5_batch():
    cfg = make_config(None, GO5)
    game = games.make("go", size=5, komi=0.5)
    torch.manual_seed(0)
    return game, cfg, SelfPlayWorker(game, cfg, continuous=False).play(4, seed=3)


def test_selfplay_records_final_ownership_and_score_for_the_mover(go5_batch):
    game, _, batch = go5_batch
    n = len(batch)
    assert batch.ownership.shape == (n, 5, 5) and batch.ownership.dtype == np.int8
    assert batch.score.shape == (n,) and batch.has_target.all()
    row = 0
    for g in batch.games:  # every searched move is a position (no resignation, no playout cap)
        assert g.reason == "end"
        state = game.play_moves([game.format_move(None, a) for a in g.actions])
        own, margin = game.ownership(state), game.score_margin(state)
        for ply in range(len(g.actions)):
            sign = 1 if ply % 2 == 0 else -1  # Black moves at even plies
            np.testing.assert_array_equal(batch.ownership[row + ply], sign * own)
            assert batch.score[row + ply] == sign * margin
        row += len(g.actions)
    assert row == n


def test_learner_trains_the_auxiliary_heads(go5_batch):
    game, cfg, batch = go5_batch
    torch.manual_seed(1)
    learner = Learner(build_net(game, cfg), cfg.train, "cpu")
    args = (batch.planes, batch.policy, batch.value, batch.result, batch.ownership, batch.score, batch.has_target)
    first = learner.train_batch(*args)
    for _ in range(40):
        last = learner.train_batch(*args)
    assert last["ownership_loss"] < 0.7 * first["ownership_loss"]
    assert last["score_loss"] < first["score_loss"]
    # positions without targets (resigned games) add nothing
    none = learner.train_batch(*args[:6], np.zeros(len(batch), np.bool_))
    assert none["ownership_loss"] == 0 and none["score_loss"] == 0


def test_replay_keeps_saves_and_augments_the_targets(go5_batch, tmp_path):
    game, _, batch = go5_batch
    buf = ReplayBuffer(1000, game.plane_shape, game.num_actions, aux=True)
    # a marker ownership map: the mover's stones; under any symmetry it must stay equal to plane 0
    marker = batch.planes[:, 0].astype(np.int8)
    buf.add(batch.planes, batch.policy, batch.value, batch.result, marker, batch.score, batch.has_target)
    x, _, _, _, own, score, has = buf.sample(300, np.random.default_rng(0), game, augment=True)
    np.testing.assert_array_equal(own, x[:, 0])
    assert has.all() and set(np.unique(np.abs(score))) <= set(np.abs(batch.score))
    path = buf.save(tmp_path / "aux.npz")
    loaded, meta = ReplayBuffer.load(path)
    assert meta["aux"] and loaded.aux
    np.testing.assert_array_equal(loaded.ownership[:len(batch)], marker)
    np.testing.assert_array_equal(loaded.score[:len(batch)], batch.score)
    # a replay file without the targets loads into a buffer that wants them: its rows have none
    old = ReplayBuffer(1000, game.plane_shape, game.num_actions)
    old.add(batch.planes, batch.policy, batch.value, batch.result)
    upgraded, _ = ReplayBuffer.load(old.save(tmp_path / "old.npz"), aux=True)
    assert upgraded.aux and len(upgraded) == len(batch) and not upgraded.has_target.any()
    assert len(upgraded.sample(4, np.random.default_rng(1))) == 7


def test_score_target_bins():
    support = score_support(25)  # -44.5 .. 44.5
    t = score_target(torch.tensor([3.5, 3.0, -100.0, 0.5]), support)
    assert torch.allclose(t.sum(1), torch.ones(4))
    i = int((support == 3.5).nonzero())
    assert t[0, i] == 1.0                             # on a bin: one-hot
    assert t[1, i - 1] == 0.5 and t[1, i] == 0.5      # an integer margin: half on 2.5, half on 3.5
    assert t[2, 0] == 1.0                             # beyond the range: the end bin
    assert float((t[3] * support).sum()) == 0.5


def test_config_checks():
    with pytest.raises(ConfigError, match="set net.ownership: true"):
        make_config(None, ["train.ownership_weight=1.5"])
    with pytest.raises(ConfigError, match="set net.score: true"):
        make_config(None, ["train.score_weight=0.02"])
    with pytest.raises(ConfigError, match="train.ownership_weight must be >= 0"):
        make_config(None, ["train.ownership_weight=-1"])
    cfg = make_config(None, ["game.name=tictactoe", "net.ownership=true", "train.ownership_weight=1"])
    with pytest.raises(ConfigError, match="tictactoe has no ownership or score targets"):
        SelfPlayWorker(games.make("tictactoe"), cfg)


def test_agent_reports_the_network_ownership_from_blacks_view():
    from agents.alphazero import AlphaZeroAgent, play_config
    from nets import PolicyValueNet

    game = games.make("go", size=5, komi=0.5)
    torch.manual_seed(2)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16,
                         ownership=True, score=True)
    agent = AlphaZeroAgent(game, net, play_config(game, 8))
    assert agent.has_ownership
    for moves in ("C3", "C3 B2"):  # White, then Black to move
        state = game.play_moves(moves)
        aux = agent.evaluator.auxiliary(game.encode(state)[None])
        sign = 1 if game.to_play(state) == 0 else -1
        own = agent.ownership(state)
        assert own.shape == (5, 5) and np.abs(own).max() <= 1
        np.testing.assert_allclose(own, sign * aux["ownership"][0])
        assert agent.score_lead(state) == pytest.approx(sign * float(aux["score"][0]))
    plain = AlphaZeroAgent(game, PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8),
                           play_config(game, 8))
    assert not plain.has_ownership and plain.ownership(state) is None and plain.score_lead(state) is None


def test_play_territory_command_shows_the_network_ownership():
    from agents.alphazero import AlphaZeroAgent, play_config
    from engine.ui.session import Session
    from nets import PolicyValueNet

    from .test_play_session import Recorder

    game = games.make("go", size=5, komi=0.5)
    torch.manual_seed(3)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16,
                         ownership=True, score=True)
    with torch.no_grad():  # the mover (Black) owns the left three columns, White the right two
        net.ownership_head.conv.weight.zero_()
        net.ownership_head.conv.bias.fill_(0.0)
    bias = torch.tensor([2.0, 2.0, 2.0, -2.0, -2.0])
    net.ownership_head.forward = lambda x: bias.expand(x.shape[0], 5, 5)
    agent = AlphaZeroAgent(game, net, play_config(game, 4), name="az")
    screen = Recorder()
    session = Session(game, lambda g: agent, screen, person=0)
    session.handle("territory")
    own = agent.ownership(session.state)
    black, white = int((own >= 0.5).sum()), int((own <= -0.5).sum())
    assert (black, white) == (15, 10)
    assert f"territory by az's network: x Black {black} points, o White {white} points" in screen.text
    board = [line for line in screen.lines if line[:2].strip().isdigit()]
    marks = "".join(line[3:3 + 2 * 5:2] for line in board)  # the 25 points, top row first
    assert marks.count("x") == black and marks.count("o") == white
    lead = agent.score_lead(session.state)
    assert f"ahead by {abs(lead):.1f}" in screen.text
    screen.lines.clear()
    other = Session(games.make("tictactoe"), agents_random, Recorder(), person=0)
    other.handle("territory")
    assert "there is no territory in tictactoe" in other.screen.text


def agents_random(game):
    import agents

    return agents.make("random", game, seed=0)
