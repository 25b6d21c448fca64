"""DESIGN.md's CLI conventions, checked on every command the app registers.

The command tree is read from Click, so a command group added later is checked without touching this
file: each leaf command must take ``--store`` and ``--json``, and must have help text. Typer may
vendor its own Click, so commands and options are recognised by their attributes, not their classes.
"""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from graphlets.cli.main import app

runner = CliRunner()


def _leaves(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every runnable command under ``cmd`` with its path of names."""
    subs = getattr(cmd, "commands", None)
    if subs is None:
        return [(path, cmd)]
    out: list[tuple[tuple[str, ...], Any]] = []
    for name, sub in sorted(subs.items()):
        out += _leaves(sub, (*path, name))
    return out


ROOT = typer.main.get_command(app)
LEAVES = _leaves(ROOT)
IDS = [" ".join(p) for p, _ in LEAVES]


def _option(cmd: Any, flag: str) -> Any:
    for p in cmd.params:
        if p.param_type_name == "option" and flag in p.opts:
            return p
    return None


@pytest.mark.unit
def test_the_tree_holds_the_store_group() -> None:
    expected = {"init", "upgrade", "stats", "ls", "show", "lineage", "copy", "export"}
    assert {f"store {n}" for n in expected} <= set(IDS)


@pytest.mark.unit
@pytest.mark.parametrize(("path", "cmd"), LEAVES, ids=IDS)
def test_every_command_takes_store_and_json_and_has_help(path: tuple[str, ...], cmd: Any) -> None:
    name = "graphlets " + " ".join(path)
    store = _option(cmd, "--store")
    assert store is not None, f"{name} lacks --store"
    assert not store.is_flag and not store.required, f"{name}: --store must take an optional URL"
    as_json = _option(cmd, "--json")
    assert as_json is not None and as_json.is_flag, f"{name} lacks the --json flag"
    assert (cmd.help or "").strip(), f"{name} has no help text"
    for p in cmd.params:
        if p.param_type_name == "option" and not p.hidden and p.name != "help":
            assert (p.help or "").strip(), f"{name} {p.opts[0]} has no help"


@pytest.mark.unit
@pytest.mark.parametrize(("path", "cmd"), LEAVES, ids=IDS)
def test_help_runs_and_mentions_both_options(path: tuple[str, ...], cmd: Any) -> None:
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    assert "--store" in res.stdout and "--json" in res.stdout


@pytest.mark.unit
def test_store_commands_read_the_env_var() -> None:
    for path, cmd in LEAVES:
        if path[0] == "store":
            assert _option(cmd, "--store").envvar == "GRAPHLETS_STORE", path
