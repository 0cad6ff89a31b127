"""Go under the search: the MCTS kernels are compiled without reference counting, so every rules kernel they
reach (``apply`` ends a game with ``area``) must allocate nothing; ``area`` must agree with a flood fill."""

from __future__ import annotations

import numpy as np

import agents
import games
from games.go.rules import play_random


def _flood_area(board: np.ndarray) -> tuple[int, int]:
    """Tromp-Taylor area by an explicit flood fill (the reference)."""
    n = board.shape[0]
    black, white = int((board == 1).sum()), int((board == 2).sum())
    seen = np.zeros_like(board, dtype=bool)
    for r in range(n):
        for c in range(n):
            if board[r, c] != 0 or seen[r, c]:
                continue
            stack, size, reach = [(r, c)], 0, 0
            seen[r, c] = True
            while stack:
                y, x = stack.pop()
                size += 1
                for yy, xx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                    if 0 <= yy < n and 0 <= xx < n:
                        if board[yy, xx] == 0 and not seen[yy, xx]:
                            seen[yy, xx] = True
                            stack.append((yy, xx))
                        elif board[yy, xx] != 0:
                            reach |= int(board[yy, xx])
            black += size if reach == 1 else 0
            white += size if reach == 2 else 0
    return black, white


def test_area_matches_flood_fill_and_leaves_the_state_alone():
    rng = np.random.default_rng(3)
    for size in (5, 9, 19):
        g = games.make("go", size=size)
        for _ in range(60):
            s = g.initial_state()
            np.random.seed(int(rng.integers(1 << 31)))
            play_random(g.params, s, int(rng.integers(0, 3 * size * size)))
            before = s.copy()
            assert g.area(s) == _flood_area(g.board(s))
            assert np.array_equal(s, before)
    g = games.make("go", size=5)
    snake = g.state_from_board(["X.XXX", "X.X.X", "X.X.X", "X...X", "XXXXX"])  # one long region
    assert g.area(snake) == (25, 0)
    assert g.area(g.state_from_board(["X...O"] + ["....."] * 4)) == (1, 1)  # a region touching both


def test_pure_mcts_plays_go_to_the_end():
    g = games.make("go", size=5, komi=0.5)
    agent = agents.make("mcts:40", g, seed=1)
    s = g.initial_state()
    while not g.is_terminal(s):
        d = agent.choose(s)
        assert g.legal_mask(s)[d.action]
        agent.observe(s, d.action)
        s = g.apply(s, d.action)
    b, w = g.area(s)
    assert g.score(s) == b - w - 0.5 and g.result(s) == (1 if b - w > 0.5 else -1)
