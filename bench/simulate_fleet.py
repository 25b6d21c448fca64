"""The trace simulator and the analytics report at fleet scale (issue 7).

    .venv/bin/python bench/simulate_fleet.py             # google-2021-tenth: generate + report
    .venv/bin/python bench/simulate_fleet.py --full      # also google-2021 (~5 GB, deleted after)
    .venv/bin/python bench/simulate_fleet.py --readme    # ... and rewrite our README results

For each profile: ``graphlets simulate`` (through the same API call, with generator workers as the
CLI picks them) into a new SQLite file, timed, with the file's size; then ``graphlets report`` on it
(load, segmentation, every section, the figures and the page), timed in a fresh process so its
peak memory is the report's own. Prints the report's headline numbers. The stores are deleted
afterwards unless ``--workdir`` is given. Free disk is checked by the simulator itself.

Goals (issue 7): google-2021 generated in under 10 minutes on 2 cores, its report in under 3.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _util import machine, markdown_table, rewrite_section

README = Path(__file__).with_name("README.md")
START, END = "<!-- simulate:start -->", "<!-- simulate:end -->"
GOALS = {"google-2021": (600.0, 180.0)}  # generation, report seconds


def generate(profile: str, path: Path) -> dict[str, Any]:
    """Simulate ``profile`` into a new SQLite file at ``path``."""
    from graphlets.simulate import load_profile, simulate

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    t0 = time.perf_counter()
    result = simulate(load_profile(profile), f"sqlite:///{path}", workers=None)
    seconds = time.perf_counter() - t0
    return {**result.to_dict(), "seconds": seconds, "store_bytes": path.stat().st_size}


def report(path: Path, out: Path) -> dict[str, Any]:
    """Build the report of ``path`` in this process (run by ``--child``)."""
    from graphlets.analytics import build_report
    from graphlets.store import MetadataStore

    t0 = time.perf_counter()
    with MetadataStore(f"sqlite:///{path}") as store:
        r = build_report(store, out)
    return {
        "seconds": time.perf_counter() - t0,
        "stages": r.data["seconds"],
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "headline": r.data["headline"],
        "by_outcome": r.data["outcomes"]["by_outcome"],
        "compute_share": r.data["compute"]["share_by_category"],
        "overlap_median": r.data["overlap"]["jaccard"]["median"],
        "figures": len(r.figures),
    }


def report_in_child(path: Path, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(path), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_profile(profile: str, workdir: Path) -> dict[str, Any]:
    path = workdir / f"{profile}.sqlite"
    print(f"{profile}: generating ...", file=sys.stderr, flush=True)
    gen = generate(profile, path)
    print(f"  {gen['models']:,} models, {gen['rows']:,} rows in {gen['seconds']:.1f} s, "
          f"{gen['store_bytes'] / 1e9:.2f} GB", file=sys.stderr, flush=True)  # fmt: skip
    rep = report_in_child(path, workdir / f"{profile}-report")
    print(f"  report in {rep['seconds']:.1f} s", file=sys.stderr, flush=True)
    return {"profile": profile, "generate": gen, "report": rep}


def results_markdown(runs: list[dict[str, Any]], command: str) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for r in runs:
        g, rep = r["generate"], r["report"]
        goal_gen, goal_rep = GOALS.get(r["profile"], (None, None))
        rows.append([
            f"`{r['profile']}`", f"{g['pipelines']:,}", f"{g['models']:,}", f"{g['rows']:,}",
            f"{g['seconds']:.0f} s" + _goal(g["seconds"], goal_gen),
            f"{g['store_bytes'] / 1e9:.2f} GB",
            f"{rep['seconds']:.0f} s" + _goal(rep["seconds"], goal_rep),
            f"{rep['peak_rss_gb']:.1f} GB",
        ])  # fmt: skip
    table = markdown_table(
        ["profile", "pipelines", "models", "rows", "generate", "SQLite size", "report",
         "report peak RSS"], rows,
    )  # fmt: skip
    lines = [f"Run {stamp} on {machine()}.", "", f"Command: `{command}`", "", table, ""]
    for r in runs:
        h, rep = r["report"]["headline"], r["report"]
        causes = ", ".join(f"{c} {v:.0%}" for c, v in h["waste_share_by_cause"].items())
        share = rep["compute_share"]
        lines.append(
            f"- `{r['profile']}` report: {h['pipelines']:,} pipelines, {h['models']:,} models over "
            f"{h['days']:.0f} days; push rate {h['push_rate']:.1%}, graphlets not pushed "
            f"{h['unpushed_share']:.1%}, compute wasted {h['waste_fraction']:.1%} ({causes}); "
            f"training {share['training']:.0%} of compute; median input overlap (Jaccard) of "
            f"consecutive trainings {rep['overlap_median']:.2f}; stages "
            f"{', '.join(f'{k} {v:.1f} s' for k, v in rep['stages'].items())}."
        )
    return "\n".join(lines)


def _goal(seconds: float, goal: float | None) -> str:
    if goal is None:
        return ""
    return f" (goal < {goal:.0f} s: {'met' if seconds < goal else 'missed'})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also generate google-2021 (~5 GB)")
    ap.add_argument("--readme", action="store_true", help="rewrite the README results block")
    ap.add_argument("--workdir", type=Path, help="keep the stores and reports here")
    ap.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(report(*args.child), default=str))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphlets-sim-"))
    workdir.mkdir(parents=True, exist_ok=True)
    profiles = ["google-2021-tenth"] + (["google-2021"] if args.full else [])
    try:
        runs = [run_profile(p, workdir) for p in profiles]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    command = "bench/simulate_fleet.py" + (" --full" if args.full else "")
    body = results_markdown(runs, f".venv/bin/python {command}")
    print(body)
    if args.readme:
        rewrite_section(README, START, END, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
