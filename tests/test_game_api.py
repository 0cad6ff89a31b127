"""One generic API test run over every game: dtypes, masks, random play, errors, notation, symmetries."""

from __future__ import annotations

import numpy as np
import pytest

import games
from games import IllegalMove

# (name, kwargs) of every game configuration under test; more games join as they are registered.
GAME_SPECS = [
    ("tictactoe", {}),
    ("connect4", {}),
    ("connect4", {"width": 5, "height": 4}),
    ("connect4", {"width": 9, "height": 8}),  # too big for a 64-bit key: the hash falls back to a mix
]
for _name, _kw in [("go", {"size": 5}), ("go", {"size": 9}), ("chess", {})]:
    if _name in games.list_games():
        GAME_SPECS.append((_name, _kw))

IDS = [n + "".join(f"-{k}{v}" for k, v in kw.items()) for n, kw in GAME_SPECS]


@pytest.fixture(params=GAME_SPECS, ids=IDS)
def game(request):
    name, kwargs = request.param
    return games.make(name, **kwargs)


def random_states(game, n_games=20, seed=0):
    """Positions from random games, every ply, terminal ones included."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_games):
        s = game.initial_state()
        out.append(s)
        for _ in range(game.max_game_length):
            if game.is_terminal(s):
                break
            s = game.apply(s, int(rng.choice(game.legal_actions(s))))
            out.append(s)
    return out


def test_metadata(game):
    s = game.initial_state()
    assert s.ndim == 1
    assert game.legal_mask(s).shape == (game.num_actions,)
    assert game.legal_mask(s).dtype == np.bool_
    planes = game.encode(s)
    assert planes.shape == game.plane_shape and planes.dtype == np.float32
    assert game.max_game_length > 0 and game.num_symmetries >= 1
    assert not game.is_terminal(s) and game.to_play(s) == 0


def test_random_play_is_consistent(game):
    rng = np.random.default_rng(1)
    for _ in range(10):
        s = game.initial_state()
        for ply in range(game.max_game_length + 1):
            mask = game.legal_mask(s)
            if game.is_terminal(s):
                assert not mask.any(), "a finished game has no legal moves"
                assert game.result(s) in (-1, 0, 1)
                break
            assert mask.any()
            assert game.to_play(s) == ply % 2 or game.name.startswith("go")
            a = int(rng.choice(np.flatnonzero(mask)))
            before = s.copy()
            child = game.apply(s, a)
            assert np.array_equal(s, before), "apply must not change its input"
            planes = game.encode(child)
            assert np.isfinite(planes).all() and planes.min() >= 0.0
            s = child
        else:
            pytest.fail("game did not end within max_game_length")


def test_illegal_and_malformed_actions_raise(game):
    s = game.initial_state()
    for bad in (-1, game.num_actions, 2.5, "3", None, True):
        with pytest.raises(IllegalMove):
            game.apply(s, bad)
    for text in ("", "garbage", "zz99", "0", "-3", "1 2"):
        with pytest.raises(IllegalMove) as info:
            game.parse_move(s, text)
        assert str(info.value)


def test_terminal_position_rejects_moves(game):
    s = random_states(game, n_games=1, seed=3)[-1]
    assert game.is_terminal(s)
    with pytest.raises(IllegalMove, match="over"):
        game.apply(s, 0)


def test_notation_round_trip(game):
    for s in random_states(game, n_games=3)[:60]:
        for a in game.legal_actions(s):
            text = game.format_move(s, a)
            assert game.parse_move(s, text) == a, text
        assert isinstance(game.render(s), str)


def test_symmetries_commute_with_encoding(game):
    """encode(T(state)) == T(encode(state)) and legal(T(state)) == T(legal(state)) on random positions."""
    for s in random_states(game, n_games=4, seed=5):
        planes, mask = game.encode(s), game.legal_mask(s)
        for k in range(game.num_symmetries):
            t = game.transform_state(s, k)
            np.testing.assert_array_equal(game.encode(t), game.transform_planes(planes, k))
            np.testing.assert_array_equal(game.legal_mask(t), game.transform_policy(mask, k))
            assert game.is_terminal(t) == game.is_terminal(s)


def test_symmetric_action_maps_move_to_move(game):
    """Playing T(a) in T(s) gives T(apply(s, a)): the action map agrees with the state map."""
    rng = np.random.default_rng(7)
    for s in random_states(game, n_games=2, seed=9)[:30]:
        if game.is_terminal(s):
            continue
        a = int(rng.choice(game.legal_actions(s)))
        onehot = np.zeros(game.num_actions, np.float32)
        onehot[a] = 1
        for k in range(game.num_symmetries):
            ta = int(np.argmax(game.transform_policy(onehot, k)))
            lhs = game.apply(game.transform_state(s, k), ta)
            rhs = game.transform_state(game.apply(s, a), k)
            np.testing.assert_array_equal(game.encode(lhs), game.encode(rhs))


def test_registry_errors():
    with pytest.raises(ValueError, match="known games: .*connect4.*tictactoe"):
        games.make("checkers")
    with pytest.raises(ValueError, match="does not take"):
        games.make("tictactoe", size=4)
    with pytest.raises(ValueError, match="width"):
        games.make("connect4", width=2)
