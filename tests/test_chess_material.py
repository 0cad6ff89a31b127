"""The material + quiescence evaluator (``agents.material``) and the MCTS player over it (``mcts-material``)."""

from __future__ import annotations

import numpy as np
import pytest

import agents
import games
from agents.material import MATE, MaterialEvaluator, noisy_moves
from games.chess import notation as N
from games.chess import rules as R
from games.chess.score import cp_to_value


@pytest.fixture(scope="module")
def chess():
    return games.make("chess")


@pytest.fixture(scope="module")
def evaluator(chess):
    return MaterialEvaluator(chess)


def test_noisy_moves_are_the_legal_captures_and_queen_promotions(chess):
    """The quiescence move generator against the rules' legal moves on positions of random games."""
    rng = np.random.default_rng(5)
    moves, scratch = np.zeros(256, np.int64), np.zeros(16, np.int64)
    checked = 0
    for _ in range(12):
        s = chess.initial_state()
        while not chess.is_terminal(s):
            them = s[R.WHITE_BB + 1 - s[R.SIDE]]
            want = sorted(m for m in N.legal_move_list(chess.params, s)
                          if ((m >> 12) & 7) in (0, R.QUEEN)
                          and ((them >> ((m >> 6) & 63)) & 1 or m & R.FLAG_EP or (m >> 12) & 7))
            n = noisy_moves(chess.params, s, moves, scratch)
            assert sorted(int(m) for m in moves[:n]) == want, chess.to_fen(s)
            checked += 1
            s = chess.apply(s, int(rng.choice(chess.legal_actions(s))))
    assert checked > 1000


@pytest.mark.parametrize("fen, best, low, high", [
    ("rnb1kbnr/pppp1ppp/8/4p1q1/4P3/3P4/PPP2PPP/RNBQKBNR w KQkq - 1 3", "c1g5", 800, 1000),  # a free queen
    ("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1", "a1a8", MATE - 10, MATE),  # mate in one
    ("4k3/8/8/3q4/8/8/8/3RK3 w - - 0 1", "d1d5", 350, 600),  # the rook takes the queen
    ("4k3/8/8/3q4/8/8/8/1K1R4 b - - 0 1", "d5d1", 800, 1000),  # an unguarded rook
])
def test_one_ply_search_finds_the_tactic(chess, evaluator, fen, best, low, high):
    s = chess.from_fen(fen)
    logits, values = evaluator.evaluate_states(s[None], chess.legal_mask(s)[None])
    assert chess.format_uci(s, int(np.argmax(logits[0]))) == best
    assert low <= evaluator.score(s) <= high
    assert values[0] == pytest.approx(1.0 if evaluator.score(s) >= MATE - 100 else cp_to_value(evaluator.score(s)))


def test_quiescence_sees_the_recapture(chess, evaluator):
    """Nxe5 wins a pawn only if nothing recaptures: statically +100, after the exchange it is a knight for a pawn."""
    s = chess.from_fen("r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3")
    logits, _ = evaluator.evaluate_states(s[None], chess.legal_mask(s)[None])
    nxe5 = chess.parse_move(s, "Nxe5")
    assert logits[0, nxe5] < logits[0].max() - 1.0  # the prior knows the capture loses material


def test_scores_are_colour_symmetric(chess, evaluator):
    """Mirroring the board and swapping the colours gives the same score for the side to move."""
    rng = np.random.default_rng(2)
    s = chess.initial_state()
    for _ in range(40):
        s = chess.apply(s, int(rng.choice(chess.legal_actions(s))))
        if chess.is_terminal(s):
            break
        fields = chess.to_fen(s).split()
        mirrored_board = "/".join(row.swapcase() for row in reversed(fields[0].split("/")))
        castling = fields[2] if fields[2] == "-" else "".join(sorted(fields[2].swapcase(), key="KQkq".index))
        ep = fields[3] if fields[3] == "-" else fields[3][0] + str(9 - int(fields[3][1]))
        side = "b" if fields[1] == "w" else "w"
        mirrored = chess.from_fen(" ".join([mirrored_board, side, castling, ep, fields[4], fields[5]]))
        assert evaluator.static(s) == evaluator.static(mirrored)
        assert evaluator.score(s) == evaluator.score(mirrored)


def test_values_and_priors_are_well_formed(chess, evaluator):
    rng = np.random.default_rng(3)
    states, s = [], chess.initial_state()
    while not chess.is_terminal(s) and len(states) < 60:
        states.append(s)
        s = chess.apply(s, int(rng.choice(chess.legal_actions(s))))
    states = np.stack(states)
    legal = np.stack([chess.legal_mask(x) for x in states])
    logits, values = evaluator.evaluate_states(states, legal)
    assert values.shape == (len(states),) and np.all(np.abs(values) <= 1)
    assert np.all(logits[legal] <= 0) and np.all(logits[legal] >= -12) and np.all(logits[~legal] < -12)
    assert np.all(logits.max(axis=1) == 0)  # the best move has logit 0


def test_material_mcts_plays_the_tactics(chess):
    player = agents.make("mcts-material:200", chess)
    s = chess.from_fen("rnb1kbnr/pppp1ppp/8/4p1q1/4P3/3P4/PPP2PPP/RNBQKBNR w KQkq - 1 3")
    decision = player.choose(s)
    assert chess.format_uci(s, decision.action) == "c1g5" and decision.value > 0.5
    assert decision.info["pv"][0] == decision.action
    with pytest.raises(ValueError, match="number of simulations"):
        agents.make("mcts-material:many", chess)
    with pytest.raises(ValueError, match="chess only"):
        agents.make("mcts-material:10", games.make("connect4"))


def test_material_mcts_beats_random(chess):
    from engine.matches import play_game

    for colour in (0, 1):
        players = [agents.make("mcts-material:60", chess), agents.make("random", chess, seed=colour)]
        record = play_game(chess, players if colour == 0 else players[::-1], max_moves=400)
        assert record.result == (1 if colour == 0 else -1)


def test_material_mix_takes_the_networks_priors_and_mixes_the_values(chess, evaluator, tmp_path):
    """``MaterialMixEvaluator``: the network's logits, ``(1 - mix) v_net + mix v_material``; the agent's
    ``material_mix`` swaps it in and out (0: the plain network evaluator); a mix outside [0, 1] is an error."""
    import torch

    from agents.material import MaterialMixEvaluator
    from nets import PolicyValueNet, save_checkpoint

    torch.manual_seed(0)
    net = PolicyValueNet(chess.plane_shape, chess.num_actions, blocks=1, channels=8, value_hidden=16)
    path = save_checkpoint(tmp_path / "tiny.pt", net, metadata={"game": "chess"})
    agent = agents.make(f"alphazero:{path}", chess, simulations=40, material=0.25)
    mixed = agent.evaluator
    assert isinstance(mixed, MaterialMixEvaluator) and agent.material_mix == 0.25
    states = np.stack([chess.parse_position(p) for p in ("startpos", "startpos moves e2e4 d7d5",
                                                         "4k3/8/8/3q4/4P3/8/8/4K3 w - - 0 1")])
    legal = np.stack([chess.legal_mask(s) for s in states])
    logits, values = mixed.evaluate_states(states, legal)
    net_logits, net_values = mixed.network(np.stack([chess.encode(s) for s in states]), legal)
    _, material = evaluator.evaluate_states(states, legal)
    np.testing.assert_array_equal(logits, net_logits)
    np.testing.assert_allclose(values, 0.75 * net_values + 0.25 * material, atol=1e-6)
    assert material[2] > 0.2 > material[0] > 0  # exd5 wins the queen (a pawn up after it); the start is level
    assert agent.choose(states[2]).action == chess.parse_move(states[2], "exd5")
    agent.material_mix = 0
    assert agent.evaluator is mixed.network and agent.material_mix == 0.0
    with pytest.raises(ValueError, match="material mix is from 0 to 1"):
        agent.material_mix = 1.5
