"""Staged rollout, simulated on later spans: staging -> shadow -> canary -> production.

Each new span of traffic moves candidates one stage: a version in **shadow** scores the same
traffic as production (both on every row) and the gain in the metric is recorded; a version in
**canary** serves a seeded share of the traffic while production serves the rest, and the gain is
recorded again; promotion to production can require a gain (``min_gain``). The newest pushed
version enters shadow when the slot is free; older versions still waiting in staging are
archived as superseded. With no production version yet, the first push goes straight to
production (there is nothing to compare against). Every move is a registry change, so the audit
trail holds the gain of each stage.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from graphlets.components.evaluator import score
from graphlets.registry import ModelRegistry, ModelVersion, read_payload
from graphlets.store.blobs import BlobStore


@dataclass(frozen=True)
class RolloutConfig:
    """Attributes:
    metric: the score compared (``auc`` or ``accuracy``; higher is better).
    canary_fraction: share of a span's traffic the canary serves.
    min_gain: least gain (candidate - production) to pass a stage.
    require_gain: when False, stages record the gain but never stop a candidate.
    seed: the canary's traffic split.
    """

    metric: str = "auc"
    canary_fraction: float = 0.3
    min_gain: float = 0.0
    require_gain: bool = True
    seed: int = 0


class StagedRollout:
    """Moves the versions of one registered model through the stages, one span at a time."""

    def __init__(
        self,
        registry: ModelRegistry,
        model_name: str,
        blobs: BlobStore,
        *,
        label: str = "churned",
        config: RolloutConfig | None = None,
    ) -> None:
        self.registry = registry
        self.name = model_name
        self.blobs = blobs
        self.label = label
        self.cfg = config or RolloutConfig()
        self._models: dict[int, Any] = {}

    def load(self, v: ModelVersion) -> Any:
        """The model object of a version (cached)."""
        if v.version not in self._models:
            self._models[v.version] = pickle.loads(read_payload(v, self.blobs))
        return self._models[v.version]

    def advance(self, span: int, traffic: pl.DataFrame) -> list[dict[str, Any]]:
        """Run one span of traffic through the stages; returns what moved and the gains."""
        moves: list[dict[str, Any]] = []
        prod = self.registry.production(self.name)
        for v in self.registry.in_stage(self.name, "canary"):
            moves.append(self._judge(v, prod, span, traffic, "canary", "production"))
        for v in self.registry.in_stage(self.name, "shadow"):
            moves.append(self._judge(v, prod, span, traffic, "shadow", "canary"))
        moves.extend(self._admit(span))
        return moves

    def _admit(self, span: int) -> list[dict[str, Any]]:
        staged = self.registry.in_stage(self.name, "staging")
        if not staged:
            return []
        newest, older = staged[-1], staged[:-1]
        moves = []
        for v in older:
            self.registry.transition(
                self.name, v.version, "archived", why=f"superseded by v{newest.version}"
            )
            moves.append({"version": v.version, "to": "archived", "why": "superseded"})
        if self.registry.production(self.name) is None:
            self.registry.promote(self.name, newest.version, why="first version: no production")
            moves.append({"version": newest.version, "to": "production", "why": "bootstrap"})
        elif not self.registry.in_stage(self.name, "shadow"):
            self.registry.transition(
                self.name, newest.version, "shadow", why=f"shadow from span {span + 1}"
            )
            moves.append({"version": newest.version, "to": "shadow"})
        return moves

    def _judge(
        self,
        v: ModelVersion,
        prod: ModelVersion | None,
        span: int,
        traffic: pl.DataFrame,
        stage: str,
        to: str,
    ) -> dict[str, Any]:
        gain = self.gain(v, prod, traffic, stage)
        ok = not self.cfg.require_gain or not np.isfinite(gain) or gain >= self.cfg.min_gain
        target = to if ok else "archived"
        why = f"{stage} on span {span}: {self.cfg.metric} gain {gain:+.4f}"
        if not ok:
            why += f" < {self.cfg.min_gain:+.4f} required"
        self.registry.transition(
            self.name, v.version, target, why=why, rollout_stage=stage, gain=float(gain), span=span
        )
        return {"version": v.version, "stage": stage, "gain": gain, "to": target}

    def gain(
        self, v: ModelVersion, prod: ModelVersion | None, traffic: pl.DataFrame, stage: str
    ) -> float:
        """Candidate minus production on this span's traffic (shadow: the same rows; canary:
        the canary's share against production's share)."""
        if prod is None:
            return float("nan")
        cand, base = self.load(v), self.load(prod)
        if stage == "shadow":
            a, b = score(cand, traffic, self.label), score(base, traffic, self.label)
        else:
            rng = np.random.default_rng([self.cfg.seed, traffic.height])
            mask = pl.Series(rng.random(traffic.height) < self.cfg.canary_fraction)
            a = score(cand, traffic.filter(mask), self.label)
            b = score(base, traffic.filter(~mask), self.label)
        return float(a[self.cfg.metric] - b[self.cfg.metric])
