"""How the registry lives in an MLMD store (nothing outside MLMD's tables).

- a ``registered_model`` context per model name;
- a ``ModelVersion`` artifact per version, named ``NAME/VERSION``, attributed to that context; its
  custom properties hold the current state: ``stage``, ``aliases``, ``tags``, ``description``,
  ``signature`` (JSON strings), and the model payload it points at (``model_artifact_id``,
  ``model_uri``, ``content_sha256``);
- a ``RegistryChange`` execution per change (register, transition, alias, rollback, gc), with
  ``action``, ``who``, ``why``, ``version``, ``from_stage``, ``to_stage`` and an event to the
  version: the audit trail, written in the same transaction as the change; with
  ``start_time_ms``/``end_time_ms`` when the writer has a clock (the runner's span time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphlets.model import Artifact, ArtifactType, ContextType, ExecutionType, PropertyType

MODEL_CONTEXT = "registered_model"
VERSION_TYPE = "ModelVersion"
CHANGE_TYPE = "RegistryChange"
STAGES = ("staging", "shadow", "canary", "production", "archived")
SINGLE_SLOT = ("shadow", "canary", "production")
FALLBACK = "fallback"
# a change's time in ``history``: its recorded start_time_ms (a writer with a clock, e.g. a run's
# span time), else MLMD's create time
TIME_MS = "time_ms"

VERSION_ARTIFACT_TYPE = ArtifactType(
    VERSION_TYPE, {"version": PropertyType.INT, "model_name": PropertyType.STRING}
)
CHANGE_EXECUTION_TYPE = ExecutionType(CHANGE_TYPE)
MODEL_CONTEXT_TYPE = ContextType(MODEL_CONTEXT)


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, as read from its ModelVersion artifact."""

    name: str
    version: int
    stage: str
    artifact_id: int
    model_artifact_id: int | None
    model_uri: str | None
    content_sha256: str | None
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    signature: Mapping[str, str] = field(default_factory=dict)
    pushed_artifact_id: int | None = None
    created_ms: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``NAME/VERSION``, usable with :func:`graphlets.load_model`."""
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (CLI ``--json``)."""
        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
            "description": self.description,
            "signature": dict(self.signature),
            "model": f"artifact:{self.model_artifact_id}" if self.model_artifact_id else None,
            "pushed_model": f"artifact:{self.pushed_artifact_id}"
            if self.pushed_artifact_id
            else None,
            "model_uri": self.model_uri,
            "created_ms": self.created_ms,
            "metrics": dict(self.metrics),
            "artifact": f"artifact:{self.artifact_id}",
        }


def _json(props: Mapping[str, Any], key: str, default: Any) -> Any:
    raw = props.get(key)
    return json.loads(raw) if isinstance(raw, str) and raw else default


def version_from_artifact(a: Artifact) -> ModelVersion:
    """Read a ModelVersion artifact."""
    c = a.custom_properties

    def opt_int(key: str) -> int | None:
        v = c.get(key)
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    return ModelVersion(
        name=str(a.properties.get("model_name", "")),
        version=int(a.properties.get("version", 0)),  # type: ignore[arg-type]
        stage=str(c.get("stage", "staging")),
        artifact_id=int(a.id or 0),
        model_artifact_id=opt_int("model_artifact_id"),
        model_uri=str(c["model_uri"]) if c.get("model_uri") else None,
        content_sha256=str(c["content_sha256"]) if c.get("content_sha256") else None,
        aliases=tuple(_json(c, "aliases", [])),
        tags=_json(c, "tags", {}),
        description=str(c.get("description", "")),
        signature=_json(c, "signature", {}),
        pushed_artifact_id=opt_int("pushed_artifact_id"),
        created_ms=int(a.create_time_since_epoch),
        metrics=_json(c, "metrics", {}),
    )


def version_properties(v: ModelVersion) -> dict[str, Any]:
    """Custom properties that store ``v``'s state."""
    props: dict[str, Any] = {
        "stage": v.stage,
        "aliases": json.dumps(sorted(v.aliases)),
        "tags": json.dumps(dict(v.tags), sort_keys=True),
        "description": v.description,
        "signature": json.dumps(dict(v.signature), sort_keys=True),
        "metrics": json.dumps(dict(v.metrics), sort_keys=True),
    }
    for key in ("model_artifact_id", "pushed_artifact_id"):
        value = getattr(v, key)
        if value is not None:
            props[key] = int(value)
    if v.model_uri:
        props["model_uri"] = v.model_uri
    if v.content_sha256:
        props["content_sha256"] = v.content_sha256
    return props
