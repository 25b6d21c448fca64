"""The demo's summary, read back from the store (so it matches ``graphlets store stats`` and
``graphlets registry ls``): runs, trainings, blessings, pushes, blocked spans, anomalies by kind,
incidents and where they were detected, the registry, alerts, the graphlet waste report and what
the pruning gate would have saved and missed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from graphlets.demo.data import Incidents
from graphlets.model import ExecutionState
from graphlets.registry import ModelRegistry
from graphlets.store import MetadataStore

Progress = Callable[[str, int, int], None]


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def _span(a: Any) -> int | None:
    value = a.properties.get("span", a.custom_properties.get("span"))
    return int(value) if isinstance(value, int) else None


def anomalies(store: MetadataStore) -> tuple[dict[str, int], list[int], dict[str, list[int]]]:
    """(findings per kind, blocked spans, spans per kind) over every ExampleAnomalies."""
    total: Counter[str] = Counter()
    blocked: list[int] = []
    spans_by_kind: dict[str, list[int]] = {}
    for a in store.get_artifacts_by_type("ExampleAnomalies"):
        span = _span(a)
        kinds = json.loads(str(a.custom_properties.get("anomaly_kinds") or "{}"))
        total.update(kinds)
        for kind in kinds:
            spans_by_kind.setdefault(kind, []).append(span or 0)
        if a.custom_properties.get("blocking") == 1 and span is not None:
            blocked.append(span)
    return dict(sorted(total.items())), sorted(blocked), spans_by_kind


def pipeline_counts(store: MetadataStore) -> dict[str, Any]:
    """Runs, trainings, blessings and pushes as the store records them."""
    trainers = store.get_executions_by_type("Trainer")
    blessings = store.get_artifacts_by_type("ModelBlessing")
    pushed = [
        a
        for a in store.get_artifacts_by_type("PushedModel")
        if a.custom_properties.get("pushed") == 1
    ]
    done = (ExecutionState.COMPLETE,)
    return {
        "runs": len(store.get_contexts_by_type("pipeline_run")),
        "executions": store.count("execution"),
        "artifacts": store.count("artifact"),
        "models_trained": sum(1 for e in trainers if e.last_known_state in done),
        "trainings_skipped": sum(
            1 for e in trainers if e.last_known_state == ExecutionState.CANCELED
        ),
        "blessed": sum(1 for b in blessings if b.custom_properties.get("blessed") == 1),
        "not_blessed": sum(1 for b in blessings if b.custom_properties.get("blessed") == 0),
        "pushed": len(pushed),
    }


def unblessed_spans(store: MetadataStore) -> list[int]:
    """Spans whose candidate the evaluator did not bless."""
    return sorted(
        s
        for b in store.get_artifacts_by_type("ModelBlessing")
        if b.custom_properties.get("blessed") == 0 and (s := _span(b)) is not None
    )


def registry_summary(store: MetadataStore, model: str) -> dict[str, Any]:
    """Versions per stage, promotions, the production version and the stage gains."""
    reg = ModelRegistry(store)
    versions = reg.versions(model)
    history = reg.history(model)
    prod = reg.production(model)
    gains = [
        {
            "version": r["version"],
            "stage": r["rollout_stage"],
            "gain": r.get("gain"),
            "to": r["to_stage"],
        }
        for r in history
        if r.get("rollout_stage") in ("shadow", "canary")
    ]
    return {
        "versions": len(versions),
        "by_stage": dict(Counter(v.stage for v in versions)),
        "promotions": len(reg.production_history(model)),
        "production": prod.version if prod else None,
        "fallback": (fb.version if (fb := reg.alias(model, "fallback")) else None),
        "stage_gains": gains,
        "changes": len(history),
    }


def alerts(store: MetadataStore) -> list[dict[str, Any]]:
    """Alert records (firing and resolved) in the store."""
    try:
        rows = store.get_executions_by_type("Alert")
    except Exception:
        return []
    return [dict(e.custom_properties) for e in rows]


def incident_table(
    incidents: Incidents, spans_by_kind: dict[str, list[int]], store: MetadataStore
) -> list[dict[str, Any]]:
    """Each injected incident, where it was injected and where the system caught it."""
    fired = [a for a in alerts(store) if a.get("status") == "firing"]

    def first(kind: str, at: int) -> int | None:
        return next((s for s in sorted(spans_by_kind.get(kind, [])) if s >= at), None)

    unblessed = [s for s in unblessed_spans(store) if s >= incidents.code_change]
    drift_alert = next(
        (int(a["span"]) for a in fired if int(a["span"]) >= incidents.concept_drift), None
    )
    return [
        {
            "incident": "schema break",
            "injected": incidents.schema_break,
            "detected": first("missing_column", incidents.schema_break),
            "by": "ExampleValidator (missing_column, blocks)",
        },
        {
            "incident": "missing-value spike",
            "injected": incidents.missing_spike,
            "detected": first("missing_rate", incidents.missing_spike),
            "by": "ExampleValidator (missing_rate, blocks)",
        },
        {
            "incident": "concept drift",
            "injected": incidents.concept_drift,
            "detected": first("drift", incidents.concept_drift),
            "by": "ExampleValidator drift; monitoring alert on span " + str(drift_alert),
        },
        {
            "incident": "code change",
            "injected": incidents.code_change,
            "detected": unblessed[0] if unblessed else None,
            "by": "Evaluator (not blessed vs production)",
        },
    ]


def waste(store: MetadataStore) -> dict[str, Any]:
    """The graphlet waste report (:mod:`graphlets.lineage`)."""
    from graphlets.lineage import segment_store

    s = segment_store(store).summary
    keys = (
        "graphlets",
        "pushed",
        "unpushed",
        "failed",
        "pending",
        "total_cost",
        "waste_cost",
        "waste_fraction",
        "cost_source",
    )
    return {k: s[k] for k in keys}


def pruning(store: MetadataStore, progress: Progress) -> dict[str, Any]:
    """What the pruning gate would have saved and missed (``graphlets.optimizer.replay``)."""
    try:
        from graphlets.optimizer.replay import evaluate
    except ImportError as exc:
        return {"available": False, "reason": f"optimizer not installed: {exc}"}
    try:
        report = evaluate(store, progress=progress, baselines=False)
    except Exception as exc:  # the replay needs enough history; say why it did not run
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
    keep = (
        "skipped",
        "skip_rate",
        "avoidable_waste_saved_fraction",
        "waste_saved_fraction",
        "compute_saved_fraction",
        "pushes_missed",
        "pushes_missed_fraction",
        "max_pushes_missed",
        "abstained",
        "abstention_reason",
        "abstained_trainings",
        "abstentions",
        "paper_waste_saved_fraction",
    )
    return {"available": True, **{k: report[k] for k in keep if k in report}}


def pruning_line(p: dict[str, Any]) -> tuple[str, str]:
    """The demo's one line on the gate: its abstention and why, or its saving within the
    budget led by the avoidable waste, with the paper's figure beside it as the paper's."""
    if not p.get("available"):
        return "pruning gate replay", f"not run: {p.get('reason')}"
    if p.get("abstained"):
        return "pruning gate", f"{p.get('abstention_reason')}; it would skip nothing"
    return (
        "pruning gate would save",
        f"{p['avoidable_waste_saved_fraction']:.1%} of that waste (anchor and downstream; "
        f"{p['waste_saved_fraction']:.1%} with upstream shares), missing "
        f"{p['pushes_missed_fraction']:.1%} of pushes ({p['pushes_missed']}, budget "
        f"{p.get('max_pushes_missed', 0):.1%}); the paper's figure: "
        f"{p.get('paper_waste_saved_fraction', 0.5):.0%} of waste saved",
    )


def summarize(
    store: MetadataStore,
    model: str,
    incidents: Incidents,
    *,
    replay: bool = True,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """The whole demo report."""
    by_kind, blocked, spans_by_kind = anomalies(store)
    return {
        **pipeline_counts(store),
        "blocked_spans": blocked,
        "anomalies_by_kind": by_kind,
        "incidents": incident_table(incidents, spans_by_kind, store),
        "registry": registry_summary(store, model),
        "alerts": alerts(store),
        "waste": waste(store),
        "pruning": pruning(store, progress) if replay else {"available": False, "reason": "off"},
    }
