"""``graphlets optimize evaluate`` through the CLI: one JSON document, a readable summary, and the
error conventions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from graphlets.cli import optimize_cmd
from graphlets.simulate import load_profile, simulate

app = typer.Typer()
app.add_typer(optimize_cmd.app, name="optimize")
cli = CliRunner()
pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("optimize-cli") / "small.sqlite"
    url = f"sqlite:///{path}"
    simulate(load_profile("small"), url)
    return url


def test_json_is_one_document_with_the_operating_point(trace: str, tmp_path: Path) -> None:
    png = tmp_path / "tradeoff.png"
    result = cli.invoke(
        app,
        [
            "optimize",
            "evaluate",
            "--store",
            trace,
            "--json",
            "--max-pushes-missed",
            "0.05",
            "--no-baselines",
            "--no-oracle",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in ("waste_saved_fraction", "compute_saved_fraction", "pushes_missed_fraction",
                "threshold"):  # fmt: skip
        assert isinstance(doc[key], float)
    assert doc["max_pushes_missed"] == 0.05 and doc["mode"] == "cost"
    assert doc["oracle"] is None and "logistic" not in doc["baselines"]
    assert doc["curve_png"] == str(png) and png.exists()
    assert doc["curve_json"] == str(png.with_suffix(".json"))
    # Keys added by the evidence rules (never renamed or dropped).
    assert isinstance(doc["avoidable_waste_saved_fraction"], float)
    assert doc["abstained"] is False and doc["abstention_reason"] is None
    assert doc["evidence"] == {"min_trainings": 100, "min_pushes": 50, "alpha": 0.05,
                               "shift_alpha": 1e-4}  # fmt: skip
    assert all(set(e) == {"pipeline", "trainings", "of", "reason"} for e in doc["abstentions"])
    assert doc["paper_waste_saved_fraction"] == 0.5


def test_human_summary(trace: str) -> None:
    result = cli.invoke(
        app, ["optimize", "evaluate", "--store", trace, "--mode", "probability", "--no-oracle"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "trainings evaluated" in out and "gate: probability mode, budget 2.0%" in out
    assert "random same rate" in out and "logistic" in out and "AUC" in out
    # The headline leads with the avoidable waste saved; the paper's 50% only beside it.
    text = " ".join(out.split())  # the console wraps long lines
    headline = text[text.index("pruning gate") : text.index("gate: probability mode")]
    if headline.startswith("pruning gate: saves "):
        assert "% of the waste" in headline
        assert headline.index("saves") < headline.index("the paper's figure: 50.0%")
        assert "abstained on" in out  # where it did not act, and why
    else:  # too little evidence in probability mode: the reason, not a figure
        assert headline.startswith("pruning gate abstained: ") and "saves" not in headline


def test_too_little_history_gives_an_abstention_not_a_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'short.sqlite'}"
    simulate(load_profile("small").with_(seed=2), url)  # no pipeline reaches 100 trainings
    human = cli.invoke(app, ["optimize", "evaluate", "--store", url, "--no-baselines",
                             "--no-oracle"])  # fmt: skip
    assert human.exit_code == 0, human.output
    text = " ".join(human.stdout.split())
    headline = text[text.index("pruning gate") : text.index("it skips nothing")]
    assert headline.startswith("pruning gate abstained: ") and "needs 100" in headline
    assert "%" not in headline  # a reason, not a figure
    doc = json.loads(cli.invoke(app, ["optimize", "evaluate", "--store", url, "--json",
                                      "--no-baselines", "--no-oracle"]).stdout)  # fmt: skip
    assert doc["abstained"] is True and doc["skipped"] == 0
    assert doc["abstention_reason"].startswith("abstained: ")


def test_errors_follow_the_conventions(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    from graphlets.store import MetadataStore

    MetadataStore(empty, create=True).close()
    result = cli.invoke(app, ["optimize", "evaluate", "--store", empty, "--json"])
    assert result.exit_code == 1
    assert result.stdout == "" and "error:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    bad = cli.invoke(app, ["optimize", "evaluate", "--store", empty, "--mode", "greedy"])
    assert bad.exit_code == 2
    over = cli.invoke(app, ["optimize", "evaluate", "--store", empty, "--max-pushes-missed", "2"])
    assert over.exit_code == 2
