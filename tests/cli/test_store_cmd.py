"""``graphlets store ...`` through Typer's runner and through the real console script.

The runner checks what each command prints; the subprocess tests prove what a shell sees: exit
codes, and that ``--json`` leaves exactly one JSON document on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graphlets.model import ArtifactType
from graphlets.store import MetadataStore
from tests.cli.helpers import build_graph, raw_counts, run, run_json, shell
from tests.mlmd_proc import in_child


# init / upgrade ------------------------------------------------------------------------------
@pytest.mark.unit
def test_init_creates_once_and_reports_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'new.sqlite'}"
    assert run_json("store", "init", "--store", url) == {"url": url, "created": True}
    assert run_json("store", "init", "--store", url) == {"url": url, "created": False}
    text = run("store", "init", "--store", url)
    assert "already exists" in text.stdout
    assert (tmp_path / "sub" / "new.sqlite").stat().st_size > 0


@pytest.mark.unit
def test_init_uses_env_and_graphlets_home(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"GRAPHLETS_STORE": None, "GRAPHLETS_HOME": str(tmp_path)}
    res = run("store", "init", "--json", env=env)
    assert json.loads(res.stdout)["created"] is True
    assert (tmp_path / "store.sqlite").exists()
    other = f"sqlite:///{tmp_path / 'env.sqlite'}"
    res = run("store", "stats", "--json", env={"GRAPHLETS_STORE": other})
    assert res.exit_code == 1 and "env.sqlite" in res.stderr  # env var reached the command


@pytest.mark.unit
def test_upgrade_on_current_store_applies_nothing(sqlite_url: str) -> None:
    assert run_json("store", "upgrade", "--store", sqlite_url)["applied"] == []
    assert "up to date" in run("store", "upgrade", "--store", sqlite_url).stdout


def mlmd_open(path: Path) -> int:
    """ml-metadata opens (or creates) the store; its artifact types (in a child: see mlmd_proc)."""
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    cfg = metadata_store_pb2.ConnectionConfig()
    cfg.sqlite.filename_uri = str(path)
    cfg.sqlite.connection_mode = 3
    return len(metadata_store.MetadataStore(cfg).get_artifact_types())


@pytest.mark.mlmd
def test_upgrade_adds_our_migrations_to_an_ml_metadata_store(tmp_path: Path) -> None:
    pytest.importorskip("ml_metadata")
    assert in_child(mlmd_open, tmp_path / "mlmd.sqlite") == 0
    url = f"sqlite:///{tmp_path / 'mlmd.sqlite'}"
    before = run_json("store", "stats", "--store", url)
    assert before["migrations_pending"] is True and before["graphlets_revision"] is None
    assert run_json("store", "upgrade", "--store", url)["applied"] == ["0001"]
    assert run_json("store", "stats", "--store", url)["migrations_pending"] is False
    assert in_child(mlmd_open, tmp_path / "mlmd.sqlite") == 0  # ml-metadata still opens it


# stats ---------------------------------------------------------------------------------------
def test_stats_json_counts_rows_types_and_states(graph: tuple[str, dict[str, int]]) -> None:
    url, _ = graph
    doc = run_json("store", "stats", "--store", url)
    assert {k: doc[k] for k in ("artifacts", "executions", "events", "contexts")} == {
        "artifacts": 3,
        "executions": 3,
        "events": 5,
        "contexts": 1,
    }
    assert doc["by_type"] == {
        "artifacts": {"Examples": 1, "Model": 2},
        "executions": {"ExampleGen": 1, "Trainer": 2},
        "contexts": {"pipeline": 1},
    }
    assert doc["types"] == 5
    assert doc["executions_by_state"] == {"COMPLETE": 2, "FAILED": 1}
    assert doc["artifacts_by_state"] == {"LIVE": 2, "ABANDONED": 1}
    assert doc["events_by_type"] == {"INPUT": 2, "OUTPUT": 2, "PENDING_OUTPUT": 1}
    assert doc["attributions"] == 3 and doc["associations"] == 3  # links are unique per pair
    assert doc["schema_version"] == 10 and doc["migrations_pending"] is False


@pytest.mark.unit
def test_stats_lists_types_without_nodes(sqlite_url: str) -> None:
    with MetadataStore(sqlite_url) as s:
        s.put_artifact_type(ArtifactType("Unused"))
    doc = run_json("store", "stats", "--store", sqlite_url)
    assert doc["by_type"]["artifacts"] == {"Unused": 0}
    assert doc["artifacts"] == 0 and doc["types"] == 1


@pytest.mark.unit
def test_stats_text_shows_tables(sqlite_url: str) -> None:
    build_graph(sqlite_url)
    res = run("store", "stats", "--store", sqlite_url)
    assert res.exit_code == 0 and res.stderr == ""
    for text in ("MLMD schema 10", "totals", "artifacts by type", "Trainer", "FAILED"):
        assert text in res.stdout


# ls ------------------------------------------------------------------------------------------
def test_ls_by_type_and_filter(graph: tuple[str, dict[str, int]]) -> None:
    url, ids = graph
    doc = run_json("store", "ls", "executions", "--type", "Trainer", "--store", url)
    assert doc["kind"] == "execution" and doc["next_page_token"] is None
    assert [i["id"] for i in doc["items"]] == [
        f"execution:{ids['train']}",
        f"execution:{ids['failed']}",
    ]
    doc = run_json(
        "store", "ls", "artifacts", "--type", "Model", "--filter", "state = LIVE", "--store", url
    )
    assert [i["mlmd_id"] for i in doc["items"]] == [ids["model"]]
    assert doc["items"][0]["uri"] == "mem://model" and doc["items"][0]["state"] == "LIVE"


def test_ls_pages_with_tokens(graph: tuple[str, dict[str, int]]) -> None:
    url, ids = graph
    seen: list[int] = []
    token: str | None = None
    for _ in range(5):
        extra = ["--page-token", token] if token else []
        doc = run_json("store", "ls", "artifacts", "--limit", "2", "--desc", *extra, "--store", url)
        seen += [i["mlmd_id"] for i in doc["items"]]
        token = doc["next_page_token"]
        if token is None:
            break
    assert seen == sorted([ids["examples"], ids["model"], ids["abandoned"]], reverse=True)


@pytest.mark.unit
def test_ls_text_prints_table_and_hint_on_stderr(sqlite_url: str) -> None:
    build_graph(sqlite_url)
    res = run("store", "ls", "artifacts", "--limit", "1", "--store", sqlite_url)
    assert res.exit_code == 0
    assert "artifact:1" in res.stdout and "Examples" in res.stdout
    assert res.stderr.startswith("more: add --page-token ")


# show ----------------------------------------------------------------------------------------
def test_show_execution_with_events_and_contexts(graph: tuple[str, dict[str, int]]) -> None:
    url, ids = graph
    doc = run_json("store", "show", f"execution:{ids['train']}", "--store", url)
    assert doc["id"] == f"execution:{ids['train']}" and doc["type"] == "Trainer"
    assert doc["name"] == "train-ok" and doc["last_known_state"] == "COMPLETE"
    assert doc["custom_properties"] == {"cpu_seconds": 1.5, "note": "[bold]x[/]"}
    events = {(e["type"], e["key"], e["other"]["id"], e["other"]["type"]) for e in doc["events"]}
    assert events == {
        ("INPUT", "examples", f"artifact:{ids['examples']}", "Examples"),
        ("OUTPUT", "model", f"artifact:{ids['model']}", "Model"),
    }
    assert [c["name"] for c in doc["contexts"]] == ["p1"]


def test_show_artifact_and_context(graph: tuple[str, dict[str, int]]) -> None:
    url, ids = graph
    doc = run_json("store", "show", f"artifact:{ids['examples']}", "--store", url)
    assert doc["properties"] == {"span": 7} and doc["state"] == "LIVE"
    others = sorted(e["other"]["id"] for e in doc["events"])
    assert others == sorted(f"execution:{ids[k]}" for k in ("gen", "train", "failed"))
    doc = run_json("store", "show", f"context:{ids['context']}", "--store", url)
    assert doc["name"] == "p1" and doc["parents"] == [] and doc["children"] == []
    assert len(doc["artifacts"]) == 3 and len(doc["executions"]) == 3
    assert doc["artifacts_next_page_token"] is None


@pytest.mark.unit
def test_show_text_escapes_markup_in_values(sqlite_url: str) -> None:
    ids = build_graph(sqlite_url)
    res = run("store", "show", f"execution:{ids['train']}", "--store", sqlite_url)
    assert res.exit_code == 0
    assert "[bold]x[/]" in res.stdout  # printed literally, not eaten as Rich markup
    assert "custom properties" in res.stdout and "1.5" in res.stdout


# lineage -------------------------------------------------------------------------------------
def test_lineage_up_and_down(graph: tuple[str, dict[str, int]]) -> None:
    url, ids = graph
    up = run_json(
        "store",
        "lineage",
        f"artifact:{ids['model']}",
        "--direction",
        "up",
        "--hops",
        "2",
        "--store",
        url,
    )
    assert {n["id"] for n in up["nodes"]} == {
        f"artifact:{ids['model']}",
        f"execution:{ids['train']}",
        f"artifact:{ids['examples']}",
    }
    edges = {(e["source"], e["target"], e["type"]) for e in up["edges"]}
    assert edges == {
        (f"execution:{ids['train']}", f"artifact:{ids['model']}", "OUTPUT"),
        (f"artifact:{ids['examples']}", f"execution:{ids['train']}", "INPUT"),
    }
    assert up["start"] == f"artifact:{ids['model']}" and up["hops"] == 2
    down = run_json(
        "store",
        "lineage",
        f"artifact:{ids['examples']}",
        "--direction",
        "down",
        "--hops",
        "1",
        "--store",
        url,
    )
    assert {n["id"] for n in down["nodes"]} == {
        f"artifact:{ids['examples']}",
        f"execution:{ids['train']}",
        f"execution:{ids['failed']}",
    }


@pytest.mark.unit
def test_lineage_text_is_a_tree(sqlite_url: str) -> None:
    ids = build_graph(sqlite_url)
    res = run(
        "store",
        "lineage",
        f"artifact:{ids['model']}",
        "--direction",
        "up",
        "--hops",
        "3",
        "--store",
        sqlite_url,
    )
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"artifact:{ids['model']} Model")
    assert any("← OUTPUT model execution:" in ln for ln in lines)
    assert any("← INPUT examples artifact:" in ln for ln in lines)
    assert any("ExampleGen" in ln for ln in lines)  # third hop
    assert "2 artifacts, 2 executions, 3 events within 3 hops (up)" in res.stdout


# errors --------------------------------------------------------------------------------------
def _error_cases(tmp_path: Path, url: str) -> list[tuple[list[str], str]]:
    (tmp_path / "notes.txt").write_text("not a database")
    return [
        (["store", "stats", "--store", f"sqlite:///{tmp_path / 'missing.sqlite'}"], "no store at"),
        (
            ["store", "ls", "artifacts", "--store", f"sqlite:///{tmp_path / 'notes.txt'}"],
            "is not a SQLite database",
        ),
        (
            ["store", "ls", "artifacts", "--filter", "colour = 'red'", "--store", url],
            "unknown field 'colour'",
        ),
        (
            ["store", "ls", "artifacts", "--type", "Modle", "--store", url],
            "artifact type 'Modle' does not exist",
        ),
        (["store", "show", "artifact:999", "--store", url], "artifact:999 does not exist"),
        (["store", "lineage", "execution:999", "--store", url], "execution:999 does not exist"),
        (["store", "show", "12", "--store", url], "artifact:12, execution:12, context:12"),
        (["store", "show", "model:1", "--store", url], "is not a typed id"),
        (["store", "ls", "artifacts", "--page-token", "junk", "--store", url], "next_page_token"),
        (["store", "stats", "--store", "mysql://h/db"], "is not supported"),
    ]


@pytest.mark.unit
@pytest.mark.parametrize("as_json", [False, True])
def test_expected_errors_exit_1_with_one_line(
    tmp_path: Path, sqlite_url: str, as_json: bool
) -> None:
    for args, needle in _error_cases(tmp_path, sqlite_url):
        res = run(*args, *(["--json"] if as_json else []))
        assert res.exit_code == 1, (args, res.stdout, res.stderr)
        assert res.stdout == "", args
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, res.stderr)
        assert needle in lines[0], (args, lines[0])
        assert "Traceback" not in res.stderr


@pytest.mark.unit
@pytest.mark.parametrize(
    "args",
    [
        ["store", "ls", "widgets"],
        ["store", "ls", "artifacts", "--limit", "-1"],
        ["store", "lineage", "artifact:1", "--direction", "sideways"],
        ["store", "stats", "--bogus"],
        ["store", "copy", "a", "b", "c"],
        ["store", "copy", "sqlite:///a.sqlite", "sqlite:///b.sqlite"],  # and --store: which?
        ["store", "export"],  # --parquet is required
    ],
)
def test_usage_errors_exit_2(args: list[str], sqlite_url: str) -> None:
    res = run(*args, "--store", sqlite_url)
    assert res.exit_code == 2, res.stderr
    assert res.stdout == ""


# the real console script ---------------------------------------------------------------------
@pytest.mark.unit
def test_console_script_stats_json_is_pure_and_matches_sql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert shell("store", "init", "--store", url).returncode == 0
    build_graph(url)
    proc = shell("store", "stats", "--store", url, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    raw = raw_counts(tmp_path / "s.sqlite")
    assert raw == {"artifacts": 3, "executions": 3, "events": 5, "contexts": 1}
    for key, value in raw.items():
        assert type(doc[key]) is int and doc[key] == value
    assert proc.stderr == ""


@pytest.mark.unit
def test_console_script_exit_codes(tmp_path: Path) -> None:
    missing = shell("store", "stats", "--store", f"sqlite:///{tmp_path / 'no.sqlite'}", "--json")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and missing.stderr.startswith("error: no store at")
    assert shell("store", "ls", "widgets").returncode == 2
    assert shell("store", "--help").returncode == 0


@pytest.mark.unit
def test_python_dash_m_runs_the_same_app() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "graphlets", "store", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "graphlets store" in proc.stdout
    assert "stats" in proc.stdout
