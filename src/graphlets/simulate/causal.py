"""The causal model of blessing and push (``docs/concepts/simulator.md``, "Causal model").

The Evaluator blesses a candidate model when its *score* is positive. The score is a sum of named
terms, each a cause a production engineer would recognise:

* ``pipeline``: the pipeline's (trainer's) own propensity to produce better models (drawn once).
* ``new_data``: how much of the training window is newer than the data of the model in production
  (the last pushed one): ``w * (sqrt(new_fraction) - center)``. Retraining on mostly the same
  spans rarely beats the production model; a window of fresh data usually does.
* ``drift``: during a drift episode of magnitude ``d``, a window still made mostly of pre-drift
  spans evaluates badly on drifted data, and a window mostly after the onset beats the stale
  production model: ``d * (adapt * post - hurt * (1 - post))``, ``post`` the fraction of the
  window after the onset.
* ``code_change`` / ``config_change``: each trainer code or config version has a fixed effect
  (normal), counted while the production model was built with an older version.
* ``structure_change``: a schema or topology change since the last push costs a fixed penalty
  (new features need tuning) until a model built after it is pushed.
* ``noise``: normal noise per training.

A blessed model is still *blocked* from production by an InfraValidator reject, a deployment rate
limit (pushed less than ``min_push_hours`` ago) or a fleet-wide freeze. The term that explains the
verdict most (the most negative one for an unblessed model, the most positive for a pushed one) is
recorded as ``sim_cause``.
"""

from __future__ import annotations

import math

from graphlets.simulate.config import Causal

TERMS = (
    "pipeline",
    "new_data",
    "drift",
    "code_change",
    "config_change",
    "structure_change",
    "noise",
)
BLOCKERS = ("infra_validation", "rate_limit", "freeze")
FAILURES = ("evaluator_failure", "infra_failure", "pusher_failure", "after_change", "random")
CAUSES = ("", *TERMS, *BLOCKERS, *FAILURES)
OUTCOMES = ("", "pushed", "unblessed", "blocked", "failed", "pending", "trainer_failed")
CAUSE = {name: i for i, name in enumerate(CAUSES)}
OUTCOME = {name: i for i, name in enumerate(OUTCOMES)}


def score_terms(
    c: Causal,
    base: float,
    new_fraction: float,
    drift: float,
    post: float,
    code: float,
    config: float,
    structure_changed: bool,
    noise: float,
) -> tuple[float, ...]:
    """The score's terms, in ``TERMS`` order (their sum is the score)."""
    return (
        base,
        c.new_data_weight * (math.sqrt(new_fraction) - c.new_data_center),
        drift * (c.drift_adapt * post - c.drift_hurt * (1.0 - post)),
        code,
        config,
        -c.structure_penalty if structure_changed else 0.0,
        noise,
    )


def explain(terms: tuple[float, ...], positive: bool) -> int:
    """Cause code of the term that pushed the verdict hardest (largest, or most negative)."""
    pick = (
        max(range(len(terms)), key=terms.__getitem__)
        if positive
        else min(range(len(terms)), key=terms.__getitem__)
    )
    return CAUSE[TERMS[pick]]
