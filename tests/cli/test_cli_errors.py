"""Every command on a damaged, locked or misnamed store, and with out-of-range or odd ids: one
``error:`` line on stderr naming the file and the fix, exit 1, no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from graphlets.store import engine
from tests.cli.helpers import BIN, run
from tests.store.test_db_errors import populated, scramble, truncate

# Every command that opens --store, with arguments that would be valid on a healthy store.
COMMANDS: list[list[str]] = [
    ["store", "init"],
    ["store", "upgrade"],
    ["store", "stats"],
    ["store", "ls", "artifacts"],
    ["store", "ls", "executions", "--filter", "name LIKE 't%'"],
    ["store", "show", "artifact:1"],
    ["store", "lineage", "execution:1"],
    ["store", "export", "--parquet", "{tmp}/parquet"],
    ["store", "copy", "sqlite:///{tmp}/copy.sqlite"],
    ["graphlets", "ls"],
    ["graphlets", "show", "graphlet:1"],
    ["graphlets", "summary"],
    ["registry", "ls"],
    ["registry", "show", "churn"],
    ["registry", "promote", "churn", "1"],
    ["registry", "rollback", "churn"],
    ["registry", "alias", "churn", "best", "1"],
    ["runs", "ls"],
    ["runs", "show", "run:1"],
    ["runs", "diff", "run:1", "run:2"],
    ["optimize", "evaluate"],
    ["report", "--out", "{tmp}/report"],
    ["gc"],
]


def _args(cmd: list[str], tmp: Path, url: str) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in cmd] + ["--store", url]


def _headline(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A truncated and a scrambled copy of one populated store."""
    folder = tmp_path_factory.mktemp("damaged")
    good = folder / "good.sqlite"
    populated(good)
    out = {}
    for name, damage in (("truncated", truncate), ("scrambled", scramble)):
        path = folder / f"{name}.sqlite"
        path.write_bytes(good.read_bytes())
        damage(path)
        out[name] = path
    return out


@pytest.mark.parametrize("kind", ["truncated", "scrambled"])
@pytest.mark.parametrize("cmd", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_damaged_store_is_one_line_for_every_command(
    damaged: dict[str, Path], tmp_path: Path, kind: str, cmd: list[str]
) -> None:
    path = damaged[kind]
    before = path.read_bytes()
    res = run(*_args(cmd, tmp_path, f"sqlite:///{path}"))
    assert res.exit_code == 1, (res.stdout, res.stderr, res.exception)
    line = _headline(res.stderr)
    assert str(path) in line and "backup" in line
    assert path.read_bytes() == before


def test_damaged_store_through_the_console_script(damaged: dict[str, Path]) -> None:
    path = damaged["scrambled"]
    proc = subprocess.run(
        [str(BIN), "store", "ls", "artifacts", "--store", f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert str(path) in _headline(proc.stderr)


def test_locked_store_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "store.sqlite"
    url = populated(path, n=100)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE artifact SET uri = uri")
    try:
        res = run("store", "stats", "--store", url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert res.exit_code == 1
    line = _headline(res.stderr)
    assert "locked" in line and str(path) in line


@pytest.mark.parametrize(
    "url", ["sqlite:///", "postgresql://h:port/db", "sqlite:///a\x00b", "mysql://u@h/db"]
)
def test_bad_store_urls_are_one_line(url: str) -> None:
    res = run("store", "stats", "--store", url)
    assert res.exit_code == 1, res.stderr
    assert "sqlite://" in _headline(res.stderr)


@pytest.mark.parametrize(
    "typed",
    [
        "artifact:9223372036854775808",
        "artifact:99999999999999999999999999999",
        "artifact:\uff11",  # full-width digit one
        "execution:\u0663",  # Arabic-Indic digit three
        "artifact:-1",
        "artifact:\u00b2",  # superscript two
        "9223372036854775808",
    ],
)
def test_odd_ids_are_one_line(tmp_path: Path, typed: str) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert run("store", "init", "--store", url).exit_code == 0
    for cmd in (["store", "show", typed], ["store", "lineage", typed]):
        res = run(*cmd, "--store", url)
        assert res.exit_code == 1, (res.stderr, res.exception)
        assert typed[:20] in _headline(res.stderr)


def test_huge_version_numbers_are_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert run("store", "init", "--store", url).exit_code == 0
    for cmd in (
        ["registry", "promote", "churn", str(2**63)],
        ["registry", "alias", "churn", "best", str(2**64)],
        ["registry", "show", f"churn/{2**63}"],
        ["registry", "show", f"churn@{2**70}"],
    ):
        res = run(*cmd, "--store", url)
        assert res.exit_code == 1, (cmd, res.stderr, res.exception)
        _headline(res.stderr)
