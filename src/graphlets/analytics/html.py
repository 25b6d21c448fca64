"""``report.html``: the report's headline numbers, one section per figure, and the definitions.

Plain HTML with inline CSS and the figures as files beside it, so the folder can be opened from
disk, attached to an issue or served as is. Every number shown is also in ``report.json``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from graphlets.analytics.figures import FIGURES

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 1.5em 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 16px; min-width: 140px; }
.card b { display: block; font-size: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border-bottom: 1px solid #eee; padding: 3px 10px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
.note { color: #555; font-size: 0.92em; }
"""

# What each figure shows and the numbers printed under it: (section key, number key, label).
NOTES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "lifespan.png": ("Time from a pipeline's first execution to its last.", [
        ("fleet", "pipelines", "pipelines"), ("fleet", "lifespan_days.median", "median days"),
        ("fleet", "lifespan_days.p90", "p90 days")]),
    "run_frequency.png": ("Median time between consecutive runs (ingest executions).", []),
    "models_per_pipeline.png": ("Completed trainings (graphlets) per pipeline.", [
        ("fleet", "models_per_pipeline.mean", "mean"),
        ("fleet", "models_per_pipeline.median", "median"),
        ("fleet", "models_per_pipeline.max", "max")]),
    "graphlet_size.png": ("Executions in each model graphlet (upstream, training, downstream).", [
        ("graphlets", "executions_per_graphlet.median", "median executions"),
        ("graphlets", "artifacts_per_graphlet.median", "median artifacts"),
        ("graphlets", "share_warm_started", "share warm started")]),
    "component_runs.png": ("Executions by component type and state.", [
        ("components", "executions", "executions"),
        ("components", "failure_rate", "failure rate (failed / run)")]),
    "compute_by_category.png": ("Cost of all executions, and of those in wasted graphlets.", [
        ("compute", "total", "total cost"), ("compute", "in_graphlets", "in graphlets")]),
    "input_overlap.png": ("Each training against the previous one of the same trainer.", [
        ("overlap", "pairs", "pairs"), ("overlap", "jaccard.median", "median Jaccard"),
        ("overlap", "share_already_seen.median", "median share of spans already seen")]),
    "push_rate.png": ("Pushed / decided graphlets, per pipeline with at least one decided.", [
        ("outcomes", "push_rate", "fleet push rate"),
        ("fleet", "pipelines_never_pushing", "pipelines that never pushed")]),
    "waste_by_cause.png": ("Unblessed: the evaluator said no. Blocked: blessed, not pushed. "
                           "Failed: a step after training failed.", [
        ("outcomes", "waste_cost", "wasted cost"),
        ("outcomes", "waste_fraction", "share of all compute")]),
    "outcomes_by_week.png": ("Graphlets by the week their training started.", []),
}  # fmt: skip


def _get(report: dict[str, Any], section: str, dotted: str) -> Any:
    value: Any = report[section]
    for part in dotted.split("."):
        value = value[part]
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def _cards(report: dict[str, Any]) -> str:
    h = report["headline"]
    cards = [
        ("pipelines", h["pipelines"]),
        ("models trained", h["models"]),
        ("days covered", f"{h['days']:,.1f}"),
        ("push rate", f"{h['push_rate']:.1%}"),
        ("graphlets not pushed", f"{h['unpushed_share']:.1%}"),
        ("compute wasted", f"{h['waste_fraction']:.1%}"),
    ]
    return "".join(f'<div class="card"><b>{_fmt(v)}</b>{escape(label)}</div>' for label, v in cards)


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _section(report: dict[str, Any], name: str) -> str:
    title = FIGURES[name][0]
    note, keys = NOTES[name]
    rows = [(label, _get(report, sec, key)) for sec, key, label in keys]
    return (
        f"<h2>{escape(title)}</h2><p class='note'>{escape(note)}</p>"
        f'<img src="{escape(name)}" alt="{escape(title)}">' + (_table(rows) if rows else "")
    )


def render_html(report: dict[str, Any], figures: list[str]) -> str:
    """The whole page."""
    h = report["headline"]
    causes = report["outcomes"]["waste_by_cause"]
    waste_rows = [(c, f"{v['graphlets']:,} graphlets, {v['share_of_waste']:.1%} of waste")
                  for c, v in causes.items()]  # fmt: skip
    topo = list(report["graphlets"]["topologies"].items())[:8]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>graphlets report: {escape(report['store'])}</title><style>{STYLE}</style>",
        "</head><body><h1>Pipeline analytics</h1>",
        f"<p class='sub'>{escape(report['store'])} · generated {escape(report['generated'])} · "
        f"cost from {escape(', '.join(h['cost_source']))}</p>",
        f"<div class='cards'>{_cards(report)}</div>",
        "<h2>Waste by cause</h2>",
        _table(waste_rows),
        "<h2>Most common graphlet topologies</h2>",
        _table(topo),
        *(_section(report, name) for name in figures),
        "<h2>Definitions</h2><p class='note'>",
        escape(report["definitions"]),
        "</p><p class='note'>Every number is in report.json beside this page.</p></body></html>",
    ]
    return "\n".join(parts)
