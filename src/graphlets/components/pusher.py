"""Pusher: runs only for a blessed model (``when=``) and hands it to the model registry.

The ``PushedModel`` output carries ``pushed`` = 1 (TFX's property), ``registered_model`` and the
signature; the registration itself is written by the runner process (a worker never writes the
store) through :mod:`graphlets.components.registry_hook`, which adds ``registry_version`` to the
PushedModel. Register that hook with the runner (the demo does) or with
``GRAPHLETS_PLUGINS=graphlets.components.registry_hook``.
"""

from __future__ import annotations

import json

from graphlets.pipeline import (
    Input,
    Model,
    ModelBlessing,
    ModelEvaluation,
    Output,
    PushedModel,
    Schema,
    component,
    prop,
)
from graphlets.validation import signature


@component(category="deploy", type_name="Pusher", when=prop("blessing", "blessed") == 1)
def pusher(
    model: Input[Model],
    blessing: Input[ModelBlessing],
    schema: Input[Schema],
    evaluation: Input[ModelEvaluation],
    pushed_model: Output[PushedModel],
    model_name: str = "default",
    label: str = "churned",
) -> None:
    """Publish the blessed model: the same bytes, marked pushed, with its input signature."""
    pushed_model.write_bytes(model.read_bytes())
    pushed_model.set("pushed", 1)
    pushed_model.set("registered_model", model_name)
    pushed_model.set("signature", json.dumps(signature(schema.read_json(), (label,))))
    cand = evaluation.read_json()["candidate"]
    pushed_model.set("metrics", json.dumps({k: cand[k] for k in ("auc", "accuracy")}))
