"""The composition root: hook specs, default plugins, entry points, GRAPHLETS_PLUGINS."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest

from graphlets import plugins
from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import Runner
from graphlets.store import MetadataStore
from tests.pipeline.helpers import chain, states

GATE = """
from graphlets.hookspecs import SkipDecision, hookimpl

CALLS = []


@hookimpl
def should_skip_execution(node, inputs):
    CALLS.append(node.name)
    if node.name == "{node}":
        return SkipDecision("gate says no", {{"why": "test"}})
    return None
"""


def _module(folder: Path, name: str, node: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(GATE.format(node=node)))


@pytest.mark.unit
def test_manager_has_the_specs_and_default_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    pm = plugins.get_plugin_manager(entry_points=False)
    for hook in (
        "should_skip_execution",
        "before_execution",
        "after_execution",
        "on_execution_failure",
        "before_run",
        "after_run",
    ):
        assert hasattr(pm.hook, hook)
    for path in plugins.DEFAULT_PLUGINS:
        assert pm.is_registered(importlib.import_module(path))


def test_env_plugins_reach_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _module(tmp_path, "gate_env_mod", "train")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(plugins.ENV_VAR, "gate_env_mod")
    pm = plugins.get_plugin_manager(entry_points=False)
    store = MetadataStore(f"sqlite:///{tmp_path / 's.sqlite'}", create=True)
    res = Runner(store, chain(tmp_path), blobs=str(tmp_path / "b"), hooks=pm).run(2)
    assert res.ok and states(store, res.run_id)["train"] == "CANCELED"
    assert res.outcomes["train"].skip_reason == "gate says no"
    assert importlib.import_module("gate_env_mod").CALLS == ["ingest", "stats", "train"]


def test_entry_point_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _module(tmp_path, "gate_ep_mod", "stats")
    dist = tmp_path / "gate_ep-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: gate-ep\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[graphlets]\ngate = gate_ep_mod\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    pm = plugins.get_plugin_manager()
    assert pm.is_registered(importlib.import_module("gate_ep_mod"))


@pytest.mark.unit
def test_prune_adds_the_gate_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)
    assert plugins.get_plugin_manager(entry_points=False).get_plugin(plugins.PRUNE_PLUGIN) is None
    pm = plugins.get_plugin_manager(entry_points=False, prune=True)
    assert pm.get_plugin(plugins.PRUNE_PLUGIN) is importlib.import_module(plugins.PRUNE_PLUGIN)


@pytest.mark.unit
def test_bad_env_plugin_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(plugins.ENV_VAR, "no_such_plugin_module_xyz")
    with pytest.raises(InvalidArgumentError, match="GRAPHLETS_PLUGINS"):
        plugins.get_plugin_manager(entry_points=False)


@pytest.mark.unit
def test_extra_plugin_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugins.ENV_VAR, raising=False)

    class Plugin:
        pass

    p = Plugin()
    pm = plugins.get_plugin_manager([p, p], entry_points=False)
    assert pm.is_registered(p)
