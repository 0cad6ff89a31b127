"""One person against one agent: the game so far, whose side is whose, and the commands of the terminal UI.

The session knows nothing of terminals: it draws through a ``Screen`` (``engine.play.TerminalScreen`` on a
terminal or a pipe, a recording one in tests) and is driven one input line at a time by ``handle``. A line
is a command (``help`` lists them) or a move in the game's own notation; anything wrong with it (garbage, an
illegal move, an unreadable file) gets one line saying why, and the game goes on.

History is the start position plus the actions played from it, so ``undo`` is exact and ``save`` writes
the whole game (from a loaded position too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from rich.text import Text

from games import IllegalMove

from ..cli import UserError
from ..core import atomic_write_text
from .boards import view_for
from .records import format_game, read_record


class Screen(Protocol):
    """Where a session draws and asks (see ``engine.play.TerminalScreen``)."""

    interactive: bool  # a person answers questions (stdin is a terminal): offer to save at the end

    def show(self, renderable) -> None: ...

    def say(self, text: str, style: str | None = None) -> None: ...

    def error(self, text: str) -> None: ...

    def think(self, agent, state, title: str, describe_move: Callable[[int], str], side: str): ...

    def ask(self, prompt: str) -> str | None: ...


# name -> (usage, help); the method is cmd_<name>
COMMANDS = {
    "help": ("help", "this list"),
    "undo": ("undo", "take back your last move and the agent's reply"),
    "hint": ("hint", "the agent's suggestion for your move"),
    "pass": ("pass", "pass (Go)"),
    "resign": ("resign", "give up this game"),
    "new": ("new", "start a new game (same sides)"),
    "swap": ("swap", "change sides: the agent plays your side and moves next"),
    "save": ("save FILE", "write the game record (SGF for Go, PGN for chess, a move list otherwise)"),
    "load": ("load FILE", "read a game or position (SGF, PGN, FEN, move list, Connect Four digits)"),
    "board": ("board", "draw the board again"),
    "quit": ("quit", "leave (Ctrl-D and Ctrl-C too)"),
}
ALIASES = {"?": "help", "h": "help", "takeback": "undo", "u": "undo", "exit": "quit", "q": "quit", "bye": "quit",
           "swap-sides": "swap", "show": "board"}

MOVE_HELP = {
    "TicTacToe": "a square: column a-c and row 1-3 from the bottom (b2)",
    "ConnectFour": "a column number (4)",
    "Go": "a point: column letter (no I) and row from the bottom (D4), an SGF point (dd), or pass",
    "Chess": "SAN (e4, Nf3, exd5, O-O, e8=Q) or UCI (e2e4, e7e8q)",
}


def win_chance(value: float | None) -> str:
    """A value in [-1, 1] for the mover as a win probability (a draw counts half)."""
    return "" if value is None else f"{(float(value) + 1.0) / 2.0:.0%}"


class Session:
    """The state of play and the commands. ``make_agent(game)`` builds the opponent (again after a load that
    changes the game, such as an SGF of another board size)."""

    def __init__(self, game, make_agent: Callable[[object], object], screen: Screen, person: int = 0,
                 start: np.ndarray | None = None, actions: list[int] | None = None):
        self.screen = screen
        self.make_agent = make_agent
        self._set_game(game, make_agent(game))
        self.person = int(person)
        self._set_history(self.game.initial_state() if start is None else start, list(actions or []))
        self.quit = False

    # ------------------------------------------------------------------------------------------- state
    def _set_game(self, game, agent) -> None:
        self.game, self.agent, self.view = game, agent, view_for(game)

    def _set_history(self, start: np.ndarray, actions: list[int]) -> None:
        self.start = start
        self.actions = []
        self.states = [start]
        self.resigned: int | None = None  # the side that resigned
        self.announced = False
        self.agent.reset()
        for a in actions:
            self._push(int(a))

    def _push(self, action: int) -> None:
        state = self.state
        self.agent.observe(state, action)
        self.states.append(self.game.apply(state, action))
        self.actions.append(action)

    @property
    def state(self) -> np.ndarray:
        return self.states[-1]

    @property
    def over(self) -> bool:
        return self.resigned is not None or self.game.is_terminal(self.state)

    @property
    def agent_name(self) -> str:
        return str(getattr(self.agent, "name", "agent"))

    def role(self, player: int) -> str:
        return "you" if player == self.person else self.agent_name

    def names(self) -> tuple[str, str]:
        return self.role(0), self.role(1)

    def winner(self) -> int | None:
        """The winning side of a finished game (None: a draw, or not over)."""
        if self.resigned is not None:
            return 1 - self.resigned
        if self.game.is_terminal(self.state):
            r = self.game.result(self.state)
            return None if r == 0 else (0 if r > 0 else 1)
        return None

    def describe_move(self, state, action: int) -> str:
        return self.game.format_move(state, int(action))

    # ------------------------------------------------------------------------------------------- drawing
    def show_board(self) -> None:
        before = self.states[-2] if len(self.states) > 1 else None
        last = self.actions[-1] if self.actions else None
        self.screen.show(self.view.draw(self.state, last, before, flip=self.person == 1))
        to_move = None if self.over else self.game.to_play(self.state)
        for p in ((1, 0) if self.person == 0 else (0, 1)):  # your side at the bottom
            line = Text()
            line.append("▶ " if p == to_move else "  ", "bold bright_green")
            label = self.view.label(p)
            if p == to_move:
                label.stylize("reverse")
            line.append_text(label)
            line.append(f"  {self.role(p)}", "bold" if p == to_move else "")
            extras = self.view.extras(self.state, p, self.start)
            if extras:
                line.append(f"   {extras}")
            self.screen.show(line)
        status = []
        if last is not None:
            mover = self.game.to_play(before)
            status.append(f"last move: {self.view.side_name(mover)} {self.describe_move(before, last)}")
        if not self.over:
            side = self.view.side_name(to_move)
            status.append(f"{side} to move ({self.role(to_move)})")
            if hasattr(self.game, "is_check") and self.game.is_check(self.state):
                status.append("check")
        self.screen.say("   ".join(status) if status else "", "bold")

    def prompt(self) -> str:
        if self.over:
            return "game over (new, undo, save FILE, load FILE, quit)> "
        mark = self.view.mark(self.person)
        return f"your move ({mark} {self.view.side_name(self.person)})> "

    # ------------------------------------------------------------------------------------------- flow
    def begin(self) -> None:
        """Show the position and let the agent move if it is its turn."""
        self.show_board()
        if self.over:
            self._announce()
        else:
            self.agent_turn()

    def handle(self, line: str) -> None:
        """One line of input: a command or a move. Problems are reported in one line; play goes on."""
        text = line.strip()
        if not text:
            return
        word, _, arg = text.partition(" ")
        name = ALIASES.get(word.lower(), word.lower())
        try:
            if name in COMMANDS:
                getattr(self, f"cmd_{name}")(arg.strip())
            else:
                self.play_text(text)
        except (IllegalMove, UserError) as err:
            self.screen.error(str(err))
        except ValueError as err:
            self.screen.error(str(err))

    def play_text(self, text: str) -> None:
        if self.over:
            raise IllegalMove(f"the game is over: {text!r} is not played (new starts another game, undo takes "
                              "back moves)")
        try:
            action = self.game.parse_move(self.state, text)
        except IllegalMove as err:
            if " " in text or not any(ch.isalnum() for ch in text):
                raise IllegalMove(f"{err} (help lists the commands)") from None
            raise
        self._push(action)
        if self.over:
            self.show_board()
            self._announce()
            return
        self.agent_turn()

    def agent_turn(self) -> None:
        """Let the agent move while it is its turn, then draw the board."""
        moved = False
        while not self.over and self.game.to_play(self.state) != self.person:
            state = self.state
            side = self.view.side_name(self.game.to_play(state))
            decision = self.screen.think(self.agent, state, f"{self.agent_name} ({side}) is thinking",
                                         lambda a, s=state: self.describe_move(s, a), side)
            if getattr(decision, "resign", False):
                self.resigned = self.game.to_play(state)
                self.screen.say(f"{self.agent_name} resigns.", "bold")
                break
            action = int(decision.action)
            if not self.game.legal_mask(state)[action]:
                raise IllegalMove(f"{self.agent_name} chose an illegal move ({action}); the game stops here")
            self._report(decision, state, f"{self.agent_name} plays")
            self._push(action)
            moved = True
        if moved or self.over:
            self.show_board()
        if self.over:
            self._announce()

    def _report(self, decision, state, what: str) -> None:
        """``what`` move, its evaluation and the most visited moves of the search."""
        side = self.view.side_name(self.game.to_play(state))
        line = f"{what} {self.describe_move(state, decision.action)}"
        info = getattr(decision, "info", {}) or {}
        details = []
        if decision.value is not None:
            details.append(f"win {win_chance(decision.value)} for {side} (value {decision.value:+.2f})")
        if info.get("simulations") is not None:
            sims = f"{int(info['simulations']):,} simulations"
            if info.get("seconds") is not None:
                sims += f" in {float(info['seconds']):.1f} s"
            details.append(sims)
        self.screen.say(line + (": " + ", ".join(details) if details else ""), "bold")
        if decision.top:
            moves = [f"{self.describe_move(state, m.action)} {m.visits} ({win_chance(m.value)})"
                     for m in decision.top[:5] if m.visits > 0]
            if moves:
                self.screen.say("  top moves (visits, win chance): " + ", ".join(moves))

    def _announce(self) -> None:
        """The result of a finished game (once), the score, and the offer to save it."""
        if self.announced:
            return
        self.announced = True
        if self.resigned is not None:
            winner = 1 - self.resigned
            text = (f"{self.view.side_name(self.resigned)} ({self.role(self.resigned)}) resigns: "
                    f"{self.view.side_name(winner)} ({self.role(winner)}) wins.")
        else:
            text = self.view.how_it_ended(self.state)
            for line in self.view.score_lines(self.state):
                self.screen.say("  " + line)
        self.screen.say(f"Game over. {text}", "bold bright_green")
        w = self.winner()
        self.screen.say("You win!" if w == self.person else ("Draw." if w is None else "You lose."), "bold")
        if self.screen.interactive:
            answer = self.screen.ask("save the game? file name (Enter: no)> ")
            if answer is None:
                self.quit = True
            elif answer.strip():
                self.handle(f"save {answer.strip()}")

    # ------------------------------------------------------------------------------------------- commands
    def cmd_help(self, arg: str) -> None:
        kind = next((c.__name__ for c in type(self.game).__mro__ if c.__name__ in MOVE_HELP), None)
        self.screen.say(f"moves: {MOVE_HELP.get(kind, 'in the notation of ' + self.game.name)}")
        for usage, what in COMMANDS.values():
            self.screen.say(f"  {usage:<10} {what}")

    def cmd_board(self, arg: str) -> None:
        self.show_board()

    def cmd_quit(self, arg: str) -> None:
        self.quit = True

    def cmd_pass(self, arg: str) -> None:
        if not hasattr(self.game, "pass_action"):
            raise IllegalMove(f"there is no pass in {self.game.name}")
        self.play_text("pass")

    def cmd_resign(self, arg: str) -> None:
        if self.over:
            raise IllegalMove("the game is already over")
        self.resigned = self.person
        self.show_board()
        self._announce()

    def cmd_undo(self, arg: str) -> None:
        if self.resigned is not None:
            self.resigned = None
            self.announced = False
            self.screen.say("resignation taken back")
            self.show_board()
            return
        # back to the latest position before your last move where it is your turn
        target = next((i for i in range(len(self.actions) - 1, -1, -1)
                       if self.game.to_play(self.states[i]) == self.person), None)
        if target is None:
            raise IllegalMove("nothing to undo: you have not moved yet")
        taken = [self.describe_move(self.states[i], self.actions[i]) for i in range(target, len(self.actions))]
        for _ in range(len(self.actions) - target):
            self.actions.pop()
            self.states.pop()
            self.agent.undo()
        self.announced = False
        self.screen.say(f"took back {' '.join(taken)}")
        self.show_board()

    def cmd_hint(self, arg: str) -> None:
        if self.over:
            raise IllegalMove("the game is over: no hint")
        state = self.state
        side = self.view.side_name(self.game.to_play(state))
        decision = self.screen.think(self.agent, state, f"{self.agent_name} is thinking for you",
                                     lambda a: self.describe_move(state, a), side)
        self._report(decision, state, "hint: play")

    def cmd_new(self, arg: str) -> None:
        self._set_history(self.game.initial_state(), [])
        self.screen.say(f"new game: you play {self.view.side_name(self.person)} {self.view.mark(self.person)}")
        self.begin()

    def cmd_swap(self, arg: str) -> None:
        if self.over:
            raise IllegalMove("the game is over: new starts another one")
        self.person = 1 - self.person
        self.screen.say(f"you now play {self.view.side_name(self.person)} {self.view.mark(self.person)}; "
                        f"{self.agent_name} moves")
        self.agent_turn()

    def cmd_save(self, arg: str) -> None:
        if not arg:
            raise IllegalMove(f"save needs a file name, e.g. save game{self.game.record_extension}")
        path = Path(arg).expanduser()
        if not path.suffix:
            path = path.with_suffix(self.game.record_extension)
        text = format_game(self.game, self.start, self.actions, self.names(), self.resigned)
        try:
            atomic_write_text(path, text)
        except OSError as err:
            raise UserError(f"cannot write {path}: {err.strerror or err}") from None
        self.screen.say(f"saved {len(self.actions)} moves to {path}")

    def cmd_load(self, arg: str) -> None:
        if not arg:
            raise IllegalMove("load needs a file name, e.g. load game" + self.game.record_extension)
        path = Path(arg).expanduser()
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise UserError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
        self.load_text(text, str(path))

    def load_text(self, text: str, source: str) -> None:
        """Continue from the game or position in ``text`` (a record); you play the side to move."""
        try:
            record = read_record(self.game, text)
        except IllegalMove as err:
            raise IllegalMove(f"cannot load {source}: {err}") from None
        if record.game is not self.game:
            agent = self.make_agent(record.game)
            self.agent.close()
            self._set_game(record.game, agent)
        self._set_history(record.start, record.actions)
        if not self.game.is_terminal(self.state):
            self.person = self.game.to_play(self.state)
        self.screen.say(f"loaded {source}: {len(self.actions)} moves; you play {self.view.side_name(self.person)} "
                        f"{self.view.mark(self.person)}")
        self.show_board()
        if self.over:
            self._announce()

    # ------------------------------------------------------------------------------------------- summary
    def summary(self) -> dict:
        """The game as a dict (``--json``)."""
        moves = [self.describe_move(s, a) for s, a in zip(self.states[:-1], self.actions, strict=True)]
        out = {"game": self.game.name, "you": self.view.side_name(self.person), "opponent": self.agent_name,
               "moves": moves, "over": self.over}
        if self.over:
            w = self.winner()
            out["winner"] = None if w is None else self.view.side_name(w)
            out["result"] = ("resignation" if self.resigned is not None else self.view.how_it_ended(self.state))
        return out
