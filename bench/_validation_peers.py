"""One peer tool's work on the spans ``validation_stats.py`` wrote, run in the peers' virtualenv.

    bench/_peers_venv/bin/python bench/_validation_peers.py TOOL REF.parquet CUR.parquet

TOOL is ``evidently`` (data drift report, reference vs current), ``whylogs`` (profile of the
current span) or ``great_expectations`` (a suite built from the reference's min/max and category
sets, validated on the current span). It prints one JSON line: import time, Parquet load time,
the tool's work time (best of ``--repeat``), peak RSS of this process (data included) and, for
Evidently and Great Expectations, which columns they flagged. The peers live in their own
virtualenv because installing them into the project's .venv would replace protobuf (ml-metadata
1.17.1 needs protobuf < 5); one process per tool so each peak RSS is that tool's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

T_START = time.perf_counter()


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def evidently_work(ref: Any, cur: Any) -> Callable[[], list[str]]:
    """Evidently's DataDriftPreset report; returns the columns it calls drifted."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    def run() -> list[str]:
        snapshot = Report([DataDriftPreset()]).run(cur, ref)
        drifted = []
        for metric in snapshot.dict()["metrics"]:
            config = metric["config"]
            if not config["type"].endswith("ValueDrift"):
                continue
            value, threshold = float(metric["value"]), float(config["threshold"])
            # p-value methods flag below the threshold, distance methods at or above it.
            hit = value < threshold if "p_value" in config["method"] else value >= threshold
            if hit:
                drifted.append(config["column"])
        return sorted(drifted)

    return run


def whylogs_work(ref: Any, cur: Any) -> Callable[[], list[str]]:
    """whylogs' profile of the current span (the reference's profile would be cached)."""
    import whylogs as why

    def run() -> list[str]:
        why.log(pandas=cur).view().to_pandas()
        return []

    return run


def great_expectations_work(ref: Any, cur: Any) -> Callable[[], list[str]]:
    """A Great Expectations suite like graphlets' schema: not null, range, category set."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    suite = gx.ExpectationSuite(name="span")
    for name in ref.columns:
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if ref[name].dtype.kind == "f":
            lo, hi = float(ref[name].min()), float(ref[name].max())
            suite.add_expectation(
                gxe.ExpectColumnValuesToBeBetween(column=name, min_value=lo, max_value=hi)
            )
        else:
            values = sorted(str(v) for v in ref[name].unique())
            suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=values))
    suite = context.suites.add(suite)
    source = context.data_sources.add_pandas("peers")
    asset = source.add_dataframe_asset("span")
    batch_def = asset.add_batch_definition_whole_dataframe("whole")

    def run() -> list[str]:
        batch = batch_def.get_batch(batch_parameters={"dataframe": cur})
        result = batch.validate(suite)
        failed = {
            str(r.expectation_config.kwargs["column"]) for r in result.results if not r.success
        }
        return sorted(failed)

    return run


WORK = {
    "evidently": evidently_work,
    "whylogs": whylogs_work,
    "great_expectations": great_expectations_work,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(WORK))
    parser.add_argument("ref")
    parser.add_argument("cur")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    t0 = time.perf_counter()
    import importlib.metadata

    import pandas as pd

    __import__(args.tool)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref, cur = pd.read_parquet(args.ref), pd.read_parquet(args.cur)
    load_s = time.perf_counter() - t0
    loaded_mb = peak_mb()
    t0 = time.perf_counter()
    work = WORK[args.tool](ref, cur)
    setup_s = time.perf_counter() - t0
    seconds, flagged = timed(work, args.repeat)
    dist = args.tool.replace("_", "-")
    out = {
        "tool": args.tool,
        "version": importlib.metadata.version(dist),
        "import_s": import_s,
        "load_s": load_s,
        "setup_s": setup_s,
        "seconds": seconds,
        "repeat": args.repeat,
        "peak_mb": peak_mb(),
        "peak_mb_after_load": loaded_mb,
        "flagged": flagged,
        "script_s": time.perf_counter() - T_START,
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
