"""GTP with a network that predicts ownership (KataGo's head): ``kata-analyze ... ownership true`` output format and
``final_status_list dead`` from the ownership estimate."""

from __future__ import annotations

import io
import time

import numpy as np
import torch

import agents
import games
from agents.alphazero import AlphaZeroAgent, play_config
from agents.base import MoveStat
from engine.gtp import GtpEngine
from engine.gtp.analysis import analyze_tags, kata_info_line
from nets import PolicyValueNet, save_checkpoint

from .test_gtp import Session


def _column_net(game, logits):
    """A net whose ownership logits (mover's view) are ``logits[c]`` on every point of column ``c``."""
    torch.manual_seed(0)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16, ownership=True)
    bias = torch.tensor(logits, dtype=torch.float32)
    net.ownership_head.forward = lambda x: bias.expand(x.shape[0], game.size, game.size)
    return net


def test_kata_info_line_format():
    game = games.make("go", size=5)
    state = game.play_moves("C3")
    top = [MoveStat(game.point("B2"), 30, 0.25, 0.2, [game.point("B2"), game.point("D4")]),
           MoveStat(game.point("D2"), 10, 0.125, -0.5)]
    own = np.linspace(-1, 1, 25).reshape(5, 5)
    line = kata_info_line(game, state, top, 0, own)
    assert line.startswith("info move B2 visits 30 winrate 0.600000 prior 0.250000 order 0 pv B2 D4 "
                           "info move D2 visits 10 winrate 0.250000 prior 0.125000 order 1 pv D2 ownership ")
    values = [float(v) for v in line.split(" ownership ")[1].split()]
    np.testing.assert_allclose(values, own.ravel(), atol=1e-6)  # row by row from the top left
    assert "ownership" not in kata_info_line(game, state, top, 1, None) and " D2 " not in kata_info_line(
        game, state, top, 1, None)
    assert analyze_tags(["b", "10", "ownership", "true"], kata=True)["ownership"]
    assert not analyze_tags(["w", "interval", "50", "ownership", "false"], kata=True)["ownership"]


def test_final_status_list_dead_from_the_network_ownership():
    game = games.make("go", size=5, komi=0.5)
    net = _column_net(game, [2.0, 2.0, 2.0, -2.0, -2.0])  # the mover owns columns A-C, the other side D-E

    def make_player(g, first):
        return AlphaZeroAgent(g, net, play_config(g, 4)), "test network"

    engine = GtpEngine(make_player, size=5, komi=0.5, out=io.StringIO())
    for move in ("b D1", "w B2", "b A1", "w E5"):  # Black to move: the mover's view is Black's
        assert engine.execute(f"play {move}") == "=\n\n"
    assert engine.execute("final_status_list dead") == "= B2\nD1\n\n"
    assert engine.execute("final_status_list alive") == "= E5\nA1\n\n"
    assert engine.execute("final_status_list seki") == "=\n\n"
    assert "gfx/Ownership (network)/gogui-ownership" in engine.execute("gogui-analyze_commands")
    influence = engine.execute("gogui-ownership").split()
    assert influence[:2] == ["=", "INFLUENCE"] and len(influence) == 2 + 2 * 25
    pairs = dict(zip(influence[2::2], map(float, influence[3::2]), strict=True))
    assert pairs["A5"] == pairs["C1"] == 0.964 and pairs["D5"] == pairs["E1"] == -0.964  # tanh(2), Black's view


def test_kata_analyze_ownership_needs_an_ownership_network():
    def make_player(g, first):
        return agents.make("random", g, seed=0), "random"

    engine = GtpEngine(make_player, size=5, komi=0.5, out=io.StringIO())
    answer = engine.execute("kata-analyze b 10 ownership true")
    assert answer.startswith("? ownership: the engine's player has no network with an ownership head")
    assert engine.execute("gogui-ownership").startswith("? ownership: the engine's player has no network")
    assert "gogui-ownership" not in engine.execute("gogui-analyze_commands")
    assert engine.execute("known_command kata-analyze") == "= true\n\n"


def test_kata_analyze_streams_ownership_of_the_loaded_network(tmp_path):
    game = games.make("go9")
    torch.manual_seed(0)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16, ownership=True)
    path = save_checkpoint(tmp_path / "own9.pt", net, metadata={"game": "go9"})
    session = Session("--checkpoint", str(path), "--simulations", "400", "--seed", "1")
    try:
        assert session.ask("play b E5") == ["="]
        session.send("5 kata-analyze w 5 ownership true")
        assert session.line() == "=5"
        deadline = time.monotonic() + 60
        line = session.line()
        while "ownership" not in line and time.monotonic() < deadline:
            line = session.line()
        info, own = line.split(" ownership ")
        fields = info.split(" pv ")[0].split()
        assert fields[0] == "info" and fields[1] == "move"
        kv = dict(zip(fields[1::2], fields[2::2], strict=True))
        assert 0 <= float(kv["winrate"]) <= 1 and 0 <= float(kv["prior"]) <= 1 and kv["order"] == "0"
        values = np.array([float(v) for v in own.split()])
        assert values.shape == (81,) and np.abs(values).max() <= 1
        session.send("name")
        while session.line() != "":
            pass
        assert session.answer() == ["= rlengine"]
    finally:
        session.close()
