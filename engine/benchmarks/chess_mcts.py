"""Chess search speed without a network, on one core: simulations per second of MCTS over the material and
quiescence evaluator (``mcts-material``, the fallback player of ``engine.uci``) and of pure MCTS with random
rollouts (``mcts``), on the start position, an opening (Italian game) and Kiwipete (a tactical middlegame);
and how fast ``python -m engine.uci`` answers ``isready`` while it searches (``go infinite``).

    python -m engine.bench chess_mcts
    python -m engine.bench chess_mcts --simulations 2000 --repeats 5 --no-uci --json
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import agents

from ..cli import add_simulations_arg, make_game, seed_everything, simulations_of
from ._common import finish, parser, setup

POSITIONS = {
    "start": "startpos",
    "italian": "r1bqkb1r/pppp1ppp/2n2n2/4p3/2B1P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4",
    "kiwipete": "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1",
}


def search_speed(game, spec: str, simulations: int, repeats: int) -> dict:
    """Best of ``repeats`` fresh searches per position: simulations per second (and quiescence nodes)."""
    out = {}
    for name, text in POSITIONS.items():
        state = game.parse_position(text)
        agent = agents.make(f"{spec}:{simulations}", game)
        agent.choose(state)  # compile and warm up
        best, nodes = 0.0, None
        for _ in range(repeats):
            agent.reset()
            before = getattr(agent.evaluator, "nodes", 0)
            t0 = time.perf_counter()
            decision = agent.choose(state)
            rate = decision.info["simulations"] / (time.perf_counter() - t0)
            best = max(best, rate)
            if hasattr(agent.evaluator, "nodes"):
                nodes = (agent.evaluator.nodes - before) / decision.info["simulations"]
        out[name] = {"simulations_per_second": round(best)}
        if nodes is not None:
            out[name]["quiescence_nodes_per_evaluation"] = round(nodes, 1)
    return out


def uci_latency(samples: int = 20) -> dict:
    """Seconds from ``isready`` to ``readyok`` while the engine searches (``go infinite``)."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "engine.uci"], cwd=root, text=True, bufsize=1,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()

    def wait_for(prefix):
        for line in proc.stdout:
            if line.startswith(prefix):
                return line
        raise RuntimeError("engine.uci exited")

    try:
        send("uci")
        wait_for("uciok")
        send("isready")
        wait_for("readyok")
        send("position startpos")
        send("go infinite")
        time.sleep(1.0)
        waits = []
        for _ in range(samples):
            t0 = time.perf_counter()
            send("isready")
            wait_for("readyok")
            waits.append(time.perf_counter() - t0)
            time.sleep(0.05)
        t0 = time.perf_counter()
        send("stop")
        wait_for("bestmove")
        stop = time.perf_counter() - t0
    finally:
        send("quit")
        proc.wait(timeout=30)
    return {"isready_median_ms": round(1000 * statistics.median(waits), 1),
            "isready_max_ms": round(1000 * max(waits), 1), "stop_to_bestmove_ms": round(1000 * stop, 1)}


def main(argv=None):
    p = parser("chess_mcts", __doc__.splitlines()[0])
    add_simulations_arg(p, 1000, "simulations per search")
    p.add_argument("--repeats", type=int, default=3, help="searches per position (the best one counts)")
    p.add_argument("--no-uci", action="store_true", help="skip the engine.uci latency measurement")
    args = p.parse_args(argv)
    simulations_of(args)
    setup(args)
    seed_everything(args.seed)
    game = make_game("chess")
    result = {"simulations": args.simulations,
              "mcts-material": search_speed(game, "mcts-material", args.simulations, args.repeats),
              "mcts": search_speed(game, "mcts", max(args.simulations // 4, 1), args.repeats)}
    if not args.no_uci:
        result["uci"] = uci_latency()
    lines = [f"{'player':<14} {'position':<10} {'sims/s':>9} {'q-nodes/eval':>13}"]
    for spec in ("mcts-material", "mcts"):
        for name, row in result[spec].items():
            q = row.get("quiescence_nodes_per_evaluation", "")
            lines.append(f"{spec:<14} {name:<10} {row['simulations_per_second']:>9,} {q:>13}")
    if "uci" in result:
        u = result["uci"]
        lines.append(f"engine.uci while searching: isready answered in {u['isready_median_ms']} ms (median), "
                     f"{u['isready_max_ms']} ms (max); stop -> bestmove {u['stop_to_bestmove_ms']} ms")
    finish("chess_mcts", args, result, "\n".join(lines))


if __name__ == "__main__":
    main()
