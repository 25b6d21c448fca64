"""A store's trainings as a decision table: one row per graphlet, with what was known when it began.

The predictor decides "train or skip" just before a training starts (DESIGN.md, "Decision point for
pruning"). This module turns a store into the raw facts of every such decision, each stamped with
the time it became known, so that :mod:`graphlets.optimizer.features` can build features *as of*
each decision without looking ahead:

* ``t``: when the training started (the runner's ``start_time_ms``, else MLMD's create time);
* ``known``: when its outcome became known (the end of its last step; null while pending), so a
  training's label is only used by decisions made after ``known``;
* inputs (spans, schema, newest statistics and anomalies), code and config fingerprints, the set
  of step types that ran before it in the same run (structure), the model type;
* for scoring a replay only, never as features: outcome, label, cost, waste and the avoidable cost
  (anchor and downstream: what skipping the training would have saved).

Trainings are grouped into *series*: one trainer node of one pipeline (its ``node`` context, as TFX
and graphlets' runner name them), so a pipeline with two trainers has two push histories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from graphlets.lineage import (
    GraphletConfig,
    GraphletResult,
    LineageTables,
    LoadFilter,
    load_tables,
    segment_tables,
)
from graphlets.lineage.categories import categorize
from graphlets.lineage.load import ProgressFn, _quiet
from graphlets.model.enums import EventType, TypeKind
from graphlets.optimizer import queries as q
from graphlets.store import MetadataStore

CODE_PROPERTIES = ("module_file", "module_path", "code_fingerprint", "user_module", "run_fn")
CONFIG_PROPERTIES = ("train_args", "eval_args", "custom_config", "hyperparameters", "config")
CONFIG_PREFIXES = ("param.",)
ANOMALY_PROPERTIES = ("anomaly_count", "num_anomalies", "anomalies_count")
SIZE_PROPERTY = "size_bytes"
DIGEST_PROPERTY = "content_sha256"
LATENT_PREFIX = "sim_"
RUN_CONTEXT_TYPE = "pipeline_run"
NODE_CONTEXT_TYPE = "node"
# Step categories that count as the structure before a trainer (not training or its aftermath).
STRUCTURE_CATEGORIES = ("ingest", "data_validation", "transform", "other")
_NULL_STR = pl.lit(None, dtype=pl.String)


@dataclass(frozen=True)
class History:
    """A store's decisions and what scoring a replay needs.

    Attributes:
        decisions: one row per graphlet (see the module docstring; columns in ``DECISION_COLUMNS``).
        executions: ``t, cost`` of every loaded execution (the denominator of compute saved).
        payloads: ``artifact_id, uri`` of statistics artifacts whose payload can be read.
        summary: lineage's headline numbers (waste definition, cost sources).
        latent: ``gid`` plus the trace's ``sim_*`` latent causes (simulated traces, oracle only).
    """

    decisions: pl.DataFrame
    executions: pl.DataFrame
    payloads: pl.DataFrame
    summary: dict[str, object] = field(default_factory=dict)
    latent: pl.DataFrame | None = None


def load_history(
    store: MetadataStore,
    config: GraphletConfig | None = None,
    where: LoadFilter | None = None,
    *,
    latent: bool = False,
    progress: ProgressFn = _quiet,
) -> History:
    """Segment ``store`` and collect the decision facts of every graphlet."""
    cfg = config or GraphletConfig()
    tables = load_tables(store, cfg, where, progress=progress)
    result = segment_tables(tables, cfg, progress=progress)
    return history_from(store, tables, result, latent=latent)


def history_from(
    store: MetadataStore, tables: LineageTables, result: GraphletResult, *, latent: bool = False
) -> History:
    """Build a :class:`History` from already segmented tables (extra facts are read from store)."""
    cfg = result.config
    types = tables.types
    if result.graphlets.height == 0:
        empty = pl.DataFrame(schema=DECISION_SCHEMA)
        return History(empty, pl.DataFrame(schema={"t": pl.Int64, "cost": pl.Float64}),
                       pl.DataFrame(schema={"artifact_id": pl.Int64, "uri": pl.String}),
                       dict(result.summary))  # fmt: skip
    training = _type_ids(types, TypeKind.EXECUTION_TYPE, lambda n: categorize(n, cfg) == "training")
    execs = _executions(tables, result)
    d = _base(result, execs)
    d = d.join(_inputs(tables, result, store), on="gid", how="left")
    spans = pl.coalesce("window", "input_spans")
    d = d.with_columns(
        spans=spans, n_spans=spans.list.len().cast(pl.Int32), span_max=spans.list.max()
    )
    d = d.join(_series(store, training), on="gid", how="left")
    d = d.join(_fingerprints(store, training), on="gid", how="left")
    d = d.join(_structure(store, training, execs, result, d), on="gid", how="left")
    d = d.join(_data_checks(store, tables, execs, d), on="gid", how="left")
    d = d.with_columns(
        series=pl.coalesce("series", pl.col("pipeline") + pl.lit(".") + pl.col("model_type")),
        anomalies=pl.col("anomalies").fill_null(np.nan),
    )
    payload_types = _type_ids(types, TypeKind.ARTIFACT_TYPE, lambda n: n == "ExampleStatistics")
    payloads = q.artifact_payloads(store, payload_types, DIGEST_PROPERTY).select(
        artifact_id="owner", uri="name"
    )
    lat = _latent(store, training) if latent else None
    return History(
        decisions=d.select(DECISION_COLUMNS).cast(DECISION_SCHEMA).sort("t", "gid"),
        executions=execs.select("t", "cost"),
        payloads=payloads,
        summary=dict(result.summary),
        latent=lat,
    )


DECISION_SCHEMA = pl.Schema(
    {
        "gid": pl.Int64(),
        "pipeline": pl.String(),
        "series": pl.String(),
        "model_type": pl.String(),
        "t": pl.Int64(),
        "known": pl.Int64(),
        "outcome": pl.String(),
        "label": pl.Int8(),
        "cost": pl.Float64(),
        "waste": pl.Float64(),
        "avoidable": pl.Float64(),
        "anchor_cost": pl.Float64(),
        "spans": pl.List(pl.Int64()),
        "n_spans": pl.Int32(),
        "span_max": pl.Int64(),
        "examples_id": pl.Int64(),
        "data_bytes": pl.Float64(),
        "ingest_cost": pl.Float64(),
        "schema_id": pl.Int64(),
        "code_fp": pl.String(),
        "config_fp": pl.String(),
        "structure": pl.String(),
        "stats_id": pl.Int64(),
        "anomalies": pl.Float64(),
        "pipeline_first": pl.Int64(),
    }
)
DECISION_COLUMNS = tuple(DECISION_SCHEMA.names())


def _type_ids(types: pl.DataFrame, kind: TypeKind, pick: Callable[[str], bool]) -> list[int]:
    rows = types.filter(pl.col("kind") == int(kind))
    return [int(i) for i, n in zip(rows["id"], rows["name"], strict=True) if pick(str(n))]


def _executions(tables: LineageTables, result: GraphletResult) -> pl.DataFrame:
    """``id, t, end, cost, type, category, pipeline_id`` per execution (``t`` = start)."""
    ex = tables.executions
    cfg = result.config
    start = pl.col(cfg.start_property)
    end = pl.col(cfg.end_property)
    return ex.select(
        "id",
        "pipeline_id",
        t=pl.when(start.is_finite()).then(start).otherwise(pl.col("create_ms")).cast(pl.Int64),
        end=pl.when(end.is_finite()).then(end).otherwise(pl.col("update_ms")).cast(pl.Int64),
    ).with_columns(
        cost=result.executions["cost"],
        type=result.executions["type"],
        category=result.executions["category"].cast(pl.String),
    )


def _base(result: GraphletResult, execs: pl.DataFrame) -> pl.DataFrame:
    """Outcome, costs, times and spans of each graphlet."""
    g = result.graphlets
    m = result.members.filter(pl.col("node_kind") == "execution")
    role = pl.col("role").cast(pl.String)
    costs = m.group_by("graphlet_id").agg(
        avoidable=pl.col("cost")
        .filter(role.is_in(["anchor", "cached_anchor", "downstream"]))
        .sum(),
        anchor_cost=pl.col("cost").filter(role == "anchor").sum(),
    )
    outcome = pl.col("outcome").cast(pl.String)
    decided = outcome.is_in(["pushed", "unpushed", "failed"])
    return (
        g.join(costs, on="graphlet_id", how="left")
        .join(execs.select(pl.col("id").alias("graphlet_id"), "t"), on="graphlet_id", how="left")
        .join(_pipeline_first(execs, result), on="pipeline", how="left")
        .select(
            gid="graphlet_id",
            pipeline=pl.col("pipeline").fill_null(""),
            model_type=pl.col("anchor_type").str.split(".").list.last(),
            t="t",
            known=pl.when(decided).then(pl.max_horizontal("end_ms", "t")).otherwise(None),
            outcome=outcome,
            label=pl.when(decided).then((outcome == "pushed").cast(pl.Int8)).otherwise(None),
            cost="cost",
            waste="waste",
            avoidable=pl.col("avoidable").fill_null(0.0),
            anchor_cost=pl.col("anchor_cost").fill_null(0.0),
            input_spans="input_spans",
            pipeline_first=pl.col("pipeline_first"),
        )
    )


def _pipeline_first(execs: pl.DataFrame, result: GraphletResult) -> pl.DataFrame:
    """Start of each pipeline's first execution (the earliest is always in the past)."""
    names = result.graphlets.select("pipeline", "anchor_execution_id").unique("pipeline")
    pid = names.join(
        execs.select(pl.col("id").alias("anchor_execution_id"), "pipeline_id"),
        on="anchor_execution_id",
    )
    first = execs.group_by("pipeline_id").agg(pipeline_first=pl.col("t").min())
    return pid.join(first, on="pipeline_id").select("pipeline", "pipeline_first")


def _inputs(tables: LineageTables, result: GraphletResult, store: MetadataStore) -> pl.DataFrame:
    """The training's window (spans of the Examples it reads itself), data size and schema.

    Spans come from the anchor's own INPUT events: lineage's ``input_spans`` also holds the span a
    schema was inferred from, which is upstream of every training but not part of its window. A
    trainer that reads no Examples directly (only transformed data) falls back to ``input_spans``.
    """
    cfg = result.config
    names = dict(zip(tables.types["id"], tables.types["name"], strict=True))
    arts = tables.artifacts.select(
        artifact_id="id",
        atype=pl.col("type_id").replace_strict(names, default=""),
        span=pl.col(cfg.span_property),
    )
    direct = (
        tables.events.filter(pl.col("type") == int(EventType.INPUT))
        .join(result.graphlets.select(execution_id="graphlet_id"), on="execution_id")
        .join(arts, on="artifact_id")
        .select(gid="execution_id", node_id="artifact_id", type="atype", span="span")
    )
    ex_types = [int(i) for i, n in names.items() if n in cfg.span_types]
    sizes = q.artifact_numbers(store, ex_types, [SIZE_PROPERTY]).select(
        node_id="owner", size="value"
    )
    examples = (
        direct.filter(pl.col("type").is_in(list(cfg.span_types)) & pl.col("span").is_not_nan())
        .join(sizes, on="node_id", how="left")
        .group_by("gid")
        .agg(
            window=pl.col("span").cast(pl.Int64).unique().sort(),
            examples_id=pl.col("node_id").sort_by("span", "node_id").last(),
            data_bytes=pl.col("size").sum().cast(pl.Float64),
            has_size=pl.col("size").is_not_null().any(),
        )
        .with_columns(data_bytes=pl.when("has_size").then("data_bytes").otherwise(float("nan")))
        .drop("has_size")
    )
    schema = (
        direct.filter(pl.col("type") == "Schema")
        .group_by("gid")
        .agg(schema_id=pl.col("node_id").max())
    )
    return examples.join(schema, on="gid", how="full", coalesce=True)


def _series(store: MetadataStore, training: list[int]) -> pl.DataFrame:
    """The trainer node (its ``node`` context name) of each training."""
    ctx = q.execution_contexts(store, training, NODE_CONTEXT_TYPE)
    return ctx.select(gid="execution_id", series="name")


def _fingerprints(store: MetadataStore, training: list[int]) -> pl.DataFrame:
    """Code and config fingerprints: a hash of the sorted ``name=value`` pairs of each group."""
    props = q.execution_strings(store, training, CODE_PROPERTIES + CONFIG_PROPERTIES,
                                CONFIG_PREFIXES)  # fmt: skip
    is_code = pl.col("name").is_in(list(CODE_PROPERTIES))
    pair = pl.col("name") + pl.lit("=") + pl.col("value").fill_null("")
    joined = (
        props.sort("owner", "name")
        .group_by("owner")
        .agg(code=pair.filter(is_code).str.join("\n"), config=pair.filter(~is_code).str.join("\n"))
    )
    return joined.select(gid="owner", code_fp=text_hash("code"), config_fp=text_hash("config"))


def text_hash(column: str) -> pl.Expr:
    """A fingerprint of a text column (null for empty text), the same in bulk and online."""
    col = pl.col(column)
    return pl.when(col != "").then(col.hash().cast(pl.String))


def fingerprint(pairs: dict[str, str]) -> str | None:
    """:func:`text_hash` of ``name=value`` pairs sorted by name (one training, online)."""
    text = "\n".join(f"{k}={pairs[k]}" for k in sorted(pairs))
    value = pl.DataFrame({"x": [text]}).select(text_hash("x"))["x"][0]
    return None if value is None else str(value)


def structure_hash(type_names: pl.Expr) -> pl.Expr:
    """One hash of a set of step type names (inside an aggregation)."""
    return type_names.unique().sort().str.join("|").hash().cast(pl.String)


def _structure(
    store: MetadataStore,
    training: list[int],
    execs: pl.DataFrame,
    result: GraphletResult,
    d: pl.DataFrame,
) -> pl.DataFrame:
    """Hash of the step types that ran before each training in its run (upstream members when the
    store has no run contexts)."""
    peers = q.run_peers(store, training, RUN_CONTEXT_TYPE)
    steps = execs.filter(pl.col("category").is_in(list(STRUCTURE_CATEGORIES))).select(
        "id", "type", step_t="t"
    )
    if peers.height:
        runs = peers.join(d.select(b="gid", t="t"), on="b").select("a", gid="b", t="t")
        rows = runs.join(peers.rename({"b": "id"}), on="a").join(steps, on="id")
        rows = rows.filter(pl.col("step_t") <= pl.col("t"))
    else:
        rows = (
            result.members.filter(pl.col("role").cast(pl.String) == "upstream")
            .select(gid="graphlet_id", id="node_id")
            .join(steps, on="id")
        )
    return rows.group_by("gid").agg(structure=structure_hash(pl.col("type")))


def _data_checks(
    store: MetadataStore, tables: LineageTables, execs: pl.DataFrame, d: pl.DataFrame
) -> pl.DataFrame:
    """Statistics and anomaly counts made from each training's newest Examples before it began."""
    ev = tables.events.select("artifact_id", "execution_id", "type")
    inputs = ev.filter(pl.col("type") == int(EventType.INPUT)).drop("type")
    outputs = ev.filter(pl.col("type") == int(EventType.OUTPUT)).drop("type")
    names = dict(zip(tables.types["id"], tables.types["name"], strict=True))
    arts = tables.artifacts.select(
        "id", "create_ms", kind=pl.col("type_id").replace_strict(names, default="")
    )

    def made_from(src: pl.DataFrame, kind: str) -> pl.DataFrame:
        """(gid, artifact id) of ``kind`` artifacts output by consumers of ``src.artifact_id``."""
        made = (
            src.join(inputs, on="artifact_id")
            .join(outputs.rename({"artifact_id": "made"}), on="execution_id")
            .join(arts.rename({"id": "made"}), on="made")
        )
        made = made.filter((pl.col("kind") == kind) & (pl.col("create_ms") <= pl.col("t")))
        return made.group_by("gid").agg(pl.col("made").max()).select("gid", artifact_id="made")

    start = d.select("gid", "t", artifact_id="examples_id").drop_nulls("artifact_id")
    stats = made_from(start, "ExampleStatistics")
    anomalies = made_from(stats.join(d.select("gid", "t"), on="gid"), "ExampleAnomalies")
    atypes = [int(i) for i, n in names.items() if n == "ExampleAnomalies"]
    counts = (
        q.artifact_numbers(store, atypes, ANOMALY_PROPERTIES)
        .group_by("owner")
        .agg(anomalies=pl.col("value").max())
    )
    anomalies = anomalies.join(counts.rename({"owner": "artifact_id"}), on="artifact_id")
    producer = start.join(outputs, on="artifact_id").join(
        execs.select(execution_id="id", c="cost"), on="execution_id"
    )
    ingest = producer.group_by("gid").agg(ingest_cost=pl.col("c").max())
    return (
        d.select("gid")
        .join(stats.rename({"artifact_id": "stats_id"}), on="gid", how="left")
        .join(anomalies.select("gid", "anomalies"), on="gid", how="left")
        .join(ingest, on="gid", how="left")
    )


def _latent(store: MetadataStore, training: list[int]) -> pl.DataFrame:
    """The ``sim_*`` numeric latent causes of each training (wide, one column per name)."""
    nums = q.execution_numbers(store, training, LATENT_PREFIX)
    if nums.height == 0:
        return pl.DataFrame(schema={"gid": pl.Int64})
    wide = nums.pivot(on="name", index="owner", values="value", aggregate_function="first")
    return wide.rename({"owner": "gid"})
