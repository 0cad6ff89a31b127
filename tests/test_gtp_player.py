"""External GTP programs as players (``agents.make("gtp:COMMAND", go)``) and the arena against GNU Go."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap

import pytest

import agents
import games
from agents import AgentError
from engine.matches import final_state, play_game, run_match

from .test_cli import last_json, run_cli


def _gnugo() -> str:
    path = shutil.which("gnugo") or ("/usr/games/gnugo" if os.path.exists("/usr/games/gnugo") else None)
    if path is None:
        pytest.skip("GNU Go is not installed (apt-get install gnugo; it lands in /usr/games)")
    return path


def _fake(tmp_path, body: str) -> str:
    """A small GTP program in Python: ``body`` handles ``cmd`` (a list of words) and prints the answer."""
    script = tmp_path / "fake_gtp.py"
    script.write_text(textwrap.dedent("""
        import sys
        for line in sys.stdin:
            cmd = line.split()
            if not cmd:
                continue
            if cmd[0] in ("protocol_version",):
                print("= 2\\n", flush=True)
            elif cmd[0] in ("name", "version"):
                print("= fake\\n", flush=True)
            elif cmd[0] == "quit":
                print("=\\n", flush=True)
                break
            else:
        """) + textwrap.indent(textwrap.dedent(body), " " * 8))
    return f"gtp:{sys.executable} {script}"


def test_spec_and_start_errors(tmp_path):
    go = games.make("go", size=9)
    with pytest.raises(ValueError, match="give the command line"):
        agents.make("gtp", go)
    with pytest.raises(ValueError, match="gtp players play Go"):
        agents.make(f"gtp:{sys.executable} -m engine.gtp", games.make("tictactoe"))
    with pytest.raises(ValueError, match="cannot start 'no-such-gtp-program'"):
        agents.make("gtp:no-such-gtp-program --mode gtp", go)
    with pytest.raises(AgentError, match="exited with status 3"):
        agents.make(f"gtp:{sys.executable} -c 'import sys; sys.exit(3)'", go)
    with pytest.raises(AgentError, match="not '=' or '\\?' \\(not a GTP engine\\?\\)"):
        agents.make(f"gtp:{sys.executable} -c 'print(\"hello\"); import time; time.sleep(5)'", go)


def test_timeouts_refusals_and_deaths_are_clear_errors(tmp_path):
    go = games.make("go", size=9)
    silent = agents.make(_fake(tmp_path, """
        if cmd[0] == "genmove":
            import time; time.sleep(30)
        print("=\\n", flush=True)
    """), go, timeout=1.0)
    silent.reset()
    silent.timeout = 0.5
    with pytest.raises(AgentError, match="no answer to 'genmove B' within"):
        silent.send("genmove B", timeout=0.5)
    silent.close()
    refusing = agents.make(_fake(tmp_path, """
        print("? unacceptable size\\n" if cmd[0] == "boardsize" else "=\\n", flush=True)
    """), go)
    with pytest.raises(AgentError, match="refused 'boardsize 9': unacceptable size"):
        refusing.reset()
    refusing.close()
    dying = agents.make(_fake(tmp_path, """
        if cmd[0] == "genmove":
            sys.stderr.write("segmentation fault (pretend)\\n"); sys.exit(11)
        print("=\\n", flush=True)
    """), go)
    dying.reset()
    with pytest.raises(AgentError, match="exited with status 11 while answering 'genmove B'.*segmentation fault"):
        dying.choose(go.initial_state())
    dying.close()
    cheating = agents.make(_fake(tmp_path, """
        print("= D4\\n" if cmd[0] == "genmove" else "=\\n", flush=True)
    """), go)
    cheating.reset()
    state = go.play_moves("D4")
    with pytest.raises(AgentError, match="played 'D4', illegal here: the point is occupied"):
        cheating.choose(state)
    cheating.close()


def test_resign_and_ids_in_answers(tmp_path):
    go = games.make("go", size=9)
    resigning = agents.make(_fake(tmp_path, """
        print("=7 resign\\n" if cmd[0] == "genmove" else "=\\n", flush=True)
    """), go)
    resigning.reset()
    decision = resigning.choose(go.initial_state())
    assert decision.resign and decision.action == go.pass_action
    rec = play_game(go, [resigning, agents.make("random", go)])
    assert rec.reason == "resign" and rec.result == -1 and rec.actions == []
    resigning.close()


def test_gnugo_plays_a_game_relayed_move_by_move():
    go = games.make("go", size=9, komi=7.5)
    gnugo = agents.make(f"gtp:{_gnugo()} --mode gtp --level 0 --chinese-rules", go)
    try:
        assert gnugo.name.startswith("gtp:GNU Go")
        mcts = agents.make("mcts:30", go, seed=1)
        rec = play_game(go, [mcts, gnugo])
        state = final_state(go, rec)
        assert rec.reason == "end" and go.is_terminal(state) and rec.result == go.result(state)
        # GNU Go's board is the game's board: same stones after every relayed and generated move
        shown = gnugo.send("showboard")
        rows = [line.split()[1:go.size + 1] for line in shown.splitlines()[1:go.size + 1]]
        assert ["".join(r).replace("+", ".") for r in rows] == go.board_rows(state)
        assert gnugo.final_score()[:2] in ("B+", "W+")
        # a position it did not follow (a new game that starts elsewhere) is set up from the board
        start = go.play_moves("E5 C3 G7")
        decision = gnugo.choose(start)
        assert go.legal_mask(start)[decision.action]
    finally:
        gnugo.close()
    assert gnugo.proc.returncode is not None


def test_arena_against_gnugo_cli(tmp_path):
    gnugo = _gnugo()
    out = last_json(run_cli("engine.arena", "go", "mcts:30", f"gtp:{gnugo} --mode gtp --level 0 --chinese-rules",
                            "--game-option", "size=9", "--games", "1", "--final-score", "--save", str(tmp_path),
                            "--json"))
    game = out["games"][0]
    assert game["ended by"] in ("end", "resign") and game["score"][:2] in ("B+", "W+")
    assert out["game"] == "go9" and len(game["program scores"]) == 1
    sgf = next(tmp_path.glob("*.sgf")).read_text()
    assert "SZ[9]" in sgf and f"RE[{game['score']}]" in sgf and "final_score by gtp:" in sgf


@pytest.mark.slow
def test_ten_games_against_gnugo_without_protocol_errors(tmp_path):
    """Acceptance: 10 games on 9x9 against GNU Go level 1, colours alternating, every game finished and scored."""
    go = games.make("go", size=9, komi=7.5)
    players = {"mcts": agents.make("mcts:200", go, seed=0),
               "gnugo": agents.make(f"gtp:{_gnugo()} --mode gtp --level 1 --chinese-rules", go)}
    try:
        result = run_match(go, players, 10, save_dir=tmp_path, progress=False, final_score=True)
    finally:
        for p in players.values():
            p.close()
    assert len(result.details) == 10 and [d["first"] for d in result.details[:2]] == ["mcts", "gnugo"]
    for d in result.details:
        assert d["ended by"] in ("end", "resign") and d["score"][:2] in ("B+", "W+")
    assert len(list(tmp_path.glob("*.sgf"))) == 10
