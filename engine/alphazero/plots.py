"""PNG plots of a run (matplotlib, Agg backend: no display needed): Elo and losses over iterations."""

from __future__ import annotations

from pathlib import Path

from ..core import atomic_path


def _series(rows: list[dict], key: str):
    xs, ys = [], []
    for r in rows:
        v = r.get(key, "")
        if v not in ("", None):
            xs.append(r["iteration"])
            ys.append(float(v))
    return xs, ys


def write_plots(rows: list[dict], folder: Path, ratings=None) -> None:
    """``elo.png`` (each iteration's network with its 95% interval, the pure-MCTS baseline, random at 0) and
    ``losses.png`` (total, policy and value loss)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    xs, elo = _series(rows, "elo")
    if xs:
        fig, ax = plt.subplots(figsize=(7, 4))
        ci = []
        for r in rows:
            if r.get("elo", "") not in ("", None):
                c = r.get("elo_ci95", "")
                ci.append(float(c) if c not in ("", None) else 0.0)
        title = "Elo of each network when it was evaluated (metrics.csv)"
        if ratings:  # the latest fit rates every network again with all games so far
            names = [f"iter{x}" for x in xs]
            if all(n in ratings for n in names):
                elo = [ratings[n].elo for n in names]
                ci = [ratings[n].ci95 if ratings[n].ci95 < 1e9 else 0.0 for n in names]
                title = (f"Elo refitted after iteration {xs[-1]} with all games so far\n"
                         "(metrics.csv keeps each network's rating from when it was evaluated)")
        ax.set_title(title, fontsize=9)
        ax.errorbar(xs, elo, yerr=ci, marker="o", capsize=3, label="network (search)")
        mx, mcts = _series(rows, "elo_mcts")
        if mx:
            ax.axhline(mcts[-1], color="tab:red", linestyle="--", label="pure MCTS baseline")
        ax.axhline(0.0, color="gray", linestyle=":", label="random")
        ax.set_xlabel("iteration")
        ax.set_ylabel("Elo (Bradley-Terry, random = 0)")
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(folder / "elo.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    any_line = False
    for key in ("loss", "policy_loss", "value_loss"):
        x, y = _series(rows, key)
        if x:
            ax.plot(x, y, marker=".", label=key.replace("_", " "))
            any_line = True
    if any_line:
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean training loss")
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(folder / "losses.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
