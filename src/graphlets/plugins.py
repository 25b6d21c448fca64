"""Composition root: the plugin manager the CLI and the demo hand to the runner.

Plugins implement hooks from :mod:`graphlets.hookspecs`. They come from three places, in order: the
default plugins listed in :data:`DEFAULT_PLUGINS` (modules of this package, e.g. the optimizer's
pruning gate once it exists), installed packages that declare an entry point in the ``graphlets``
group::

    [project.entry-points.graphlets]
    my_gate = "my_package.gate"

and modules named in ``GRAPHLETS_PLUGINS`` (comma-separated import paths), which is how a user turns
on a plugin for one command without installing anything. The runner itself never imports optimizer,
interop or lineage code: this module is the only place that wires them in.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable

import pluggy

from graphlets import hookspecs
from graphlets.errors import InvalidArgumentError

ENTRY_POINT_GROUP = "graphlets"
ENV_VAR = "GRAPHLETS_PLUGINS"
# Import paths of plugins every run gets; other layers add theirs here (one line each).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "graphlets.interop.openlineage_emit",  # acts only when OPENLINEAGE_URL is set
    "graphlets.components.registry_hook",  # registers pushes that name a registered_model
)
# The pruning gate skips trainings: never on by default (``graphlets run --prune``).
PRUNE_PLUGIN = "graphlets.optimizer.gate"


def get_plugin_manager(
    extra: Iterable[object] = (), *, entry_points: bool = True, prune: bool = False
) -> pluggy.PluginManager:
    """A new plugin manager with the hook specs, default plugins, entry points,
    ``GRAPHLETS_PLUGINS`` modules and ``extra`` plugin objects registered."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for path in (*DEFAULT_PLUGINS, *((PRUNE_PLUGIN,) if prune else ())):
        _register(pm, path)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for path in _env_plugins():
        _register(pm, path)
    for plugin in extra:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return pm


def _env_plugins() -> list[str]:
    raw = os.environ.get(ENV_VAR, "")
    return [p.strip() for p in raw.split(",") if p.strip()]


def _register(pm: pluggy.PluginManager, path: str) -> None:
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"plugin {path!r} cannot be imported ({exc}): fix {ENV_VAR} or install the package"
        ) from exc
    if not pm.is_registered(module):
        pm.register(module, name=path)
