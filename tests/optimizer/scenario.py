"""A hand-built TFX-shaped history with controlled times, for checking features by hand.

One pipeline ``p``, one run per day ``d`` (``T0 + d days``): ExampleGen makes span ``d``, the
Trainer starts at ``+1h`` on the window ``[d-1, d]`` (schema inferred from span 0), the Evaluator
and Pusher follow. Times are the runner's ``start_time_ms`` / ``end_time_ms`` custom properties, so
lineage reads them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphlets.store import MetadataStore
from tests.lineage.builder import Builder

T0 = 1_700_000_000_000
HOUR = 3_600_000
DAY = 24 * HOUR


@dataclass
class Day:
    """What happens on one day.

    Attributes:
        blessed: blessing verdict (None: no evaluation yet, so the graphlet is pending).
        module: the Trainer's ``module_file`` property (a code version).
        transform: a Transform runs before the Trainer (a structure change).
        decided_at: hours after the day's start when the push step ends (default 3h10m).
    """

    blessed: int | None = 1
    module: str = "trainer@v1"
    transform: bool = False
    decided_at: float = 3 + 10 / 60


@dataclass
class Built:
    """Ids and times of the scenario."""

    trainers: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    decided: list[int | None] = field(default_factory=list)


def _times(start: int, minutes: float) -> dict[str, int]:
    return {"start_time_ms": start, "end_time_ms": start + int(minutes * 60_000)}


def build(store: MetadataStore, days: list[Day]) -> Built:
    """Record ``days`` into ``store``; returns the trainer ids and their start / decided times."""
    b = Builder(store)
    out = Built()
    examples: list[int] = []
    schema = -1
    for d, day in enumerate(days):
        run, base = f"r{d}", T0 + d * DAY
        _, o = b.run("CsvExampleGen", outputs={"examples": ("Examples", {"span": d})}, run=run,
                     custom=_times(base, 5))  # fmt: skip
        examples.append(o["examples"])
        _, s = b.run("StatisticsGen", {"examples": o["examples"]},
                     {"statistics": ("ExampleStatistics", {"span": d})}, run=run,
                     custom=_times(base + 10 * 60_000, 5))  # fmt: skip
        if d == 0:
            _, sc = b.run("SchemaGen", {"statistics": s["statistics"]}, {"schema": "Schema"},
                          run=run, custom=_times(base + 20 * 60_000, 5))  # fmt: skip
            schema = sc["schema"]
        window = examples[-2:]
        ins: dict[str, int | list[int]] = {"examples": window, "schema": schema}
        if day.transform:
            _, t = b.run("Transform", {"examples": window, "schema": schema},
                         {"transform_graph": "TransformGraph"}, run=run,
                         custom=_times(base + 30 * 60_000, 10))  # fmt: skip
            ins["transform_graph"] = t["transform_graph"]
        start = base + HOUR
        tid, m = b.run("Trainer", ins, {"model": "Model"}, run=run, cost=10.0,
                       custom={**_times(start, 30), "module_file": day.module})  # fmt: skip
        out.trainers.append(tid)
        out.starts.append(start)
        if day.blessed is None:
            out.decided.append(None)
            continue
        end = base + int(day.decided_at * HOUR)
        _, e = b.run("Evaluator", {"model": m["model"]},
                     {"blessing": ("ModelBlessing", {"blessed": day.blessed})}, run=run,
                     cost=3.0, custom={"start_time_ms": start + 40 * 60_000,
                                       "end_time_ms": end - 5 * 60_000})  # fmt: skip
        b.run("Pusher", {"model": m["model"], "model_blessing": e["blessing"]},
              {"pushed_model": ("PushedModel", {"pushed": day.blessed})}, run=run, cost=0.5,
              custom={"start_time_ms": end - 5 * 60_000, "end_time_ms": end})  # fmt: skip
        out.decided.append(end)
    return out


# The scenario of the feature tests: pushed, unpushed, unpushed decided late, pushed with a new
# Transform step, then a code change, then a training still pending.
DAYS = [
    Day(blessed=1),
    Day(blessed=0),
    Day(blessed=0, decided_at=24 + 2),  # its verdict arrives after day 3's training started
    Day(blessed=1, transform=True),
    Day(blessed=1, module="trainer@v2", transform=True),
    Day(blessed=None, module="trainer@v2", transform=True),
]
