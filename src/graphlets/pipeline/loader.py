"""Load a pipeline from a Python file (what ``graphlets run PIPELINE_FILE`` does).

The file is imported as a module under a name derived from its path, with its folder on ``sys.path``
(so it can import its neighbours, as a script could). It must define one
:class:`~graphlets.pipeline.Pipeline` at module level, or name one with ``FILE:ATTRIBUTE``. The
module is registered with cloudpickle to be pickled by value, so process and Dask workers run its
functions without importing the file. A relative ``SpanFiles`` pattern is resolved against the
file's folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import linecache
import sys
from pathlib import Path
from types import ModuleType

import cloudpickle  # type: ignore[import-untyped]

from graphlets.errors import InvalidArgumentError, NotFoundError
from graphlets.pipeline.dag import Pipeline


def module_name_for(path: Path) -> str:
    """A stable, importable module name for a pipeline file."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    stem = "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    return f"graphlets_pipeline_{stem}_{digest}"


def load_module(path: Path) -> ModuleType:
    """Import ``path`` as a module (re-importing picks up edits)."""
    if not path.is_file():
        raise NotFoundError(f"pipeline file {path} does not exist: pass the path of a .py file")
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidArgumentError(f"{path} cannot be imported as Python: use a .py file")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    linecache.checkcache(str(path))  # an edited file must not fingerprint as its old text
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(name, None)
        raise
    cloudpickle.register_pickle_by_value(module)
    return module


def load_pipeline(target: str | Path) -> Pipeline:
    """The pipeline defined in ``FILE`` or named by ``FILE:ATTRIBUTE``."""
    text = str(target)
    attr = None
    if ":" in text and not Path(text).exists():
        text, _, attr = text.rpartition(":")
    path = Path(text).expanduser()
    module = load_module(path)
    if attr is not None:
        found = getattr(module, attr, None)
        if not isinstance(found, Pipeline):
            raise InvalidArgumentError(f"{path}:{attr} is not a Pipeline: name a Pipeline object")
        return _anchor(found, path)
    pipelines = {k: v for k, v in vars(module).items() if isinstance(v, Pipeline)}
    if len(pipelines) != 1:
        names = ", ".join(sorted(pipelines)) or "none"
        raise InvalidArgumentError(
            f"{path} defines {len(pipelines)} pipelines ({names}): define exactly one, or pick "
            f"one with {path}:NAME"
        )
    return _anchor(next(iter(pipelines.values())), path)


def _anchor(pipeline: Pipeline, path: Path) -> Pipeline:
    pipeline.source_file = path.resolve()
    if pipeline.spans is not None and pipeline.spans.base is None:
        pipeline.spans = pipeline.spans.with_base(path.resolve().parent)
    return pipeline
