"""Reading runs back: list, show, diff (what ``graphlets runs ...`` prints). Reads only.

A run is a ``pipeline_run`` context; ``run:12`` names context 12 (the CLI also accepts
``context:12`` and the run's name).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import fsspec
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from graphlets.errors import IdError, InvalidArgumentError, NotFoundError
from graphlets.model import Context, Execution, parse_id
from graphlets.pipeline import record as rec
from graphlets.pipeline.environment import diff_environments
from graphlets.pipeline.lease import STATE, lease_table, owner_is_dead
from graphlets.store import ListOptions, MetadataStore, OrderBy


def find_run(store: MetadataStore, ref: str) -> Context:
    """The run named by ``run:ID``, ``context:ID`` or its name."""
    text = ref.strip()
    ctx: Context | None
    if ":" in text or text.isdigit():
        try:
            tid = parse_id(text, ("run", "context"))
        except IdError:
            tid = None
        if tid is not None:
            found = store.get_contexts_by_id([tid.id])
            ctx = found[0] if found else None
            if ctx is None or ctx.type != rec.PIPELINE_RUN:
                raise NotFoundError(
                    f"{text} is not a pipeline run: list runs with `graphlets runs ls`"
                )
            return ctx
    try:
        ctx = store.get_context_by_type_and_name(rec.PIPELINE_RUN, text)
    except NotFoundError:
        ctx = None
    if ctx is None:
        raise NotFoundError(f"no run {text!r}: list runs with `graphlets runs ls`")
    return ctx


def list_runs(
    store: MetadataStore, pipeline: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The newest runs first, with their state and step counts."""
    query = f"type = '{rec.PIPELINE_RUN}'"
    if pipeline is not None:
        if "'" in pipeline:
            raise InvalidArgumentError(f"pipeline name {pipeline!r} cannot contain a quote")
        query += f" AND custom_properties.pipeline.string_value = '{pipeline}'"
    try:
        runs = store.get_contexts(
            ListOptions(limit=limit, order_by=OrderBy.ID, is_asc=False, filter_query=query)
        )
    except NotFoundError:
        return []
    return [run_summary(store, r) for r in runs]


def run_summary(store: MetadataStore, run: Context) -> dict[str, Any]:
    """One run as a JSON-able dict (with its executions' state counts)."""
    execs = store.get_executions_by_context(int(run.id or 0))
    latest = _latest_per_node(execs)
    counts: dict[str, int] = {}
    for ex in latest.values():
        counts[ex.last_known_state.name] = counts.get(ex.last_known_state.name, 0) + 1
    p = run.custom_properties
    start, end = p.get(rec.START_TIME_MS), p.get(rec.END_TIME_MS)
    state = str(p.get(STATE, "UNKNOWN"))
    if state == "RUNNING" and not _lease_alive(store, str(p.get("pipeline", ""))):
        state = "STALE"
    error, previous = _errors(p, state)
    return {
        "run": f"run:{run.id}",
        "name": run.name,
        "pipeline": p.get("pipeline"),
        "span": p.get("span_label", p.get(rec.SPAN)),
        "state": state,
        "start_time_ms": start,
        "end_time_ms": end,
        "duration_s": round((int(end) - int(start)) / 1000, 3)
        if isinstance(start, int) and isinstance(end, int)
        else None,
        "executor": p.get("executor"),
        "error": error,
        "previous_error": previous,
        "resumes": p.get(rec.RESUMES) if isinstance(p.get(rec.RESUMES), int) else 0,
        "data_folder": p.get(rec.DATA_FOLDER),
        "counts": counts,
    }


def _errors(props: Mapping[str, Any], state: str) -> tuple[str | None, str | None]:
    """(this attempt's error, an earlier attempt's error). A COMPLETE run has no error of its
    own: an error left on it (runs resumed before ``previous_error`` existed) is an earlier
    attempt's."""
    error, previous = props.get(rec.ERROR), props.get(rec.PREVIOUS_ERROR)
    if state == "COMPLETE" and error:
        error, previous = None, previous or error
    return (str(error) if error else None), (str(previous) if previous else None)


def show_run(store: MetadataStore, ref: str) -> dict[str, Any]:
    """A run and every execution in it (the newest attempt per node first in run order)."""
    run = find_run(store, ref)
    execs = store.get_executions_by_context(int(run.id or 0))
    events = store.get_events_by_execution_ids([int(e.id or 0) for e in execs])
    outputs: dict[int, list[str]] = {}
    for ev in events:
        if ev.type.name == "OUTPUT":
            outputs.setdefault(int(ev.execution_id or 0), []).append(
                f"{ev.key}=artifact:{ev.artifact_id}"
            )
    checks = _checks_by_execution(store, events)
    doc = run_summary(store, run)
    p = run.custom_properties
    doc.update(
        {
            "pipeline_file": p.get("pipeline_file"),
            "git_commit": p.get("git_commit"),
            "param_overrides": stored_overrides(run),
            "executions": [
                _execution_row(e, outputs.get(int(e.id or 0), []))
                | {"checks": checks.get(int(e.id or 0))}
                for e in execs
            ],
        }
    )
    return doc


def _checks_by_execution(store: MetadataStore, events: list[Any]) -> dict[int, list[Any]]:
    """The ``checks`` an execution's outputs carry (an evaluator's verdicts), by execution."""
    made = {int(ev.artifact_id or 0): int(ev.execution_id or 0) for ev in events
            if ev.type.name == "OUTPUT"}  # fmt: skip
    found: dict[int, list[Any]] = {}
    for art in store.get_artifacts_by_id(sorted(made)):
        raw = art.custom_properties.get(rec.CHECKS)
        if isinstance(raw, str) and int(art.id or 0) in made:
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, list):
                found.setdefault(made[int(art.id or 0)], value)
    return found


def check_lines(checks: list[Any]) -> list[str]:
    """An evaluator's checks as lines: the counts per verdict, then every check not passed."""
    verdicts: dict[str, int] = {}
    for c in checks:
        verdicts[str(c.get("verdict"))] = verdicts.get(str(c.get("verdict")), 0) + int(
            c.get("count", 1)
        )
    lines = [", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))]
    for c in checks:
        if c.get("verdict") != "passed":
            value, floor = c.get("value"), c.get("threshold")
            known = value is not None and floor is not None
            detail = f" ({value}, needs >= {floor})" if known else ""
            detail += f" ({c['reason']})" if c.get("reason") else ""
            lines.append(f"{c.get('verdict')}: {c.get('check')}{detail}")
    return lines


def stored_overrides(run: Context) -> dict[str, Any]:
    """The ``--param`` values a run was started with (what ``resume`` applies again)."""
    raw = run.custom_properties.get("param_overrides")
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return dict(value) if isinstance(value, dict) else {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _execution_row(e: Execution, outputs: list[str]) -> dict[str, Any]:
    p = e.custom_properties
    start, end = p.get(rec.START_TIME_MS), p.get(rec.END_TIME_MS)
    return {
        "execution": f"execution:{e.id}",
        "node": p.get("node"),
        "type": e.type,
        "state": e.last_known_state.name,
        "duration_s": round((int(end) - int(start)) / 1000, 3)
        if isinstance(start, int) and isinstance(end, int)
        else None,
        "cpu_seconds": p.get(rec.CPU_SECONDS),
        "cached_from": f"execution:{p[rec.CACHED_EXECUTION_ID]}"
        if rec.CACHED_EXECUTION_ID in p
        else None,
        "error": p.get(rec.ERROR),
        "skip_reason": p.get(rec.SKIP_REASON),
        "metrics": {k[len(rec.METRIC) :]: v for k, v in p.items() if k.startswith(rec.METRIC)},
        "outputs": outputs,
    }


def diff_runs(store: MetadataStore, ref_a: str, ref_b: str) -> dict[str, Any]:
    """What differs between two runs: run settings, and per node code, parameters, input data and
    environment (only differences are listed)."""
    a, b = find_run(store, ref_a), find_run(store, ref_b)
    ea = _latest_per_node(store.get_executions_by_context(int(a.id or 0)))
    eb = _latest_per_node(store.get_executions_by_context(int(b.id or 0)))
    nodes: dict[str, Any] = {}
    for node in sorted(set(ea) | set(eb)):
        if node not in ea or node not in eb:
            nodes[node] = {"only_in": "a" if node in ea else "b"}
            continue
        d = _diff_execution(ea[node], eb[node])
        if d:
            nodes[node] = d
    pa = {**a.custom_properties, "param_overrides": stored_overrides(a)}
    pb = {**b.custom_properties, "param_overrides": stored_overrides(b)}
    run_level = {
        k: [pa.get(k), pb.get(k)]
        for k in (
            "pipeline",
            "span_label",
            "param_overrides",
            "options",
            "git_commit",
            "executor",
            "pipeline_file",
        )
        if pa.get(k) != pb.get(k)
    }
    env: dict[str, Any] = {}
    if pa.get(rec.ENVIRONMENT_SHA256) != pb.get(rec.ENVIRONMENT_SHA256):
        env = diff_environments(_load_env(pa), _load_env(pb))
    return {
        "a": f"run:{a.id}",
        "b": f"run:{b.id}",
        "a_name": a.name,
        "b_name": b.name,
        "run": run_level,
        "environment": env,
        "nodes": nodes,
        "identical": not (run_level or env or nodes),
    }


def diff_lines(doc: Mapping[str, Any]) -> list[str]:
    """:func:`diff_runs` as lines a person reads (long digests shortened)."""
    lines = [f"{doc['a']} {doc['a_name']} vs {doc['b']} {doc['b_name']}"]
    if doc["identical"]:
        return [*lines, "no differences in code, parameters, input data or environment"]
    lines += [f"  run {key}: {va} -> {vb}" for key, (va, vb) in doc["run"].items()]
    for key, change in doc["environment"].items():
        if key == "packages":
            lines += [f"  environment package {n}: {va} -> {vb}" for n, (va, vb) in change.items()]
        else:
            lines.append(f"  environment {key}: {change[0]} -> {change[1]}")
    for node, changes in doc["nodes"].items():
        lines += [f"  {node} {what}: {_short(change)}" for what, change in changes.items()]
    return lines


def _short(change: Any) -> str:
    if isinstance(change, list) and len(change) == 2:
        return f"{_clip(change[0])} -> {_clip(change[1])}"
    if isinstance(change, Mapping):
        return "; ".join(f"{k}: {_short(v)}" for k, v in change.items())
    return str(change)


def _clip(value: Any) -> str:
    text = str(value)
    digest = len(text) > 19 and all(c in "0123456789abcdef:" for c in text)
    return text[:16] + "..." if digest else text


def _diff_execution(x: Execution, y: Execution) -> dict[str, Any]:
    px, py = x.custom_properties, y.custom_properties
    out: dict[str, Any] = {}
    if px.get(rec.CODE_FINGERPRINT) != py.get(rec.CODE_FINGERPRINT):
        out["code"] = [px.get(rec.CODE_FINGERPRINT), py.get(rec.CODE_FINGERPRINT)]
    params = {
        k[len(rec.PARAM) :]: [px.get(k), py.get(k)]
        for k in sorted({*px, *py})
        if k.startswith(rec.PARAM) and px.get(k) != py.get(k)
    }
    if params:
        out["params"] = params
    ix, iy = _as_dict(px.get(rec.INPUT_FINGERPRINTS)), _as_dict(py.get(rec.INPUT_FINGERPRINTS))
    inputs = {k: [ix.get(k), iy.get(k)] for k in sorted({*ix, *iy}) if ix.get(k) != iy.get(k)}
    if inputs:
        out["inputs"] = inputs
    if px.get(rec.ENVIRONMENT_SHA256) != py.get(rec.ENVIRONMENT_SHA256):
        out["environment_sha256"] = [px.get(rec.ENVIRONMENT_SHA256), py.get(rec.ENVIRONMENT_SHA256)]
    if x.last_known_state != y.last_known_state:
        out["state"] = [x.last_known_state.name, y.last_known_state.name]
    return out


def _latest_per_node(execs: list[Execution]) -> dict[str, Execution]:
    latest: dict[str, Execution] = {}
    for ex in sorted(execs, key=lambda e: int(e.id or 0)):
        node = ex.custom_properties.get("node")
        if isinstance(node, str):
            latest[node] = ex
    return latest


def _load_env(props: Mapping[str, Any]) -> dict[str, Any]:
    """The environment a run recorded (a JSON blob); {} when the blob is gone."""
    uri = props.get(rec.ENVIRONMENT_URI)
    if not isinstance(uri, str):
        return {}
    try:
        with fsspec.open(uri, "rb") as fh:
            return dict(json.loads(fh.read()))
    except (OSError, ValueError):
        return {"unavailable": uri}


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _lease_alive(store: MetadataStore, pipeline: str) -> bool:
    t = lease_table
    try:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(t.c.owner, t.c.expires_ms).where(t.c.name == pipeline)
            ).first()
    except DBAPIError:  # no lease table (a store of another tool): cannot tell
        return True
    if row is None or owner_is_dead(str(row[0])):
        return False
    return int(row[1]) >= time.time_ns() // 1_000_000
