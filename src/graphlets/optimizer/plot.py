"""The tradeoff curve: waste saved against pushes missed, one line per predictor, as a PNG and
as JSON beside it (``tradeoff.png`` + ``tradeoff.json``, which the web's waste page draws)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def tradeoff_doc(
    curves: Mapping[str, Curve],
    points: Mapping[str, tuple[float, float]],
    budget: float,
    title: str,
    max_points: int = 80,
) -> dict[str, Any]:
    """The data of :func:`tradeoff_png` as JSON: what the web's waste page draws.

    ``points`` is the first curve (the gate's predictor) thinned to ``max_points`` over the
    plotted range, then the labelled operating points; ``curves`` holds every curve, thinned."""
    xlim = min(1.0, max(0.2, budget * 5))

    def thin(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        keep = np.flatnonzero(x <= xlim)
        if keep.size > max_points:
            keep = keep[np.linspace(0, keep.size - 1, max_points).round().astype(int)]
        return [(round(float(x[i]), 6), round(float(y[i]), 6)) for i in keep]

    thinned = {name: thin(x, y) for name, (x, y) in curves.items()}
    first = next(iter(thinned.values()), [])
    return {
        "title": title,
        "x_label": "pushes missed (fraction of pushed trainings)",
        "y_label": "waste saved (fraction of wasted compute)",
        "budget": budget,
        "points": [{"x": x, "y": y, "label": ""} for x, y in first]
        + [{"x": float(px), "y": float(py), "label": name} for name, (px, py) in points.items()],
        "curves": {name: [{"x": x, "y": y} for x, y in pts] for name, pts in thinned.items()},
    }


def tradeoff_json(path: Path, doc: Mapping[str, Any]) -> Path:
    """Write ``doc`` (see :func:`tradeoff_doc`) beside the PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))
    return path
