"""GTP command handlers, one class per family, over a ``GoSession``: board and moves, scoring and SGF, time,
handicap. Analysis (Leela Zero's ``lz-*``) is in ``engine.gtp.analysis``. Each ``cmd_<name>(args)`` returns
the answer's text or raises ``GtpFailure`` (see ``engine.gtp.protocol``).

Scoring is Tromp-Taylor (every stone on the board is alive), the rules the agent plays by: ``final_score`` is
the Tromp-Taylor score of the position. ``final_status_list dead`` lists the stones that the agent's network
gives to the other colour when it has an ownership head (KataGo's), and is empty otherwise (dead stones have
to be captured before the game ends).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .protocol import GtpDispatcher, GtpFailure, need, number
from .session import GoSession

MIN_BOARD, MAX_BOARD = 5, 19
MAX_KOMI = 1000.0
MAX_SECONDS = 10.0**7  # about four months: any real time control
COLOURS = {"b": 0, "black": 0, "w": 1, "white": 1}


def colour(text: str) -> int:
    c = COLOURS.get(text.lower())
    if c is None:
        raise GtpFailure(f"syntax error: {text[:24]!r} is not a colour (b, w, black or white)")
    return c


def vertex(session: GoSession, text: str) -> int:
    from games import IllegalMove
    from games.go import coords

    t = text.strip()
    if t.lower() == "pass":
        return session.game.pass_action
    if len(t) > 8:  # no vertex is this long: do not quote it back whole
        raise GtpFailure(f"syntax error: {t[:12]!r}... is not a vertex (write a letter and a row, like D4, or pass)")
    try:
        return coords.from_gtp(t, session.game.size)  # case-insensitive; errors quote the vertex as written
    except IllegalMove as err:
        raise GtpFailure(f"syntax error: {err}") from None


class Handlers:
    """A command family: the session it acts on and the dispatcher (for the command's arrival time and for
    streamed answers)."""

    def __init__(self, session: GoSession, engine: GtpDispatcher):
        self.session = session
        self.engine = engine


class BoardHandlers(Handlers):
    """Setup and moves: ``boardsize clear_board komi play undo genmove kgs-genmove_cleanup``."""

    def cmd_boardsize(self, args):
        need(args, 1, "boardsize SIZE")
        size = number(args[0], int, "an integer")
        if not MIN_BOARD <= size <= MAX_BOARD:
            raise GtpFailure("unacceptable size")
        s = self.session
        if s.max_moves is not None and s.max_moves > 10 * size * size:
            raise GtpFailure(f"unacceptable size (the engine's max_moves {s.max_moves} is too long for it)")
        s.new_game(size, s.game.komi)
        return ""

    def cmd_clear_board(self, args):
        self.session.new_game(self.session.game.size, self.session.game.komi)
        return ""

    def cmd_komi(self, args):
        need(args, 1, "komi NUMBER")
        komi = number(args[0], float, "a number", -MAX_KOMI, MAX_KOMI)
        if komi * 2 != round(komi * 2):
            raise GtpFailure(f"syntax error: komi must be a multiple of 0.5, got {args[0]}")
        self.session.set_komi(komi)
        return ""

    def cmd_play(self, args):
        need(args, 2, "play COLOUR VERTEX")
        self.session.play(colour(args[0]), vertex(self.session, args[1]))
        return ""

    def cmd_undo(self, args):
        self.session.undo()
        return ""

    def cmd_genmove(self, args):
        need(args, 1, "genmove COLOUR")
        move, _ = self.session.decide(colour(args[0]), self.engine.received)
        return move

    def cmd_kgs_genmove_cleanup(self, args):
        need(args, 1, "kgs-genmove_cleanup COLOUR")
        move, _ = self.session.decide(colour(args[0]), self.engine.received, cleanup=True)
        return move


class ScoringHandlers(Handlers):
    """The position and the game: ``showboard final_score final_status_list loadsgf printsgf``."""

    def cmd_showboard(self, args):
        return "\n" + self.session.game.render(self.session.state)

    def cmd_final_score(self, args):
        from games.go import format_score

        return format_score(self.session.game.score(self.session.state))

    def cmd_final_status_list(self, args):
        need(args, 1, "final_status_list alive|dead|seki")
        status = args[0].lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpFailure(f"syntax error: status {args[0][:24]!r} is not alive, dead or seki")
        g, state, agent = self.session.game, self.session.state, self.session.agent
        if status == "seki":
            return ""  # seki is not told apart
        # With a network that predicts ownership (KataGo's head), the stones it gives to the other colour are dead;
        # otherwise Tromp-Taylor: every stone on the board is alive.
        dead = set(g.dead_stones(state, agent.ownership(state))) if getattr(agent, "has_ownership", False) else set()
        groups = ([p for p in group if (p in dead) == (status == "dead")] for group in _groups(g.board(state)))
        return "\n".join(" ".join(g.format_move(state, p) for p in group) for group in groups if group)

    def cmd_loadsgf(self, args):
        need(args, 1, "loadsgf FILENAME [MOVE_NUMBER]")
        move_number = number(args[1], int, "an integer", 0) if len(args) > 1 else None
        try:
            text = Path(args[0]).read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise GtpFailure(f"cannot load file: {err.strerror or err}: {args[0]}") from None
        self.session.load_sgf(text, move_number)
        return ""

    def cmd_printsgf(self, args):
        text = self.session.sgf_text(self.engine.name, f"{self.engine.name} GTP: {self.session.player}")
        if args:
            path = Path(args[0])
            if not path.parent.is_dir():
                raise GtpFailure(f"cannot write file: folder {path.parent} does not exist")
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as err:
                raise GtpFailure(f"cannot write file: {err.strerror or err}: {path}") from None
            return ""
        return "\n" + text.strip()


class TimeHandlers(Handlers):
    """``time_settings MAIN BYO_YOMI STONES`` and ``time_left COLOUR TIME STONES`` (Canadian byo-yomi)."""

    def cmd_time_settings(self, args):
        from .clock import Clock

        need(args, 3, "time_settings MAIN_TIME BYO_YOMI_TIME BYO_YOMI_STONES")
        main = number(args[0], int, "an integer", 0, MAX_SECONDS)
        byo = number(args[1], int, "an integer", 0, MAX_SECONDS)
        stones = number(args[2], int, "an integer", 0, 10**6)
        self.session.clock = Clock(float(main), float(byo), int(stones))
        self.session.clock.reset()
        return ""

    def cmd_time_left(self, args):
        need(args, 3, "time_left COLOUR TIME STONES")
        c = colour(args[0])
        seconds = number(args[1], float, "a number", 0, MAX_SECONDS)
        stones = number(args[2], int, "an integer", 0, 10**6)
        self.session.clock.left[c] = [float(seconds), int(stones)]
        return ""


class HandicapHandlers(Handlers):
    """``fixed_handicap N``, ``place_free_handicap N`` and ``set_free_handicap V...`` (GTP 4.1): Black's stones on
    an empty board, White to move; the SGF record gets ``HA`` and ``AB``."""

    def cmd_fixed_handicap(self, args):
        need(args, 1, "fixed_handicap NUMBER_OF_STONES")
        n = number(args[0], int, "an integer")
        size = self.session.game.size
        if not 2 <= n <= max_fixed_handicap(size):
            raise GtpFailure(f"invalid number of stones ({size}x{size} takes 2 to {max_fixed_handicap(size)})"
                             if max_fixed_handicap(size) else f"invalid number of stones (none on {size}x{size})")
        return self._place(fixed_handicap_points(size, n))

    def cmd_place_free_handicap(self, args):
        need(args, 1, "place_free_handicap NUMBER_OF_STONES")
        n = number(args[0], int, "an integer")
        size = self.session.game.size
        if not 2 <= n < size * size:
            raise GtpFailure("invalid number of stones")
        # the engine places where it likes, and may place fewer (GTP 4.1.1): the fixed points, as many as fit
        return self._place(free_handicap_points(size, n))

    def cmd_set_free_handicap(self, args):
        s = self.session
        if len(args) < 2:
            raise GtpFailure("bad vertex list (at least two stones)")
        points = []
        for text in args:
            p = vertex(s, text)
            if p == s.game.pass_action or p in points:
                raise GtpFailure(f"bad vertex list ({text[:24]} is {'a pass' if p == s.game.pass_action else 'twice'})")
            points.append(p)
        if len(points) >= s.game.size ** 2:
            raise GtpFailure("bad vertex list (the whole board)")
        self._place(points)
        return ""

    def _place(self, points: list[int]) -> str:
        s = self.session
        s.place_handicap(points)
        return " ".join(s.game.format_move(s.state, p) for p in points)


def max_fixed_handicap(size: int) -> int:
    """GTP 4.1.1: none below 7x7, 4 on 7x7 and even sizes, 9 on odd sizes from 9x9."""
    if size < 7:
        return 0
    return 9 if size % 2 == 1 and size >= 9 else 4


def fixed_handicap_points(size: int, n: int) -> list[int]:
    """The ``n`` handicap points of GTP 4.1.1 (D4 Q16 D16 Q4 D10 Q10 K4 K16 K10 on 19x19), as actions."""
    edge = 2 if size <= 12 else 3  # the 3-3 points up to 12x12, the 4-4 points above
    low, high, mid = edge, size - 1 - edge, size // 2
    corners = [(low, low), (high, high), (low, high), (high, low)]  # (column, row from the bottom)
    sides = [(low, mid), (high, mid), (mid, low), (mid, high)]
    if n <= 4:
        chosen = corners[:n]
    elif n in (5, 7, 9):
        chosen = fixed_layout(corners, sides, n - 1) + [(mid, mid)]
    else:
        chosen = fixed_layout(corners, sides, n)
    return [(size - 1 - row) * size + column for column, row in chosen]


def fixed_layout(corners, sides, n: int) -> list:
    return corners + sides[: n - 4] if n > 4 else corners[:n]


def free_handicap_points(size: int, n: int) -> list[int]:
    """Where this engine puts ``n`` free handicap stones: the fixed points, at most as many as the board has."""
    most = max_fixed_handicap(size)
    if most == 0:  # 5x5 and 6x6: the centre and the corners' 2-2 points
        cells = [(size // 2, size // 2), (1, 1), (size - 2, size - 2), (1, size - 2), (size - 2, 1)]
        return [(size - 1 - row) * size + column for column, row in cells[: min(n, len(cells))]]
    return fixed_handicap_points(size, min(n, most))


def _groups(board: np.ndarray) -> list[list[int]]:
    """The stones of ``board`` (N x N, 0 empty) as connected groups of actions."""
    n = board.shape[0]
    cells = board.ravel()
    seen = np.zeros(n * n, bool)
    out = []
    for p in range(n * n):
        if cells[p] == 0 or seen[p]:
            continue
        group, stack = [], [p]
        seen[p] = True
        while stack:
            q = stack.pop()
            group.append(q)
            r, c = divmod(q, n)
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                t = rr * n + cc
                if 0 <= rr < n and 0 <= cc < n and not seen[t] and cells[t] == cells[p]:
                    seen[t] = True
                    stack.append(t)
        out.append(sorted(group))
    return out
