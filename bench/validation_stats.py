"""Statistics + schema validation + drift for one span of 1,000,000 rows x 20 columns, and window
statistics merged from 7 cached spans vs recomputed from the rows.

    .venv/bin/python bench/validation_stats.py [--rows 1000000] [--window-rows 300000]

The current span differs from the reference span by 4 injected drifts (a mean shift, a smaller
mean shift, a scale change, a category share change); the other 16 columns are fresh draws of the
same distributions, so any finding on them is a false alarm. Peak memory is the process's maximum
resident set, data included. Evidently, whylogs and Great Expectations run on the same two spans
(written to Parquet in a temp folder) in a separate virtualenv, ``bench/_peers_venv/``, created on
first use: installing them into the project's .venv would replace protobuf, which ml-metadata
1.17.1 needs below 5. Each tool runs in its own process (``_validation_peers.py``) so its peak RSS
is its own; interpreter start, import and Parquet load are reported apart from the tool's work.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from graphlets.validation import (
    compute_statistics,
    drift,
    infer_schema,
    merge_statistics,
    validate_statistics,
)

NUMERIC, CATEGORICAL = 15, 5
INJECTED = {"x0", "x1", "x2", "c0"}
HERE = Path(__file__).resolve().parent
PEERS_VENV = HERE / "_peers_venv"
# whylogs 1.6 still uses np.unicode_ (gone in NumPy 2); pyarrow >= 21 needs NumPy 2.
BASE = ["numpy<2", "pandas<3", "pyarrow<21"]
PEERS = {"evidently": 1, "whylogs": 1, "great_expectations": 3}  # tool -> repeats


def make(rows: int, seed: int, drifted: bool) -> pl.DataFrame:
    """One span; with ``drifted`` the 4 injected drifts are applied."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {
        f"x{i}": rng.normal(10.0 + i, 1.0 + i / 10, rows) for i in range(NUMERIC)
    }
    cats = np.array(["a", "b", "c", "d", "e"])
    for i in range(CATEGORICAL):
        cols[f"c{i}"] = rng.choice(cats, rows, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    if drifted:
        cols["x0"] = cols["x0"] + 1.0  # one standard deviation
        cols["x1"] = cols["x1"] + 0.6 * 1.1
        cols["x2"] = 12.0 + (cols["x2"] - 12.0) * 2.0  # twice the spread
        cols["c0"] = rng.choice(cats, rows, p=[0.1, 0.25, 0.2, 0.15, 0.3])
    return pl.DataFrame(cols)


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def one_span(ref: pl.DataFrame, cur: pl.DataFrame) -> dict[str, Any]:
    rows = cur.height
    ref_stats = compute_statistics(ref)
    schema = infer_schema(ref_stats)
    before = peak_mb()

    def check() -> list[Any]:
        stats = compute_statistics(cur)
        return validate_statistics(stats, schema) + drift(ref_stats, stats)

    seconds, found = timed(check)
    drifted = {r.feature for r in found if r.kind.value == "drift"}
    others = [r for r in found if r.kind.value != "drift" and r.feature not in INJECTED]
    also = sorted({f"{r.feature}:{r.kind.value}" for r in found if r.kind.value != "drift"})
    return {
        "rows": rows,
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "peak_mb_before": before,
        "found": sorted(str(f) for f in drifted),
        "missed": sorted(INJECTED - drifted),
        "other_findings_on_injected": [a for a in also if a.split(":")[0] in INJECTED],
        "false_alarms": sorted(str(f) for f in drifted - INJECTED) + [r.message for r in others],
    }


def window(rows: int, spans: int = 7) -> dict[str, Any]:
    parts = [make(rows, 100 + s, False) for s in range(spans)]
    cached = [compute_statistics(p) for p in parts]
    merge_s, merged = timed(lambda: merge_statistics(cached))
    whole = pl.concat(parts)
    recompute_s, recomputed = timed(lambda: compute_statistics(whole), repeat=1)
    worst_rank = 0.0
    exact = True
    for name, f in merged["features"].items():
        g = recomputed["features"][name]
        if f["type"] == "numeric":
            exact &= f["count"] == g["count"] and f["min"] == g["min"] and f["max"] == g["max"]
            exact &= bool(np.isclose(f["sum"], g["sum"]))
            values = np.sort(whole[name].to_numpy())
            ranks = np.searchsorted(values, np.asarray(f["quantiles"]), side="right") / values.size
            worst_rank = max(
                worst_rank, float(np.max(np.abs(ranks - np.linspace(0, 1, ranks.size))))
            )
        else:
            exact &= f["values"] == g["values"]
    return {
        "spans": spans,
        "rows_per_span": rows,
        "merge_s": merge_s,
        "recompute_s": recompute_s,
        "speedup": recompute_s / merge_s,
        "counts_exact": exact,
        "max_quantile_rank_error": worst_rank,
    }


def peers_python() -> tuple[Path, dict[str, str]]:
    """The peers' virtualenv python, creating it when missing; and the tools that failed to install.

    Each tool is installed on its own so one failing install leaves the others measurable.
    """
    python = PEERS_VENV / "bin" / "python"
    failed: dict[str, str] = {}
    if not python.exists():
        print(f"creating {PEERS_VENV} (evidently, whylogs, great_expectations; a few minutes)")
        venv.create(PEERS_VENV, with_pip=True)
        pip = [str(python), "-m", "pip", "install", "-q", *BASE]
        subprocess.run(pip, check=True, capture_output=True)
        for tool in PEERS:
            done = subprocess.run([*pip, tool.replace("_", "-")], capture_output=True, text=True)
            if done.returncode:
                failed[tool] = f"pip install failed: {done.stderr.strip().splitlines()[-1:]}"
    return python, failed


def peers(ref: pl.DataFrame, cur: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Each peer's numbers on the same two spans, or the reason it could not run."""
    python, results = peers_python()
    out: dict[str, dict[str, Any]] = {t: {"error": why} for t, why in results.items()}
    with tempfile.TemporaryDirectory(prefix="graphlets-peers-") as tmp:
        ref_path, cur_path = Path(tmp) / "ref.parquet", Path(tmp) / "cur.parquet"
        ref.write_parquet(ref_path)
        cur.write_parquet(cur_path)
        for tool, repeat in PEERS.items():
            if tool in out:
                continue
            cmd = [str(python), str(HERE / "_validation_peers.py"), tool, str(ref_path)]
            t0 = time.perf_counter()
            done = subprocess.run(
                [*cmd, str(cur_path), "--repeat", str(repeat)], capture_output=True, text=True
            )
            wall = time.perf_counter() - t0
            if done.returncode:
                out[tool] = {"error": done.stderr.strip().splitlines()[-1:]}
                continue
            res = json.loads(done.stdout.strip().splitlines()[-1])
            res["wall_s"] = wall
            res["startup_s"] = wall - res["script_s"]
            out[tool] = res
    return out


def report_peers(span: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    """One line per peer, with graphlets' time and memory as ratios."""
    for tool, res in results.items():
        if "error" in res:
            print(f"{tool}: not measured: {res['error']}")
            continue
        print(
            f"{tool} {res['version']}: work {res['seconds']:.2f} s (best of {res['repeat']}; "
            f"graphlets {res['seconds'] / span['seconds']:.0f}x faster); peak RSS "
            f"{res['peak_mb']:.0f} MB (after Parquet load {res['peak_mb_after_load']:.0f} MB; "
            f"graphlets uses {span['peak_mb'] / res['peak_mb']:.2f}x); interpreter start+exit "
            f"{res['startup_s']:.2f} s, import {res['import_s']:.2f} s, "
            f"load {res['load_s']:.2f} s, "
            f"setup {res['setup_s']:.2f} s; flagged {res['flagged']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--window-rows", type=int, default=300_000)
    parser.add_argument("--no-peers", action="store_true", help="skip Evidently/whylogs/GX")
    args = parser.parse_args()
    ref, cur = make(args.rows, 1, False), make(args.rows, 2, True)
    span = one_span(ref, cur)
    print(
        f"one span: {span['rows']:,} rows x {NUMERIC + CATEGORICAL} columns: statistics + schema "
        f"validation + drift in {span['seconds']:.3f} s; peak RSS {span['peak_mb']:.0f} MB "
        f"(data generated before the check: {span['peak_mb_before']:.0f} MB); drifts found "
        f"{span['found']}, missed {span['missed']}, false alarms {span['false_alarms']}; other "
        f"findings on drifted columns {span['other_findings_on_injected']}"
    )
    win = window(args.window_rows)
    print(
        f"window of {win['spans']} spans x {win['rows_per_span']:,} rows: merged from cached "
        f"statistics {win['merge_s'] * 1000:.1f} ms vs recomputed {win['recompute_s'] * 1000:.0f} "
        f"ms ({win['speedup']:.0f}x); counts/min/max/sums/categories identical: "
        f"{win['counts_exact']}; worst quantile rank error {win['max_quantile_rank_error']:.4f}"
    )
    if not args.no_peers:
        report_peers(span, peers(ref, cur))


if __name__ == "__main__":
    main()
