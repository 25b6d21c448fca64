"""Trace simulator: MLMD provenance with the shape of a large production fleet of TFX pipelines.

``simulate(load_profile("small"), "sqlite:///fleet.sqlite")`` writes a seeded, deterministic fleet
(profiles in ``profiles/*.toml``; see ``docs/concepts/simulator.md`` for the model and which numbers
come from the paper). Latent causes of every training are recorded as ``sim_*`` custom properties
on the Trainer executions, for oracles only: nothing else needs them.
"""

from graphlets.simulate.config import FleetConfig, load_profile, profile_names
from graphlets.simulate.plan import expected_models, plan_fleet
from graphlets.simulate.writer import SimulationResult, check_disk, simulate

__all__ = [
    "FleetConfig",
    "SimulationResult",
    "check_disk",
    "expected_models",
    "load_profile",
    "plan_fleet",
    "profile_names",
    "simulate",
]
