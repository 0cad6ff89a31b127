"""A tiny UCI engine for tests (python-chess picks the first legal move in sorted UCI order).

    python tests/fake_uci.py [--crash-once FILE] [--hang-once FILE] [--at N]

With ``--crash-once FILE`` the process exits (status 3) at its N-th ``go`` if FILE does not exist yet (and creates
it), so the first engine dies mid-game and the restarted one plays on; ``--hang-once`` stops answering instead.
"""

import sys
import time
from pathlib import Path

import chess


def main(argv):
    crash = Path(argv[argv.index("--crash-once") + 1]) if "--crash-once" in argv else None
    hang = Path(argv[argv.index("--hang-once") + 1]) if "--hang-once" in argv else None
    at = int(argv[argv.index("--at") + 1]) if "--at" in argv else 3
    board, gos = chess.Board(), 0
    for line in sys.stdin:
        tokens = line.split()
        if not tokens:
            continue
        cmd = tokens[0]
        if cmd == "uci":
            print("id name FakeUCI\noption name MultiPV type spin default 1 min 1 max 500\nuciok", flush=True)
        elif cmd == "isready":
            print("readyok", flush=True)
        elif cmd == "position":
            board = chess.Board() if tokens[1] == "startpos" else chess.Board(" ".join(tokens[2:8]))
            if "moves" in tokens:
                for m in tokens[tokens.index("moves") + 1:]:
                    board.push_uci(m)
        elif cmd == "go":
            gos += 1
            for marker, action in ((crash, "crash"), (hang, "hang")):
                if marker is not None and gos == at and not marker.exists():
                    marker.write_text(action)
                    if action == "crash":
                        print("fake engine: crashing on purpose", file=sys.stderr, flush=True)
                        sys.exit(3)
                    time.sleep(3600)
            moves = sorted(m.uci() for m in board.legal_moves)
            print(f"info depth 1 multipv 1 score cp 10 nodes 1 pv {moves[0]}", flush=True)
            print(f"bestmove {moves[0]}", flush=True)
        elif cmd == "quit":
            return


if __name__ == "__main__":
    main(sys.argv[1:])
