"""Resolvers that read the model registry (the evaluator's baseline is the production model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from graphlets.model import Artifact, ArtifactState
from graphlets.pipeline import ResolveContext, Resolver
from graphlets.registry import ModelRegistry


@dataclass(frozen=True)
class ProductionModel(Resolver):
    """The Model artifact of the registry's production version of ``model_name`` (none while no
    version is in production, or when its payload was collected)."""

    model_name: str = "default"
    edge: ClassVar[bool] = False
    needs_producer: ClassVar[bool] = False

    def resolve(self, rc: ResolveContext) -> list[Artifact]:
        version = ModelRegistry(rc.store).production(self.model_name)
        if version is None or version.model_artifact_id is None:
            return []
        arts = rc.store.get_artifacts_by_id([version.model_artifact_id])
        return [a for a in arts if a.state == ArtifactState.LIVE]

    def describe(self) -> str:
        return f"registry {self.model_name}@production"


def production_model(model_name: str) -> ProductionModel:
    """Resolve an input to the production model of ``model_name``."""
    return ProductionModel(None, model_name)
