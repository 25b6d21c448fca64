"""The model registry: versions from pushes, stages (staging, shadow, canary, production,
archived), aliases, fallback and rollback, every change audited in the store; retention (gc) and
``load_model``. See docs/howto/registry.md.
"""

from graphlets.registry.gc import GcReport, RetentionPolicy, collect, protected_models
from graphlets.registry.loading import load_model, read_payload
from graphlets.registry.reads import current_user
from graphlets.registry.records import FALLBACK, STAGES, ModelVersion
from graphlets.registry.refs import parse as parse_ref
from graphlets.registry.registry import ModelRegistry

__all__ = [
    "FALLBACK",
    "STAGES",
    "GcReport",
    "ModelRegistry",
    "ModelVersion",
    "RetentionPolicy",
    "collect",
    "current_user",
    "load_model",
    "parse_ref",
    "protected_models",
    "read_payload",
]
