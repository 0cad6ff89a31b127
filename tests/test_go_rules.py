"""Go rules: every gomill/minigo case of ../shared/data/go/rules_cases.json through the game API, a
differential test against a slow plain-Python reference on random games, planes, symmetries, coordinates."""

from __future__ import annotations

import json

import numpy as np
import pytest

import games
from games import IllegalMove
from games.go import coords, rules

from .conftest import SHARED_DATA, shared_file


def _load_cases():
    path = SHARED_DATA / "go" / "rules_cases.json"
    if not path.exists():
        return [pytest.param(None, id="rules_cases.json-missing")]
    return [pytest.param(c, id=c["id"]) for c in json.loads(path.read_text())["cases"]]


def _game_for(case, ko_rule="positional", komi=0.0):
    width, height = case["size"]
    assert width == height
    return games.make("go", size=width, komi=komi, ko_rule=ko_rule)


def _colour_point(text):
    colour, point = text.split()
    return colour, point


def _ko_rules(case, step=None):
    """The ko rules a case (or step) is checked under."""
    wanted = (step or {}).get("ko_rule") or case.get("rules", {}).get("ko", "any")
    if wanted == "any":
        return ["positional", "situational", "simple"]
    return [wanted] if isinstance(wanted, str) else list(wanted)


def _run_placements(case):
    g = _game_for(case)
    s = g.initial_state()
    for m in case["moves"]:
        colour, point = _colour_point(m)
        s = g.place(s, point, colour)
        assert rules.check_groups(g.params, s), f"groups out of sync after {m}"
    exp = case["expect"]
    assert g.board_rows(s) == exp["board"]
    ko = g.ko_point(s)
    assert (None if ko is None else coords.to_gtp(ko, g.size)) == exp["simple_ko_point"]
    assert g.area_score(s) == exp["area_score_b_minus_w"]


def _run_score(case):
    komi = case.get("komi", 0.0)
    g = _game_for(case, komi=komi)
    s = g.state_from_board(case["board"])
    exp = case["expect"]
    if "area_score_b_minus_w" in exp:
        assert g.area_score(s) == exp["area_score_b_minus_w"]
    if "tt_score_b_minus_w" in exp:
        assert g.score(s) == exp["tt_score_b_minus_w"]


def _run_position_validity(case):
    g = _game_for(case)
    exp = case["expect"]
    if exp["valid"]:
        s = g.setup_state(case["black"], case["white"])
    else:
        with pytest.raises(ValueError, match="without liberties"):
            g.setup_state(case["black"], case["white"])
        s = g.setup_state(case["black"], case["white"], remove_libertyless=True)
    assert g.board_rows(s) == exp["board_after_removing_libertyless_groups"]
    assert rules.check_groups(g.params, s)


def _run_legality(case):
    for ko_rule in ("positional", "situational", "simple"):
        g = _game_for(case, ko_rule=ko_rule)
        s = g.state_from_board(case["board"], to_play=case["to_move"])
        mask = g.legal_mask(s)
        for point in case["expect"]["illegal"]:
            assert not mask[g.point(point)], point
            with pytest.raises(IllegalMove, match="suicide"):
                g.parse_move(s, point)
        for point in case["expect"]["legal"]:
            assert mask[g.point(point)], point
            assert g.parse_move(s, point) == g.point(point)


def _run_sequence(case):
    for ko_rule in _ko_rules(case):
        g = _game_for(case, ko_rule=ko_rule)
        s = g.state_from_board(case["board"], to_play=case["to_move"])
        start_caps = g.captures(s)
        for step in case.get("steps", []):
            if "play" in step or "force" in step:
                colour, point = _colour_point(step.get("play") or step["force"])
                assert "BW".index(colour.upper()) == g.to_play(s), f"{step}: colour to move"
                if "play" in step:
                    s = g.apply(s, g.parse_move(s, point))
                else:
                    s = g.force_move(s, point)
                continue
            if ko_rule not in _ko_rules(case, step):
                continue
            if "expect_board" in step:
                assert g.board_rows(s) == step["expect_board"]
            # the ko law is asked of the position (move_status) even where two passes ended the game
            over = g.is_terminal(s)
            mask = g.legal_mask(s)
            for key, legal in (("expect_legal", True), ("expect_illegal", False)):
                if key in step:
                    assert "BW".index(step[key]["color"].upper()) == g.to_play(s)
                    for point in step[key]["points"]:
                        p = g.point(point)
                        assert (g.move_status(s, p) is None) == legal, f"{ko_rule}: {point} legal={legal}"
                        if over:
                            continue
                        assert mask[p] == legal, f"{ko_rule}: {point} legal={legal} in the mask"
                        if not legal:
                            with pytest.raises(IllegalMove, match="ko"):
                                g.parse_move(s, point)
            if "expect_illegal_set" in step:
                assert "BW".index(step["expect_illegal_set"]["color"].upper()) == g.to_play(s)
                board = g.board(s).ravel()
                banned = {coords.to_gtp(p, g.size) for p in range(g.size * g.size)
                          if board[p] == 0 and (g.move_status(s, p) or "suicide").startswith(("ko", "superko"))}
                assert banned == set(step["expect_illegal_set"]["points"])
            assert rules.check_groups(g.params, s)
        exp = case.get("expect", {})
        if "board" in exp:
            assert g.board_rows(s) == exp["board"]
        if "captured_by_black" in exp:
            assert g.captures(s)[0] - start_caps[0] == exp["captured_by_black"]
        if "captured_by_white" in exp:
            assert g.captures(s)[1] - start_caps[1] == exp["captured_by_white"]


def _run_sgf_replay(case):
    from games.go import load_sgf

    loaded = load_sgf(case["sgf"])
    g, s = loaded.game, loaded.state
    exp = case["expect"]
    assert g.size == case["size"][0]
    assert g.moves_played(s) == exp["moves"]
    assert g.board_rows(s) == exp["board"]
    assert g.captures(s) == (exp["captured_by_black"], exp["captured_by_white"])
    assert rules.check_groups(g.params, s)


RUNNERS = {
    "placements": _run_placements,
    "score": _run_score,
    "position_validity": _run_position_validity,
    "legality": _run_legality,
    "sequence": _run_sequence,
    "sgf_replay": _run_sgf_replay,
}


@pytest.mark.parametrize("case", _load_cases())
def test_rules_case(case):
    if case is None:
        shared_file("go", "rules_cases.json")
    assert case["type"] in RUNNERS, f"unknown case type {case['type']}"
    RUNNERS[case["type"]](case)


# ------------------------------------------------------------------------------ slow reference
class ReferenceGo:
    """An independent plain-Python Go: boards as lists, groups and their liberty sets found by flood fill
    after every ply, history as sets of boards. Tromp-Taylor scoring; suicide illegal; positional or
    situational superko, or simple ko (no move may recreate the board as it was before the opponent's
    last move)."""

    def __init__(self, size, komi, ko_rule, max_moves):
        self.n, self.komi, self.ko_rule, self.max_moves = size, komi, ko_rule, max_moves
        self.nbrs = []
        for p in range(size * size):
            r, c = divmod(p, size)
            self.nbrs.append([(r + dr) * size + c + dc for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                              if 0 <= r + dr < size and 0 <= c + dc < size])
        self.board = [0] * (size * size)
        self.to_play = 0
        self.boards = [tuple(self.board)]                    # board after every ply, the start included
        self.seen_boards = {self.boards[0]}                  # positional superko
        self.seen_situations = {(self.boards[0], 0)}         # situational: (board, player to move)
        self.passes = self.ply = 0
        self.over = False
        self.prisoners = [0, 0]
        self._analyse()

    def _analyse(self):
        """Group of every stone (a list of points) and the liberty set of every group, by flood fill."""
        self.group_of, self.groups, self.libs = {}, [], []
        for p, v in enumerate(self.board):
            if v == 0 or p in self.group_of:
                continue
            gid, stones, libs, stack = len(self.groups), [p], set(), [p]
            self.group_of[p] = gid
            while stack:
                s = stack.pop()
                for t in self.nbrs[s]:
                    if self.board[t] == 0:
                        libs.add(t)
                    elif self.board[t] == v and t not in self.group_of:
                        self.group_of[t] = gid
                        stones.append(t)
                        stack.append(t)
            self.groups.append(stones)
            self.libs.append(libs)

    def _after(self, p):
        """(board after the player to move plays p, stones captured), or None for suicide."""
        me = self.to_play + 1
        captured, alive = [], False
        for q in self.nbrs[p]:
            v = self.board[q]
            if v == 0:
                alive = True
            elif v == me:
                alive |= bool(self.libs[self.group_of[q]] - {p})
            elif self.libs[self.group_of[q]] == {p} and self.group_of[q] not in captured:
                captured.append(self.group_of[q])
        if captured:
            alive = True
        if not alive:
            return None
        board = list(self.board)
        board[p] = me
        for gid in captured:
            for s in self.groups[gid]:
                board[s] = 0
        return board, sum(len(self.groups[gid]) for gid in captured)

    def why_illegal(self, p):
        """None when the player to move may play on the empty point p, else suicide / ko / superko."""
        res = self._after(p)
        if res is None:
            return "suicide"
        new = tuple(res[0])
        if self.ko_rule == "simple":
            return "ko" if len(self.boards) >= 2 and new == self.boards[-2] else None
        if self.ko_rule == "positional":
            return "superko" if new in self.seen_boards else None
        return "superko" if (new, 1 - self.to_play) in self.seen_situations else None

    def play(self, p):
        if p == self.n * self.n:
            self.passes += 1
        else:
            self.board, captured = self._after(p)
            self.prisoners[self.to_play] += captured
            self.passes = 0
            self._analyse()
        self.to_play = 1 - self.to_play
        self.ply += 1
        board = tuple(self.board)
        self.boards.append(board)
        self.seen_boards.add(board)
        self.seen_situations.add((board, self.to_play))
        if self.passes >= 2 or self.ply >= self.max_moves:
            self.over = True

    def score(self):
        area = [0, 0]
        seen = set()
        for p, v in enumerate(self.board):
            if v:
                area[v - 1] += 1
            elif p not in seen:
                region, stack, reach = {p}, [p], set()
                while stack:
                    s = stack.pop()
                    for t in self.nbrs[s]:
                        if self.board[t] == 0 and t not in region:
                            region.add(t)
                            stack.append(t)
                        elif self.board[t]:
                            reach.add(self.board[t])
                seen |= region
                if reach == {1}:
                    area[0] += len(region)
                elif reach == {2}:
                    area[1] += len(region)
        return area[0] - area[1] - self.komi


def _differential_games(n_games, seed):
    """Random games checked ply by ply against the reference; returns counts of what was exercised."""
    rng = np.random.default_rng(seed)
    seen = dict.fromkeys(["games", "plies", "captures", "suicide", "ko", "superko", "superko_not_simple_ko",
                          "two_passes"], 0)
    made = {}
    for i in range(n_games):
        size = int(rng.choice([5, 5, 5, 5, 7, 9]))
        ko_rule = ["positional", "positional", "situational", "simple"][i % 4]
        max_moves = int(rng.choice([2, 3])) * size * size
        komi = float(rng.choice([0.0, 0.5, 7.5, -2.0]))
        key = (size, ko_rule, max_moves, komi)
        if key not in made:
            made[key] = games.make("go", size=size, komi=komi, ko_rule=ko_rule, max_moves=max_moves)
        g = made[key]
        ref = ReferenceGo(size, komi, ko_rule, max_moves)
        s = g.initial_state()
        pass_weight = float(rng.choice([0.0, 0.02, 0.2]))
        while True:
            mask = g.legal_mask(s)
            ref_mask = np.zeros(size * size + 1, dtype=bool)
            ref_mask[-1] = not ref.over
            if not ref.over:
                for p in range(size * size):
                    if ref.board[p] == 0:
                        why = ref.why_illegal(p)
                        ref_mask[p] = why is None
                        if why is not None:
                            seen[why] += 1
                            if why == "superko" and s[rules.H_KO] != p:
                                seen["superko_not_simple_ko"] += 1
            if not np.array_equal(mask, ref_mask):
                diff = [coords.to_gtp(p, size) for p in np.flatnonzero(mask != ref_mask)]
                raise AssertionError(f"game {i} ({key}) ply {ref.ply}: legality differs at {diff}\n{g.render(s)}")
            assert g.is_terminal(s) == ref.over
            if ref.over:
                break
            legal = np.flatnonzero(mask[:-1])
            if len(legal) == 0 or rng.random() < pass_weight:
                a = size * size
            else:
                a = int(rng.choice(legal))
            captures = sum(ref.prisoners)
            s = s.copy()
            g.rules.apply(g.params, s, a)  # legality was just checked against the reference
            ref.play(a)
            seen["captures"] += sum(ref.prisoners) > captures
            assert g.board(s).ravel().tolist() == ref.board
            assert list(g.captures(s)) == ref.prisoners
            seen["plies"] += 1
        assert g.score(s) == ref.score(), f"game {i}: score"
        assert g.result(s) == (1 if ref.score() > 0 else -1 if ref.score() < 0 else 0)
        assert rules.check_groups(g.params, s)
        seen["two_passes"] += ref.passes >= 2
        seen["games"] += 1
    return seen


def test_differential_random_games():
    seen = _differential_games(800, seed=2024)
    print(seen)
    for what in ("captures", "suicide", "ko", "superko", "superko_not_simple_ko", "two_passes"):
        assert seen.get(what, 0) > 0, f"the random games never exercised {what}: {seen}"


@pytest.mark.slow
def test_differential_random_games_long():
    seen = _differential_games(10000, seed=7)
    assert seen["superko_not_simple_ko"] > 0
