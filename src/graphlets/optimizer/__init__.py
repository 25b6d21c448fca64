"""Optimizer: graphlet features at the decision point, a push predictor, the pruning gate, replay.

``evaluate(store)`` replays a store's history with the gate on and reports what it would have
saved and missed; :class:`PruningGate` is the runner hook (``graphlets run --prune``). See
``docs/concepts/pruning.md``.
"""

from graphlets.optimizer.features import FEATURES, build_features, online_features
from graphlets.optimizer.gate import GateConfig, PruningGate
from graphlets.optimizer.policy import Guards
from graphlets.optimizer.predictor import Predictor
from graphlets.optimizer.replay import ReplayConfig, evaluate, evaluate_history
from graphlets.optimizer.trace import History, load_history

__all__ = [
    "FEATURES",
    "GateConfig",
    "Guards",
    "History",
    "Predictor",
    "PruningGate",
    "ReplayConfig",
    "build_features",
    "evaluate",
    "evaluate_history",
    "load_history",
    "online_features",
]
