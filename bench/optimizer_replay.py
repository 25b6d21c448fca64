"""Replay of the pruning gate on simulated traces, next to the oracle's bound for the same budget.

    .venv/bin/python bench/optimizer_replay.py              # google-2021-tenth + the held-out trace
    .venv/bin/python bench/optimizer_replay.py --markdown   # ... and print the README section

Traces: ``google-2021-tenth`` (300 pipelines, ~46k trainings; the profile development used) and
``bench/profiles/optimizer-heldout.toml`` (another seed, size, start date and other rates of drift,
code changes, rejects and freezes; generated only after the optimizer's code and defaults were
fixed). Both are written to a scratch folder once and reused.

For each trace: :func:`graphlets.optimizer.replay.evaluate_history` at the default operating point
(budget 2% of pushes missed, cost-aware ranking, threshold chosen from the past at every refit),
the probability-ranked gate, the baselines, and two oracles trained and thresholded the same way:

* ``oracle (recorded causes)``: also sees the ``sim_*`` causes the trace records (drift magnitude,
  true share of new data) - what ``graphlets optimize evaluate`` reports on any simulated store;
* ``oracle (all causes)``: also sees the blessing score without its noise term. The simulator
  does not record the noise, so this script regenerates each pipeline's timeline from the profile
  and seed (deterministic) and matches it to the store's trainings by their recorded score.

Figures are realised on the evaluated period (the last two thirds of the trace).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _util import machine
from graphlets.optimizer.features import FEATURES
from graphlets.optimizer.oracle import oracle_causes, with_causes
from graphlets.optimizer.replay import (
    ReplayConfig,
    evaluate_history,
    prepare,
    replay_model,
)
from graphlets.optimizer.trace import History, load_history
from graphlets.simulate import load_profile, plan_fleet, simulate
from graphlets.simulate.config import FleetConfig
from graphlets.simulate.emit import node_names
from graphlets.simulate.timeline import simulate_pipeline
from graphlets.store import MetadataStore

HERE = Path(__file__).parent
TRACES = {
    "google-2021-tenth": "google-2021-tenth",
    "optimizer-heldout": str(HERE / "profiles" / "optimizer-heldout.toml"),
}
BUDGET = 0.02
PAPER = 0.5


def scratch() -> Path:
    """Where traces are kept between runs (``GRAPHLETS_BENCH_DIR`` or the temp folder)."""
    root = Path(os.environ.get("GRAPHLETS_BENCH_DIR", tempfile.gettempdir())) / "graphlets-opt"
    root.mkdir(parents=True, exist_ok=True)
    return root


def trace(name: str, cfg: FleetConfig) -> tuple[str, float | None]:
    """The trace's store URL (generated when missing) and the seconds generation took."""
    path = scratch() / f"{cfg.name}-{cfg.seed}.sqlite"
    done = path.with_suffix(".done")
    if path.exists() and done.exists():
        return f"sqlite:///{path}", None
    for p in (path, done):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    simulate(cfg, f"sqlite:///{path}", workers=None)
    done.write_text(json.dumps({"profile": cfg.name, "seed": cfg.seed}))
    return f"sqlite:///{path}", time.perf_counter() - t0


def noise_frame(cfg: FleetConfig, history: History) -> pl.DataFrame:
    """``gid, sim_noise`` for every training, from the regenerated timelines (checked against
    the score each training recorded)."""
    assert history.latent is not None
    d = history.decisions.join(history.latent.select("gid", "sim_score"), on="gid")
    by_series = {k[0]: g for k, g in d.group_by("series")}
    gids: list[int] = []
    noise: list[float] = []
    for plan in plan_fleet(cfg):
        tl = simulate_pipeline(cfg, plan)
        names = node_names(plan.trainers)
        for j in range(plan.trainers):
            rows = by_series.get(f"{plan.name}.{names[5 + 4 * j]}")
            if rows is None:
                continue
            runs = np.flatnonzero(~np.isnan(tl.score[:, j]))
            assert rows.height == len(runs), (plan.name, j, rows.height, len(runs))
            # Trainings of overlapping runs may start out of run order, so they are matched by
            # the score each recorded (4 decimals), ties in order.
            want = np.round(tl.score[runs, j], 4)
            order = np.argsort(want, kind="stable")
            rows = rows.sort("sim_score", "t")
            assert np.allclose(rows["sim_score"].to_numpy(), want[order], atol=1e-4), plan.name
            gids += rows["gid"].to_list()
            noise += tl.draws.noise[runs, j][order].tolist()
    return pl.DataFrame({"gid": gids, "sim_noise": noise})


def _row(name: str, r: dict[str, Any], curve: float | None = None) -> dict[str, Any]:
    keys = ("skip_rate", "waste_saved_fraction", "avoidable_waste_saved_fraction",
            "compute_saved_fraction", "pushes_missed_fraction", "pushes_delayed", "pushes_lost",
            "auc", "precision", "recall", "abstained_trainings")  # fmt: skip
    out = {"policy": name, **{k: r.get(k) for k in keys}}
    stale = r.get("staleness_increase_hours") or {}
    out["staleness_mean_h"], out["staleness_max_h"] = stale.get("mean"), stale.get("max")
    out["curve_at_budget"] = curve
    return out


def run_trace(name: str, profile: str, seed: int | None = None, light: bool = False,
              max_steps: int = 40) -> dict[str, Any]:  # fmt: skip
    """Generate (or reuse) one trace and replay every policy on it (``light``: only the gate and
    the oracles)."""
    cfg = load_profile(profile)
    cfg = cfg if seed is None else cfg.with_(seed=seed)
    url, gen_s = trace(name, cfg)
    t0 = time.perf_counter()
    with MetadataStore(url) as store:
        history = load_history(store, latent=True)
    load_s = time.perf_counter() - t0
    noise = noise_frame(cfg, history)
    assert history.latent is not None
    full = History(
        history.decisions,
        history.executions,
        history.payloads,
        history.summary,
        history.latent.join(noise, on="gid", how="left"),
    )
    cfg_r = ReplayConfig(
        max_pushes_missed=BUDGET,
        plot=scratch() / f"optimizer-{name}-{cfg.seed}.png",
        baselines=not light,
        max_steps=max_steps,
    )
    t1 = time.perf_counter()
    report = evaluate_history(history, cfg_r)
    replay_s = time.perf_counter() - t1
    rows = [_row("gate (LightGBM, cost-aware)", report, report["curve_at_budget"])]
    if not light:
        r = prepare(history, ReplayConfig(max_pushes_missed=BUDGET, mode="probability",
                                          max_steps=max_steps))  # fmt: skip
        prob = replay_model(r, "lightgbm", r.feats, FEATURES)
        rows.append(_row("gate (LightGBM, probability)", prob.report, prob.best_at(BUDGET)))
        rows.append(_row("logistic regression (cost-aware)", report["baselines"]["logistic"]))
        for key in ("skip_when_no_new_data", "skip_when_no_new_data_since_push",
                    "skip_after_3_unpushed", "random_same_rate"):  # fmt: skip
            rows.append(_row(key.replace("_", " "), report["baselines"][key]))
    oracle = report["oracle"]
    rows.append(_row("oracle (recorded causes)", oracle, oracle["curve_at_budget"]))
    causes = oracle_causes(full.latent)
    assert causes is not None
    r_full = prepare(full, cfg_r)
    feats, names = with_causes(r_full.feats, causes)
    best = replay_model(r_full, "lightgbm", feats, (*FEATURES, *names))
    rows.append(_row("oracle (all causes but noise)", best.report, best.best_at(BUDGET)))
    return {
        "trace": name,
        "profile": cfg.name,
        "seed": cfg.seed,
        "generate_s": gen_s,
        "load_s": load_s,
        "replay_s": replay_s,
        "period": report["period"],
        "threshold": report["threshold"],
        "rows": rows,
        "oracle_causes": names,
        "png": report.get("curve_png"),
    }


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.1f}%"


def markdown(results: list[dict[str, Any]], command: str) -> str:
    """The README section's results block."""
    lines = [f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.", "",
             f"Command: `{command}`", ""]  # fmt: skip
    for res in results:
        p = res["period"]
        gen = f", generated in {res['generate_s']:.0f} s" if res["generate_s"] else ""
        lines += [
            f"**`{res['trace']}`** (profile `{res['profile']}`, seed {res['seed']}{gen}): "
            f"{p['graphlets']:,} trainings evaluated ({p['evaluate_from'][:10]} .. "
            f"{p['to'][:10]}), {p['pushed']:,} pushed, {p['unpushed'] + p['failed']:,} wasted; "
            f"load {res['load_s']:.0f} s, replay {res['replay_s']:.0f} s (gate, the baselines "
            "shown, recorded-causes oracle).",
            "",
            "| policy | skipped | avoidable waste saved | waste saved | compute saved | pushes "
            "missed | abstained on (trainings) | delayed / lost | staleness + (mean / max h) | "
            "AUC | waste saved on the curve at 2% missed |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in res["rows"]:
            delayed = (f"{row['pushes_delayed']} / {row['pushes_lost']}"
                       if row["pushes_delayed"] is not None else "-")  # fmt: skip
            stale = (f"{row['staleness_mean_h']:.1f} / {row['staleness_max_h']:.0f}"
                     if row["staleness_mean_h"] is not None else "-")  # fmt: skip
            auc = "-" if row["auc"] is None else f"{row['auc']:.3f}"
            abst = row["abstained_trainings"]
            lines.append(
                f"| {row['policy']} | {_pct(row['skip_rate'])} | "
                f"{_pct(row['avoidable_waste_saved_fraction'])} | "
                f"{_pct(row['waste_saved_fraction'])} | "
                f"{_pct(row['compute_saved_fraction'])} | {_pct(row['pushes_missed_fraction'])} "
                f"| {'-' if abst is None else f'{abst:,}'} "
                f"| {delayed} | {stale} | {auc} | {_pct(row['curve_at_budget'])} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the README block")
    parser.add_argument("--only", choices=sorted(TRACES), help="replay one trace only")
    parser.add_argument(
        "--seeds",
        type=int,
        default=2,
        help="extra seeds of the held-out profile (gate and oracles only)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="also google-2021 (3000 pipelines; ~5 GB, gate and oracles, 20 refits)",
    )
    parser.add_argument("--clean", action="store_true", help="delete the scratch traces after")
    args = parser.parse_args()
    jobs: list[tuple[str, str, int | None, bool, int]] = [
        (name, profile, None, False, 40)
        for name, profile in TRACES.items()
        if not args.only or name == args.only
    ]
    if not args.only or args.only == "optimizer-heldout":
        base = load_profile(TRACES["optimizer-heldout"]).seed
        jobs += [("optimizer-heldout", TRACES["optimizer-heldout"], base + k, True, 40)
                 for k in range(1, args.seeds + 1)]  # fmt: skip
    if args.full:
        jobs.append(("google-2021", "google-2021", None, True, 20))
    results = []
    for name, profile, seed, light, steps in jobs:
        res = run_trace(name, profile, seed, light, steps)
        results.append(res)
        print(json.dumps(res, indent=1, default=str), flush=True)
    out = scratch() / "optimizer_replay.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    if args.markdown:
        cmd = "python bench/optimizer_replay.py --markdown" + (" --full" if args.full else "")
        print(markdown(results, cmd))
    if args.clean:
        shutil.rmtree(scratch(), ignore_errors=True)


if __name__ == "__main__":
    main()
