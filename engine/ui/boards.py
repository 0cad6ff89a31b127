"""Board views for the terminal UI: one class per game, looked up by the game's class (``view_for``).

A view draws the position as ``rich.text.Text`` with Unicode stones and pieces and coordinates on all four
sides, and marks the last move with brackets (``(●)``, ``[♙]``) so that it shows without colours too; colours
(a wooden Go board, chess squares, red and yellow Connect Four discs) are styles that rich drops when the
output is not a terminal, leaving plain text. A view also names the players' marks, gives what each side has
captured (Go prisoners, chess material) and says how a finished game ended.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.text import Text

STONES = ("●", "○")  # first player (Black, X), second player (White, O)
COORD = "grey58"
MARK = "bold bright_cyan"  # brackets around the last move


class BoardView:
    """What every view offers; the defaults suit a two-player game with marks ``STONES``."""

    def __init__(self, game):
        self.game = game

    # players ------------------------------------------------------------------------------------------------
    def side_name(self, player: int) -> str:
        return str(self.game.player_names[player])

    def mark(self, player: int) -> str:
        return STONES[player]

    def mark_style(self, player: int) -> str:
        return ("bold red", "bold yellow")[player]

    def label(self, player: int) -> Text:
        """The mark and the name of a side: ``● X``."""
        return Text.assemble((self.mark(player), self.mark_style(player)), " ", self.side_name(player))

    def extras(self, state, player: int, start=None) -> str:
        """What this side has captured (since ``start``, the game's first position) or holds (prisoners,
        material), or ``""``."""
        return ""

    # the board ----------------------------------------------------------------------------------------------
    def draw(self, state, last: int | None = None, before=None, flip: bool = False) -> Text:
        """The board of ``state``; ``last`` is the action that led to it from ``before``. ``flip`` turns the
        board round (the second player at the bottom), where the game has a natural side (chess)."""
        raise NotImplementedError

    def ply(self, state) -> int:
        return int(np.count_nonzero(state[: self.game.num_actions]))

    # the end ------------------------------------------------------------------------------------------------
    def how_it_ended(self, state) -> str:
        """The result of a finished game and how it came about, in a sentence."""
        return self.game.describe_result(state)

    def score_lines(self, state) -> list[str]:
        """Details of the final score (Go's area count), one line each."""
        return []


def _cells_row(cells: list[tuple[str, str]], mark: int | None, base: str = "", gap: int = 1) -> Text:
    """One-character cells after separators ``gap`` wide; the separators around cell ``mark`` end in
    brackets (``·(●)·``, as Go's ``render`` marks the last move)."""
    out = Text()
    n = len(cells)
    for i in range(n + 1):
        if i == mark:
            sep = " " * (gap - 1) + "("
        elif mark is not None and i == mark + 1:
            sep = ")" + " " * (gap - 1)
        else:
            sep = " " * gap
        out.append(sep, (MARK + (" " + base if base else "")) if sep.strip() else base)
        if i < n:
            ch, style = cells[i]
            out.append(ch, (style + " " + base).strip())
    return out


# ------------------------------------------------------------------------------------------------ tic-tac-toe
class TicTacToeView(BoardView):
    """A boxed 3x3 grid, columns a-c and rows 1-3 (from the bottom) on every side."""

    def side_name(self, player):
        return "XO"[player]

    def draw(self, state, last=None, before=None, flip=False):
        top, mid, bottom = "┌───┬───┬───┐", "├───┼───┼───┤", "└───┴───┴───┘"
        letters = Text("    a   b   c", COORD)
        out = Text()
        out.append_text(letters)
        out.append("\n  " + top + "\n")
        for h in range(3):
            out.append(f"{3 - h} ", COORD)
            for w in range(3):
                cell = h * 3 + w
                v = int(state[cell])
                ch, style = (" ", "") if v == 0 else (STONES[v - 1], self.mark_style(v - 1))
                out.append("│")
                if cell == last:
                    out.append("(", MARK)
                    out.append(ch, style)
                    out.append(")", MARK)
                else:
                    out.append(" ")
                    out.append(ch, style)
                    out.append(" ")
            out.append("│")
            out.append(f" {3 - h}\n", COORD)
            out.append("  " + (mid if h < 2 else bottom) + "\n")
        out.append_text(letters)
        return out

    def how_it_ended(self, state):
        r = self.game.result(state)
        if r == 0:
            return "Draw: the board is full with no three in a row."
        return f"{self.side_name(0 if r > 0 else 1)} wins with three in a row."


# ------------------------------------------------------------------------------------------------ Connect Four
class ConnectFourView(BoardView):
    """Columns numbered from 1 above and below the board, rows from the bottom on both sides."""

    def side_name(self, player):
        return "XO"[player]

    def draw(self, state, last=None, before=None, flip=False):
        g = self.game
        w, h = g.width, g.height
        gap = 2 if w > 9 else 1  # two-digit column numbers: wider separators
        last_cell = None
        if last is not None:  # the disc of the last move is the top one of its column
            last_cell = (int(last), int(g.heights(state)[int(last)]) - 1)
        labels = Text("    " + "".join(str(c + 1).rjust(gap + 1) for c in range(w)), COORD)
        out = Text()
        out.append_text(labels)
        inner = (gap + 1) * w + gap
        out.append("\n   ┌" + "─" * inner + "┐\n")
        for r in range(h - 1, -1, -1):
            cells = []
            for c in range(w):
                v = int(state[c * h + r])
                cells.append(("·", "grey42") if v == 0 else (STONES[v - 1], self.mark_style(v - 1)))
            mark = last_cell[0] if last_cell is not None and last_cell[1] == r else None
            out.append(f"{r + 1:>2} ", COORD)
            out.append("│")
            out.append_text(_cells_row(cells, mark, gap=gap))
            out.append("│")
            out.append(f" {r + 1}\n", COORD)
        out.append("   └" + "─" * inner + "┘\n")
        out.append_text(labels)
        return out

    def ply(self, state):
        return self.game.moves_played(state)

    def how_it_ended(self, state):
        r = self.game.result(state)
        if r == 0:
            return "Draw: the board is full with no four in a row."
        return f"{self.side_name(0 if r > 0 else 1)} wins with four in a row."


# ------------------------------------------------------------------------------------------------ Go
class GoView(BoardView):
    """GTP coordinates on all sides (columns skip I), hoshi as ``+``, the last move bracketed."""

    WOOD = "on #d8b26e"

    def side_name(self, player):
        return ("Black", "White")[player]

    def mark_style(self, player):
        return ("bold #000000", "bold #ffffff")[player]

    def extras(self, state, player, start=None):
        prisoners = self.game.captures(state)[player]
        return f"captures {prisoners}" + (f"   komi {self.game.komi:g}" if player == 1 else "")

    def draw(self, state, last=None, before=None, flip=False, ownership=None):
        """With ``ownership`` (``[N, N]`` in [-1, 1], Black's view: an estimate of the final owners) each point
        shows its likely owner: ``x`` / ``o`` on empty points and on stones taken off as dead, where the estimate
        is at least 0.5 either way."""
        from games.go import coords
        from games.go.game import star_points

        g = self.game
        n = g.size
        board = g.board(state)
        if ownership is not None:
            owner = np.where(ownership >= 0.5, 1, np.where(ownership <= -0.5, 2, 0))
            board = np.where((board == 0) | ((owner != 0) & (owner != board)), 3 + owner, board)
        stars = star_points(n)
        letters = Text("   " + " ".join(coords.GTP_COLUMNS[:n]), COORD)
        out = Text()
        out.append_text(letters)
        out.append("\n")
        for r in range(n):
            cells = []
            for c in range(n):
                v = int(board[r, c])
                if v == 0:
                    cells.append(("+" if r * n + c in stars else "·", "#5a4320"))
                elif v >= 3:  # an estimated owner: 3 nobody, 4 Black, 5 White
                    cells.append(("·" if v == 3 else "xo"[v - 4], "#5a4320" if v == 3 else self.mark_style(v - 4)))
                else:
                    cells.append((STONES[v - 1], self.mark_style(v - 1)))
            mark = None
            if last is not None and last != g.pass_action and last // n == r:
                mark = last % n
            out.append(f"{n - r:2d}", COORD)
            out.append_text(_cells_row(cells, mark, self.WOOD))
            out.append(f" {n - r}\n", COORD)
        out.append_text(letters)
        return out

    def ply(self, state):
        return self.game.moves_played(state)

    def how_it_ended(self, state):
        g = self.game
        score = g.score(state)
        how = "after two passes" if g.passes(state) >= 2 else f"at the move limit ({g.max_game_length} moves)"
        if score == 0:
            return f"Draw (0) {how}, by Tromp-Taylor area scoring."
        winner = "Black" if score > 0 else "White"
        return f"{winner} wins by {abs(score):g} points ({g.result_string(state)}) {how}, by Tromp-Taylor area scoring."

    def score_lines(self, state):
        g = self.game
        black, white = g.area(state)
        stones = g.board(state)
        sb, sw = int((stones == 1).sum()), int((stones == 2).sum())
        return [f"Black: {sb} stones + {black - sb} territory = {black}",
                f"White: {sw} stones + {white - sw} territory = {white} + komi {g.komi:g} = {white + g.komi:g}"]


# ------------------------------------------------------------------------------------------------ chess
PIECES = {"K": "♔", "Q": "♕", "R": "♖", "B": "♗", "N": "♘", "P": "♙",
          "k": "♚", "q": "♛", "r": "♜", "b": "♝", "n": "♞", "p": "♟"}
VALUES = {"p": 1, "n": 3, "b": 3, "r": 5, "q": 9, "k": 0}


class ChessView(BoardView):
    """Files a-h and ranks 1-8 on all sides, white at the bottom (black when the person plays black);
    hollow glyphs for white, filled for black; the last move's squares highlighted ([ ] without colours)."""

    LIGHT, DARK = "on #e8dcc0", "on #a8865f"
    LAST_LIGHT, LAST_DARK = "on #e6d96a", "on #c4ac3e"
    CHECK = "on #d64a3c"

    def side_name(self, player):
        return ("White", "Black")[player]

    def mark(self, player):
        return ("♔", "♚")[player]

    def mark_style(self, player):
        return "bold"

    def extras(self, state, player, start=None):
        from games.chess.notation import board_letters

        def pieces(s, colour):
            return [x.lower() for x in board_letters(s) if x and x.isupper() == (colour == 0)]

        own, theirs = pieces(state, player), pieces(state, 1 - player)
        material = sum(VALUES[x] for x in own)
        diff = material - sum(VALUES[x] for x in theirs)
        text = f"material {material}" + (f" (+{diff})" if diff > 0 else "")
        if start is not None:  # the opponent's pieces that were there at the start and are gone
            taken = "".join(PIECES[p.upper() if player == 1 else p] * n
                            for p, n in _captured(pieces(start, 1 - player), theirs).items())
            if taken:
                text += f"   captured {taken}"
        return text

    def draw(self, state, last=None, before=None, flip=False):
        from games.chess.notation import board_letters

        g = self.game
        letters = board_letters(state)
        moved, to_square = set(), None
        if last is not None and before is not None:
            squares = g._action_squares(before, int(last))
            if squares is not None:
                moved, to_square = {squares[0], squares[1]}, squares[1]
        check_square = None
        if g.is_check(state):
            king = "K" if g.to_play(state) == 0 else "k"
            check_square = letters.index(king) if king in letters else None
        files = "abcdefgh"[::-1] if flip else "abcdefgh"
        ranks = range(8) if flip else range(7, -1, -1)
        file_line = Text("   " + "".join(f" {f} " for f in files), COORD)
        out = Text()
        out.append_text(file_line)
        out.append("\n")
        for rank in ranks:
            out.append(f" {rank + 1} ", COORD)
            for f in (range(7, -1, -1) if flip else range(8)):
                sq = rank * 8 + f
                light = (rank + f) % 2 == 1
                bg = (self.LAST_LIGHT if light else self.LAST_DARK) if sq in moved else (self.LIGHT if light else
                                                                                         self.DARK)
                if sq == check_square:
                    bg = self.CHECK
                piece = letters[sq]
                glyph = PIECES[piece] if piece else "·"
                style = ("bold #000000 " if piece else "#7a6a50 ") + bg
                left, right = ("[", "]") if sq == to_square else (" ", " ")
                out.append(left, MARK + " " + bg if sq == to_square else bg)
                out.append(glyph, style)
                out.append(right, MARK + " " + bg if sq == to_square else bg)
            out.append(f" {rank + 1}\n", COORD)
        out.append_text(file_line)
        return out

    def ply(self, state):
        return self.game.ply(state)

    def how_it_ended(self, state):
        text = self.game.describe_result(state)
        return text[0].upper() + text[1:] + f" ({self.game.result_string(state)})."


# ------------------------------------------------------------------------------------------------ registry
_VIEWS: dict[str, Callable[[object], BoardView]] = {
    "TicTacToe": TicTacToeView,
    "ConnectFour": ConnectFourView,
    "Go": GoView,
    "Chess": ChessView,
}


def register_view(game_class: str, view: Callable[[object], BoardView]) -> None:
    """Draw games of class ``game_class`` (its ``__name__``) with ``view``."""
    _VIEWS[game_class] = view


def view_for(game) -> BoardView:
    """The view of ``game``: the one registered for its class, else a plain one over ``game.render``."""
    for cls in type(game).__mro__:
        if cls.__name__ in _VIEWS:
            return _VIEWS[cls.__name__](game)
    return TextView(game)


def _captured(before: list[str], now: list[str]) -> dict[str, int]:
    """Pieces taken from one side (lower-case letters ``qrbnp``), from its pieces at the start and now. A
    promotion is no capture: a piece beyond the start's count was a pawn, so it makes up for a missing pawn
    (a promoted piece taken later shows as a pawn: the total is exact, the kind is the pawn it was)."""
    out = {}
    promoted = sum(max(0, now.count(p) - before.count(p)) for p in "qrbn")
    for p in "qrbnp":
        missing = max(0, before.count(p) - now.count(p))
        if p == "p":
            missing = max(0, missing - promoted)
        if missing:
            out[p] = missing
    return out


class TextView(BoardView):
    """Any other game: its own ``render`` text."""

    def draw(self, state, last=None, before=None, flip=False):
        return Text(self.game.render(state))
