"""Image grids as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.core import atomic_path


def save_grid(images: torch.Tensor | np.ndarray, path: str | Path, rows: int, title: str | None = None,
              row_labels: list[str] | None = None) -> Path:
    """Tile ``images`` [N, H, W] (or [N, 1, H, W], values in [0, 1]) into ``rows`` rows and write a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4:
        array = array[:, 0]
    n, h, w = array.shape
    cols = -(-n // rows)
    canvas = np.ones((rows * (h + 2), cols * (w + 2)), dtype=np.float32)
    for i, image in enumerate(array):
        r, c = divmod(i, cols)
        canvas[r * (h + 2) + 1: r * (h + 2) + 1 + h, c * (w + 2) + 1: c * (w + 2) + 1 + w] = image
    fig, ax = plt.subplots(figsize=(cols * 0.45 + 0.6, rows * 0.45 + (0.5 if title else 0.1)))
    ax.imshow(1.0 - np.clip(canvas, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels:
        ax.set_yticks([r * (h + 2) + h / 2 for r in range(len(row_labels))], row_labels)
    else:
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
