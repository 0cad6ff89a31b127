"""Acceptance tests of ``python -m engine.play``: the real program in a pseudo-terminal (``tests.play_terminal``)
playing whole games as a person would (bad input, undo, hint, save, load, the end and its score), read back
from the screen; and the same program through pipes, where it must print plain text.

The opponent is pure MCTS with a small seeded budget (no network is shipped for these games here), so every
run is the same game; the tests still read the agent's moves from the screen rather than assume them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

import games
from engine.ui import view_for
from engine.ui.records import read_record

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32",
                                reason="pseudo-terminals need a POSIX system")

from .play_terminal import ROOT, Terminal  # noqa: E402

FIRST_START = 900  # seconds: a cold Numba cache compiles the search for the game first


def drawn(game, state, last=None, before=None, flip=False) -> list[str]:
    """The board lines the program draws for ``state`` (plain text)."""
    console = Console(color_system=None, width=200, record=True, file=open(os.devnull, "w"))
    console.print(view_for(game).draw(state, last, before, flip), markup=False, highlight=False, soft_wrap=True)
    return [ln.rstrip() for ln in console.export_text().splitlines()]


def last_board_on_screen(screen: str, board: list[str]) -> list[str]:
    """The last block of the screen framed like ``board`` (the same first and last lines: coordinates)."""
    lines = [ln.rstrip() for ln in screen.splitlines()]
    n = len(board)
    found = [i for i in range(len(lines) - n + 1) if lines[i] == board[0] and lines[i + n - 1] == board[-1]]
    assert found, f"no board on the screen (looked for {board[0]!r})"
    return lines[found[-1]:found[-1] + n]


def final_state(record):
    states = record.states()
    before = states[-2] if len(states) > 1 else None
    return states[-1], (record.actions[-1] if record.actions else None), before


def play_by_hints(t: Terminal, prompt: str, limit: int = 60) -> int:
    """Ask for a hint and play it until the game is over; the number of moves played."""
    for played in range(limit):
        t.send("hint")
        move = t.expect(r"hint: play (\S+):").group(1)
        t.expect(prompt)
        t.send(move)
        over = t.expect(rf"({prompt}|save the game\? file name \(Enter: no\)> )").group(1)
        if over.startswith("save the game"):
            return played + 1
    raise AssertionError("the game did not end")


def test_tictactoe_whole_game_in_a_terminal(tmp_path):
    prompt = re.escape("your move (● X)> ")
    with Terminal(["tictactoe", "--simulations", "300", "--seed", "4"]) as t:
        t.expect("opponent: alphazero, 300 simulations a move", FIRST_START)  # the shipped network
        t.expect(prompt, FIRST_START)
        for bad, why in [("hello", "'hello' is not a tic-tac-toe square"), ("d4", "'d4' is not a tic-tac-toe square"),
                         ("c0", "'c0' is not a tic-tac-toe square")]:
            t.send(bad)
            t.expect("✗ " + re.escape(why))
            t.expect(prompt)
        t.send("b2")
        reply = t.expect(r"alphazero plays ([a-c][1-3]): win \d+% for O").group(1)
        t.expect(r"top moves \(visits, win chance\): [a-c][1-3] \d+ \(\d+%\)")
        t.expect(prompt)
        t.send("b2")
        t.expect(re.escape("✗ move b2 is illegal: square b2 is occupied"))
        t.expect(prompt)
        t.send(reply)
        t.expect(re.escape(f"✗ move {reply} is illegal: square {reply} is occupied"))
        t.expect(prompt)
        t.send("undo")
        t.expect(re.escape(f"took back b2 {reply}"))
        t.expect(prompt)
        g = games.make("tictactoe")
        assert last_board_on_screen(t.screen, drawn(g, g.initial_state())) == drawn(g, g.initial_state())
        t.send("undo")
        t.expect("✗ nothing to undo")
        t.expect(prompt)
        play_by_hints(t, prompt)
        path = tmp_path / "ttt.txt"
        t.send(str(path))
        t.expect(r"saved \d+ moves to " + re.escape(str(path)))
        t.expect(re.escape("game over (new, undo, save FILE, load FILE, quit)> "))
        t.send("quit")
        t.expect("bye")
        assert t.wait() == 0
        screen = t.screen
    record = read_record(g, path.read_text())
    state, last, before = final_state(record)
    assert g.is_terminal(state)
    board = drawn(g, state, last, before)
    assert last_board_on_screen(screen, board) == board
    assert f"Game over. {view_for(g).how_it_ended(state)}" in screen
    assert "Traceback" not in screen and "\x1b[" in t.raw  # a terminal: drawn in colour


def test_connect_four_whole_game_in_a_terminal(tmp_path):
    prompt = re.escape("your move (● X)> ")
    position = tmp_path / "start.txt"
    position.write_text("444444\n")  # column 4 full, nobody has four
    with Terminal(["connect4", "--player", "mcts", "--level", "beginner", "--seed", "2"]) as t:
        t.expect("opponent: mcts:50, 50 simulations a move", FIRST_START)
        t.expect(prompt, FIRST_START)
        for bad, why in [("8", "'8' is not a column (write a number from 1 to 7)"), ("0", "'0' is not a column"),
                         ("four", "'four' is not a column"), ("", None)]:
            t.send(bad)
            if why:
                t.expect("✗ " + re.escape(why))
            t.expect(prompt)
        t.send("4")
        reply = t.expect(r"mcts:50 plays ([1-7]): win \d+% for O").group(1)
        t.expect(prompt)
        t.send("hint")
        t.expect(r"hint: play [1-7]: win \d+% for X")
        t.expect(prompt)
        t.send("undo")
        t.expect(re.escape(f"took back 4 {reply}"))
        t.expect(prompt)
        t.send(f"load {tmp_path / 'missing.txt'}")
        t.expect("✗ cannot read " + re.escape(str(tmp_path / "missing.txt")))
        t.expect(prompt)
        t.send(f"load {position}")
        t.expect(re.escape(f"loaded {position}: 6 moves; you play X ●"))
        t.expect(prompt)
        t.send("4")
        t.expect(re.escape("✗ move 4 is illegal: column 4 is full"))
        t.expect(prompt)
        play_by_hints(t, prompt)
        path = tmp_path / "c4"
        t.send(str(path))
        t.expect(re.escape(f"to {path}.txt"))
        t.expect("game over")
        t.key(b"\x04")  # Ctrl-D quits
        t.expect("bye")
        assert t.wait() == 0
        screen = t.screen
    g = games.make("connect4")
    record = read_record(g, (tmp_path / "c4.txt").read_text())
    assert [a + 1 for a in record.actions[:6]] == [4] * 6
    state, last, before = final_state(record)
    assert g.is_terminal(state)
    board = drawn(g, state, last, before)
    assert last_board_on_screen(screen, board) == board
    assert f"Game over. {view_for(g).how_it_ended(state)}" in screen
    assert "Traceback" not in screen


def test_go_game_with_passes_and_scoring(tmp_path):
    prompt = re.escape("your move (● Black)> ")
    with Terminal(["go", "--size", "9", "--simulations", "400", "--seed", "1"]) as t:
        t.expect(prompt, FIRST_START)
        t.send("E5")
        t.expect(r"mcts:400 plays (\S+)")
        t.expect(prompt)
        for bad, why in [("E5", "move E5 is illegal: the point is occupied"),
                         ("Z5", "'z5' is off the 9x9 board"), ("I5", "'i5': GTP columns skip the letter I"),
                         ("E10", "'e10' is off the 9x9 board"), ("hello", "'hello' is not a Go move")]:
            t.send(bad)
            t.expect("✗ " + re.escape(why))
            t.expect(prompt)
        t.send("C3")
        t.expect(r"mcts:400 plays (\S+)")
        t.expect(prompt)
        for _ in range(6):  # pass until the agent passes too
            t.send("pass")
            if t.expect(rf"({prompt}|save the game\?)").group(1).startswith("save"):
                break
        else:
            raise AssertionError("the agent never passed back")
        path = tmp_path / "go.sgf"
        t.send(str(path))
        t.expect(re.escape(f"to {path}"))
        t.send("quit")
        assert t.wait() == 0
        screen = t.screen
    from games.go import load_sgf

    loaded = load_sgf(path.read_text())
    g, state = loaded.game, loaded.state
    assert g.is_terminal(state) and g.passes(state) == 2
    assert f"RE[{g.result_string(state)}]" in path.read_text()
    before = loaded.states[-2]
    board = drawn(g, state, loaded.actions[-1], before)
    assert last_board_on_screen(screen, board) == board
    black, white = g.area(state)
    assert re.search(rf"Black: \d+ stones \+ \d+ territory = {black}\b", screen)
    assert re.search(rf"White: \d+ stones \+ \d+ territory = {white} \+ komi 7.5 = {white + 7.5:g}", screen)
    assert f"({g.result_string(state)}) after two passes, by Tromp-Taylor area scoring." in screen
    assert "Traceback" not in screen


def test_chess_castling_promotion_undo_resign(tmp_path):
    prompt = re.escape("your move (♔ White)> ")
    fen = "7k/1P6/8/8/8/8/6PP/4K2R w K - 0 1"
    with Terminal(["chess", "--position", fen, "--player", "mcts:100", "--seed", "1"]) as t:
        t.expect(prompt, FIRST_START)
        for bad, why in [("Nz9", "'Nz9' is not a chess move"), ("e1e3", "move e1e3 is illegal"),
                         ("Nf3", "move Nf3 is illegal: there is no white knight")]:
            t.send(bad)
            t.expect("✗ " + re.escape(why))
            t.expect(prompt)
        t.send("O-O")
        t.expect(r"mcts:100 plays (K\S+)")
        t.expect(prompt)
        rank1 = t.screen.rstrip().splitlines()
        assert any(ln.startswith(" 1  ·  ·  ·  ·  ·  ♖  ♔  ·  1") for ln in rank1)  # castled
        t.send("b8=Q")
        t.expect(r"mcts:100 plays (K\S+)")
        t.expect(prompt)
        assert re.search(r"^ 8  ·  ♕  ", t.screen, re.M)
        save = tmp_path / "game"
        t.send(f"save {save}")
        t.expect(re.escape(f"saved 4 moves to {save}.pgn"))
        t.expect(prompt)
        t.send("undo")
        t.expect(r"took back b8=Q\+? K\S+")
        t.expect(prompt)
        assert re.findall(r"^ 7  .*$", t.screen, re.M)[-1].startswith(" 7  ·  ♙  ")
        t.send("b7b8q")  # the same promotion in UCI
        t.expect(r"mcts:100 plays (K\S+)")
        t.expect(prompt)
        t.send("resign")
        t.expect(re.escape("Game over. White (you) resigns: Black (mcts:100) wins."))
        t.expect(re.escape("save the game? file name (Enter: no)> "))
        t.send("")
        t.expect("game over")
        t.key(b"\x03")  # Ctrl-C quits
        assert t.wait() == 130
        screen = t.screen
    assert "Traceback" not in screen and "interrupted: bye" in screen
    pgn = (tmp_path / "game.pgn").read_text()
    assert '[FEN "7k/1P6/8/8/8/8/6PP/4K2R w K - 0 1"]' in pgn and "1. O-O K" in pgn and "2. b8=Q" in pgn
    chess = games.make("chess")
    record = read_record(chess, pgn)
    assert chess.to_fen(record.states()[-1]).startswith("1Q")


def test_ctrl_c_while_the_agent_thinks():
    with Terminal(["chess", "--color", "black", "--time", "30", "--seed", "1"]) as t:
        t.expect(r"is thinking", FIRST_START)
        t.key(b"\x03")
        assert t.wait(timeout=20) == 130
        assert "Traceback" not in t.screen and "interrupted" in t.screen


def run_piped(args: list[str], stdin: str, timeout: float = FIRST_START) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "engine.play", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=timeout)


def test_piped_input_plain_text():
    """``printf 'e2e4\\nquit\\n' | python -m engine.play chess``: no terminal, no escape codes, a whole turn."""
    proc = run_piped(["chess", "--level", "1"], "e2e4\nquit\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\x1b" not in out and "Traceback" not in out + proc.stderr
    assert "your move (♔ White)> e2e4" in out  # the line read is shown after the prompt
    # no chess network is shipped: the best player without one, the material search, at level 1's budget
    reply = re.search(r"mcts-material:50 plays (\S+): win \d+% for Black", out).group(1)
    g = games.make("chess")
    before = g.parse_position("e2e4")
    after = g.apply(before, g.parse_move(before, reply))
    board = drawn(g, after, g.parse_move(before, reply), before)
    assert last_board_on_screen(out, board) == board
    assert out.rstrip().endswith("bye")


def test_piped_errors_eof_and_json():
    proc = run_piped(["connect4", "--simulations", "30", "--json"], "9\n4\nhint\nsave\nload /nonexistent/x\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\x1b" not in out
    assert "✗ '9' is not a column" in out and "✗ save needs a file name" in out
    assert "✗ cannot read /nonexistent/x" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["game"] == "connect4" and summary["moves"][0] == "4" and len(summary["moves"]) == 2


def test_bad_command_lines_are_one_line_errors():
    from engine.cli import UserError
    from engine.play import main
    from games import IllegalMove

    for args, why in [(["chess", "--level", "godlike"], "unknown level"),
                      (["go", "--size", "4"], "go size must be an integer from 5 to 19"),
                      (["chess", "--position", "rnbqkbnr/8 w"], "FEN"),
                      (["connect4", "--player", "mcts:lots"], "mcts:lots"),
                      (["go", "size=9", "--load", "/nonexistent.sgf"], "cannot read /nonexistent.sgf"),
                      (["tictactoe", "--color", "purple"], "--color 'purple'")]:
        with pytest.raises((UserError, IllegalMove), match=re.escape(why)):
            main(args)
    proc = run_piped(["go", "--size", "4"], "")  # and the command exits 2 with that line
    assert proc.returncode == 2 and proc.stderr.strip() == "error: go size must be an integer from 5 to 19, got 4"


def test_piped_go_of_another_size_with_options():
    proc = run_piped(["go", "size=7", "komi=0.5", "--plain", "--level", "1"], "D4\nhelp\nresign\n")
    out = proc.stdout
    assert proc.returncode == 0 and "\x1b" not in out
    assert "   A B C D E F G" in out and "go7: you play Black ●" in out and "komi 0.5" in out
    assert "Game over. Black (you) resigns: White (mcts:0.5s) wins." in out  # Go without a network: time a move
