"""The tradeoff curve: waste saved against pushes missed, one line per predictor, as a PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

Curve = tuple[np.ndarray, np.ndarray]


def tradeoff_png(
    path: Path,
    curves: Mapping[str, Curve],
    points: Mapping[str, tuple[float, float]],
    budget: float,
    title: str,
) -> Path:
    """Draw ``curves`` (pushes missed fraction, waste saved fraction) and labelled ``points``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.0), dpi=110)
    ax.plot([0.0, 1.0], [0.0, 1.0], color="0.7", linestyle=":", label="random pruning")
    for name, (x, y) in curves.items():
        ax.plot(x, y, label=name, linewidth=1.6)
    for i, (name, (px, py)) in enumerate(points.items()):
        ax.scatter([px], [py], s=36, zorder=3)
        # Points often sit together near the origin: stagger their labels upwards.
        ax.annotate(name.replace("_", " "), (px, py), textcoords="offset points",
                    xytext=(6, 4 + 11 * i), fontsize=8)  # fmt: skip
    ax.axvline(budget, color="tab:red", linestyle="--", linewidth=1, label=f"budget {budget:.1%}")
    ax.axhline(0.5, color="0.5", linestyle="-.", linewidth=0.8, label="paper: 50% waste saved")
    ax.set_xlim(0, min(1.0, max(0.2, budget * 5)))
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("pushes missed (fraction of pushed trainings)")
    ax.set_ylabel("waste saved (fraction of wasted compute)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
