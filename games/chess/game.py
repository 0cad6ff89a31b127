"""The chess facade on the game API: FEN, UCI and SAN moves, rendering, game-end reasons and a fast perft.

Rules are in ``games.chess.rules`` (Numba); this class turns text into actions and back. Chess has **no
board symmetry** that the AlphaZero augmentation could use (castling and pawn direction break the mirror and
the rotations; the colour flip is already in the encoding), so ``num_symmetries = 1``.
"""

from __future__ import annotations

import re

import numpy as np

from ..base import Game, IllegalMove, Rules
from . import notation as N
from . import rules as R
from .pgn import write_pgn
from .tables import build_params

RULES = Rules(R.init_state, R.legal_mask, R.apply, R.outcome, R.to_play, R.encode, R.state_hash)

# The longest possible game: at most 100 plies pass between two irreversible events (a capture or a pawn move)
# before the fifty-move rule ends the game, and there are at most 30 captures and 16 * 6 pawn steps.
MAX_PLIES = 100 * (30 + 16 * 6 + 1)

_PARAMS: dict[int, np.ndarray] = {}
_RECORD_TAGS = {"first": "White", "second": "Black", "result": "Result", "ended by": "Termination"}
_RESULTS = {1: "1-0", -1: "0-1", 0: "1/2-1/2"}
_TERMINATIONS = {"end": "normal", "resign": "normal", "max_moves": "adjudication"}


def chess_params(history: int = 8) -> np.ndarray:
    """The shared ``params`` array (treat it as read-only) for ``history`` positions of input history."""
    if history not in _PARAMS:
        # kept writeable: Numba compiles a separate specialisation for read-only arrays
        _PARAMS[history] = build_params(history)
    return _PARAMS[history]


class Chess(Game):
    """Chess (FIDE laws) with AlphaZero's action and input encoding; see ``games.chess.rules`` for the layout.

    ``history``: positions in the network input (AlphaZero: 8, giving 8 * 14 + 7 = 119 planes).
    """

    name = "chess"
    rules = RULES
    num_actions = R.NUM_ACTIONS
    max_game_length = MAX_PLIES
    player_names = ("white", "black")
    num_symmetries = 1
    record_format = "pgn"
    record_extension = ".pgn"
    dirichlet_alpha = 0.3  # AlphaZero's value for chess (about 10 / 30 legal moves)
    max_legal_actions = 256  # 218 is the most in a reachable position; room for composed FENs

    def __init__(self, history: int = 8):
        if isinstance(history, bool) or not isinstance(history, (int, np.integer)) or not 1 <= history <= 8:
            raise ValueError(f"chess history must be an integer from 1 to 8 positions, got {history!r}")
        self.history = int(history)
        self.params = chess_params(self.history)
        self.plane_shape = (R.PLANES_PER_STEP * self.history + R.EXTRA_PLANES, 8, 8)
        if self.history != 8:
            self.name = f"chess-h{self.history}"

    # ----------------------------------------------------------------------------- positions
    def from_fen(self, fen: str) -> np.ndarray:
        """The position of a FEN; ``FenError`` (an ``IllegalMove``) names the field that is wrong."""
        return N.board_from_fen(self.params, fen)

    def to_fen(self, state: np.ndarray) -> str:
        return N.fen_of(self.params, state)

    def parse_position(self, text: str) -> np.ndarray:
        """A FEN, ``startpos``, ``startpos moves e2e4 e7e5``, ``fen FEN moves ...``, or moves from the start."""
        tokens = str(text).split()
        if not tokens:
            return self.initial_state()
        rest: list[str]
        if tokens[0] == "startpos":
            state, rest = self.initial_state(), tokens[1:]
        elif tokens[0] == "fen" or "/" in tokens[0]:
            body = tokens[1:] if tokens[0] == "fen" else tokens
            cut = body.index("moves") if "moves" in body else len(body)
            state, rest = self.from_fen(" ".join(body[:cut])), body[cut:]
        else:
            return self.play_moves(tokens)
        if rest:
            if rest[0] != "moves":
                raise IllegalMove(f"position {text!r}: expected 'moves' after the position, got {rest[0]!r}")
            state = self.play_moves(rest[1:], state)
        return state

    # ----------------------------------------------------------------------------- moves
    def move_of(self, state: np.ndarray, action: int) -> int:
        """The internal move code of an action (see ``rules``), or -1 if it names no move of the mover's piece."""
        return int(R.action_to_move(self.params, state, int(action)))

    def action_of(self, state: np.ndarray, move: int) -> int:
        return int(R.move_to_action(int(state[R.SIDE]), int(move)))

    def legal_moves(self, state: np.ndarray) -> list[int]:
        """Internal move codes of the legal moves (empty once the game is over, as ``legal_mask``)."""
        if self.is_terminal(state):
            return []
        return N.legal_move_list(self.params, state)

    def legal_uci(self, state: np.ndarray) -> list[str]:
        return sorted(N.uci_of(m) for m in self.legal_moves(state))

    def parse_move(self, state: np.ndarray, text: str) -> int:
        """The action of a move in UCI (``e2e4``, ``e7e8q``) or SAN (``Nf3``, ``exd5``, ``O-O``, ``e8=Q+``)."""
        t = self._check_text(state, text)
        move = N.parse_uci_move(self.params, state, t)
        if move is None:
            move = N.parse_san_move(self.params, state, t)
        return self.action_of(state, move)

    def parse_uci(self, state: np.ndarray, text: str) -> int:
        """The action of a UCI move only (``e2e4``, ``e7e8q``)."""
        t = self._check_text(state, text, uci=True)
        return self.action_of(state, N.parse_uci_move(self.params, state, t))

    def parse_san(self, state: np.ndarray, text: str) -> int:
        """The action of a SAN move only (``Nf3``, ``exd5``, ``O-O``, ``e8=Q+``)."""
        t = self._check_text(state, text, san=True)
        return self.action_of(state, N.parse_san_move(self.params, state, t))

    def _check_text(self, state: np.ndarray, text, uci: bool = False, san: bool = False) -> str:
        """Reject empty, null, malformed moves and any move once the game is over."""
        t = str(text).strip()
        if not t:
            raise IllegalMove("an empty string is not a chess move")
        if t in ("0000", "--", "Z0", "null"):
            raise IllegalMove(f"{t!r} is a null move, which is not a legal chess move")
        is_uci, is_san = bool(N.UCI_RE.match(t)), bool(N.SAN_RE.match(t))
        if uci and not is_uci:
            raise IllegalMove(f"{t!r} is not a UCI move (from and to squares and a promotion letter: e2e4, e7e8q)")
        if san and not is_san:
            raise IllegalMove(f"{t!r} is not a SAN move (Nf3, exd5, O-O, e8=Q)")
        if not (is_uci or is_san):
            raise IllegalMove(f"{t!r} is not a chess move (write SAN such as Nf3, exd5, O-O, e8=Q, or UCI such as "
                              "g1f3, e7e8q)")
        reason = self.termination(state)
        if reason is not None:
            raise IllegalMove(f"move {t} after the game is over ({reason})")
        return t

    def format_move(self, state: np.ndarray, action: int) -> str:
        """SAN of an action (``Nf3``, ``exd5``, ``O-O``, ``e8=Q+``); UCI-like text for actions that are not legal."""
        move = self.move_of(state, action)
        legal = N.legal_move_list(self.params, state)
        if move in legal:
            return N.san_of(self.params, state, move, legal)
        return self._action_text(state, action)

    format_san = format_move

    def format_uci(self, state: np.ndarray, action: int) -> str:
        move = self.move_of(state, action)
        return N.uci_of(move) if move >= 0 else self._action_text(state, action)

    def _action_squares(self, state: np.ndarray, action: int) -> tuple[int, int, int] | None:
        """(from, to, promotion) an action describes geometrically, or None when it leaves the board."""
        plane, cell = divmod(int(action), 64)
        flip = 56 * int(state[R.SIDE])
        rel_from = cell ^ 56
        dr, df, promo = 0, 0, 0
        if plane < 56:
            d, dist = divmod(plane, 7)
            dr, df = int(R._DIR_DR[d]) * (dist + 1), int(R._DIR_DF[d]) * (dist + 1)
        elif plane < 64:
            dr, df = int(R._KNIGHT_DR[plane - 56]), int(R._KNIGHT_DF[plane - 56])
        else:
            promo, df, dr = 1 + (plane - 64) // 3, (plane - 64) % 3 - 1, 1
        rank, file = (rel_from >> 3) + dr, (rel_from & 7) + df
        if not (0 <= rank < 8 and 0 <= file < 8):
            return None
        return rel_from ^ flip, (rank * 8 + file) ^ flip, promo

    def _action_text(self, state: np.ndarray, action: int) -> str:
        sq = self._action_squares(state, action)
        if sq is None:
            return f"action {int(action)}"
        fr, to, promo = sq
        return N.square_name(fr) + N.square_name(to) + ("" if promo == 0 else "nbr"[promo - 1])

    def _why_illegal(self, state: np.ndarray, action: int) -> str:
        sq = self._action_squares(state, action)
        if sq is None:
            return "the move leaves the board"
        fr, to, promo = sq
        if promo == 0:
            pc = N.piece_at(state, fr)
            if pc is not None and pc[1] == R.PAWN and (to >> 3) in (0, 7):
                promo = R.QUEEN
        return N.why_illegal(self.params, state, fr, to, promo)

    # ----------------------------------------------------------------------------- game state
    def is_check(self, state: np.ndarray) -> bool:
        return bool(R.in_check(self.params, state))

    def ply(self, state: np.ndarray) -> int:
        return int(state[R.PLY])

    def halfmove_clock(self, state: np.ndarray) -> int:
        return int(state[R.HALFMOVE])

    def termination(self, state: np.ndarray) -> str | None:
        """Why the game is over (checkmate, stalemate, insufficient material, fifty-move rule, threefold
        repetition), or None while it goes on."""
        if not self.is_terminal(state):
            return None
        if R.count_legal(self.params, state) == 0:
            return "checkmate" if self.is_check(state) else "stalemate"
        if R.insufficient_material(state):
            return "insufficient material"
        if state[R.HALFMOVE] >= 100:
            return "fifty-move rule"
        return "threefold repetition"

    def describe_result(self, state: np.ndarray) -> str:
        r = self.result(state)
        reason = self.termination(state)
        if r == 0:
            return f"draw by {reason}"
        return f"{self.player_names[0 if r > 0 else 1]} wins by {reason}"

    def result_string(self, state: np.ndarray) -> str:
        """PGN result: ``1-0``, ``0-1``, ``1/2-1/2``, or ``*`` while the game goes on."""
        if not self.is_terminal(state):
            return "*"
        return {1: "1-0", -1: "0-1", 0: "1/2-1/2"}[self.result(state)]

    def render(self, state: np.ndarray) -> str:
        """Text board, white at the bottom: upper case white, lower case black, ``.`` empty."""
        letters = N.board_letters(state)
        lines = []
        for rank in range(7, -1, -1):
            lines.append(f"{rank + 1} " + " ".join(letters[rank * 8 + f] or "." for f in range(8)))
        lines.append("  a b c d e f g h")
        status = f"{self.player_names[int(state[R.SIDE])]} to move"
        if self.is_terminal(state):
            status = self.describe_result(state)
        elif self.is_check(state):
            status += ", in check"
        lines.append(status)
        return "\n".join(lines)

    # ----------------------------------------------------------------------------- records
    def format_record(self, actions, tags: dict | None = None, start: np.ndarray | None = None) -> str:
        """The game as PGN (``games.chess.pgn.write_pgn``). Generic record tags map to PGN ones: ``first`` ->
        White, ``second`` -> Black, ``result`` (+1 / 0 / -1 from white's view, e.g. after a resignation) ->
        Result, ``ended by`` -> Termination; other keys become CamelCase tag names."""
        headers, result = {}, None
        for key, value in (tags or {}).items():
            name = _RECORD_TAGS.get(key) or "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", str(key)) if w)
            if name == "Result":
                result = _RESULTS.get(value, str(value)) if not isinstance(value, str) else value
            elif name == "Termination":
                headers[name] = _TERMINATIONS.get(value, str(value))
            elif name:
                headers[name] = str(value)
        return write_pgn(self, actions, start=start, headers=headers, result=result)

    # ----------------------------------------------------------------------------- perft
    def perft(self, state: np.ndarray, depth: int) -> int:
        """Standard perft: legal move sequences of ``depth`` plies, ignoring draws by rule."""
        return int(R.perft(self.params, state, int(depth)))

    def describe(self) -> dict:
        return {**super().describe(), "history": self.history}
