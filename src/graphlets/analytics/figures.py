"""The report's figures, drawn from the report's own numbers (so a figure never disagrees with the
JSON), one PNG each, with matplotlib's Agg canvas and no global pyplot state."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLORS = {
    "pushed": "#2e7d32",
    "unpushed": "#ef6c00",
    "failed": "#c62828",
    "pending": "#9e9e9e",
    "COMPLETE": "#1565c0",
    "CACHED": "#90caf9",
    "FAILED": "#c62828",
    "other": "#bdbdbd",
    "unblessed": "#ef6c00",
    "blocked": "#6a1b9a",
    "total": "#1565c0",
    "wasted": "#ef6c00",
}
Drawer = Callable[[Axes, dict[str, Any]], None]


def _bin_labels(edges: Sequence[float], fmt: str = "{:g}") -> list[str]:
    labels = []
    for lo, hi in itertools.pairwise(edges):
        if hi >= 10**5:
            labels.append(f">{fmt.format(lo)}")
        else:
            labels.append(f"{fmt.format(lo)}-{fmt.format(hi)}")
    return labels


def _hist(ax: Axes, hist: dict[str, Any], xlabel: str, ylabel: str, fmt: str = "{:g}") -> None:
    labels = _bin_labels(hist["edges"], fmt)
    ax.bar(range(len(labels)), hist["counts"], color=COLORS["total"])
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def _lifespan(ax: Axes, r: dict[str, Any]) -> None:
    _hist(ax, r["fleet"]["lifespan_histogram"], "lifespan (days)", "pipelines")
    ax.set_title("Pipelines by lifespan")


def _frequency(ax: Axes, r: dict[str, Any]) -> None:
    f = r["fleet"]
    labels = list(f["run_frequency"])
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], list(f["run_frequency"].values()), 0.4, label="pipelines")
    twin = ax.twinx()
    twin.bar([i + 0.2 for i in x], list(f["models_by_run_frequency"].values()), 0.4,
             color=COLORS["wasted"], label="models")  # fmt: skip
    ax.set_xticks(list(x), labels, rotation=30, ha="right")
    ax.set_ylabel("pipelines")
    twin.set_ylabel("models trained")
    ax.set_title("Pipelines and models by run frequency")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper right")


def _models(ax: Axes, r: dict[str, Any]) -> None:
    _hist(ax, r["fleet"]["models_per_pipeline_histogram"], "models trained", "pipelines")
    ax.set_title("Models per pipeline")


def _size(ax: Axes, r: dict[str, Any]) -> None:
    _hist(ax, r["graphlets"]["executions_histogram"], "executions per graphlet", "graphlets")
    ax.set_title("Graphlet size")


def _components(ax: Axes, r: dict[str, Any]) -> None:
    types = r["components"]["by_type"]
    names = list(types)[::-1]
    left = [0.0] * len(names)
    for state in ("COMPLETE", "CACHED", "FAILED", "other"):
        vals = []
        for n in names:
            by = types[n]["by_state"]
            known = sum(by.get(s, 0) for s in ("COMPLETE", "CACHED", "FAILED"))
            vals.append(by.get(state, 0) if state != "other" else types[n]["executions"] - known)
        ax.barh(names, vals, left=left, color=COLORS[state], label=state.lower())
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("executions")
    ax.set_title("How often each component runs")
    ax.legend(loc="lower right")


def _compute(ax: Axes, r: dict[str, Any]) -> None:
    c = r["compute"]
    cats = list(c["by_category"])
    x = range(len(cats))
    hours = 3600.0  # costs are seconds (CPU or wall): hours read better
    ax.bar([i - 0.2 for i in x], [c["by_category"][k] / hours for k in cats], 0.4,
           color=COLORS["total"], label="all executions")  # fmt: skip
    ax.bar([i + 0.2 for i in x], [c["wasted_by_category"][k] / hours for k in cats], 0.4,
           color=COLORS["wasted"], label="wasted (unpushed or failed graphlets)")  # fmt: skip
    ax.set_xticks(list(x), [c["labels"].get(k, k) for k in cats], rotation=30, ha="right")
    ax.set_ylabel("cost (hours)")
    ax.set_title("Compute by component category")
    ax.legend()


def _overlap(ax: Axes, r: dict[str, Any]) -> None:
    _hist(ax, r["overlap"]["jaccard_histogram"], "Jaccard similarity of input spans", "pairs")
    ax.set_title("Input overlap between consecutive trainings")


def _push_rate(ax: Axes, r: dict[str, Any]) -> None:
    _hist(ax, r["fleet"]["push_rate_per_pipeline_histogram"], "push rate", "pipelines")
    ax.set_title(f"Push rate per pipeline (fleet: {r['outcomes']['push_rate']:.0%})")


def _waste(ax: Axes, r: dict[str, Any]) -> None:
    w = r["outcomes"]["waste_by_cause"]
    causes = list(w)
    bars = ax.bar(causes, [w[c]["cost"] for c in causes], color=[COLORS[c] for c in causes])
    for b, c in zip(bars, causes, strict=True):
        ax.annotate(f"{w[c]['graphlets']} graphlets", (b.get_x() + b.get_width() / 2,
                    b.get_height()), ha="center", va="bottom")  # fmt: skip
    ax.set_ylabel("wasted cost (seconds)")
    ax.set_title(f"Waste by cause ({r['outcomes']['waste_fraction']:.0%} of all compute)")


def _weeks(ax: Axes, r: dict[str, Any]) -> None:
    weeks = r["outcomes"]["by_week"]
    labels = list(weeks)
    bottom = [0] * len(labels)
    for o in ("pushed", "unpushed", "failed", "pending"):
        vals = [weeks[w].get(o, 0) for w in labels]
        ax.bar(range(len(labels)), vals, bottom=bottom, color=COLORS[o], label=o)
        bottom = [a + b for a, b in zip(bottom, vals, strict=True)]
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right")
    ax.set_ylabel("graphlets")
    ax.set_title("Graphlet outcomes per week")
    ax.legend()


FIGURES: dict[str, tuple[str, Drawer]] = {
    "lifespan.png": ("Pipelines by lifespan", _lifespan),
    "run_frequency.png": ("Pipelines and models by run frequency", _frequency),
    "models_per_pipeline.png": ("Models per pipeline", _models),
    "graphlet_size.png": ("Graphlet size", _size),
    "component_runs.png": ("How often each component runs", _components),
    "compute_by_category.png": ("Compute by component category", _compute),
    "input_overlap.png": ("Input overlap between consecutive trainings", _overlap),
    "push_rate.png": ("Push rate per pipeline", _push_rate),
    "waste_by_cause.png": ("Waste by cause", _waste),
    "outcomes_by_week.png": ("Graphlet outcomes per week", _weeks),
}


def draw_figures(report: dict[str, Any], folder: Path) -> list[str]:
    """Write every figure of ``report`` into ``folder``; returns the file names."""
    names = []
    for name, (_, draw) in FIGURES.items():
        fig = Figure(figsize=(8, 4.5), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(ax, report)
        fig.tight_layout()
        fig.savefig(folder / name)
        names.append(name)
    return names
