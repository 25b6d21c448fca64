"""The registry's invariants, as the concurrency tests check them after every write.

- at most one version in each single-slot stage (shadow, canary, production);
- every alias (the fallback among them) on at most one version;
- the audit trail agrees with the state: replaying the trail from the start gives every
  version's stage and aliases exactly as stored (so the fallback is where the trail put it);
- ``NAME@production`` resolves to the version the trail last put in production.

The replay is an independent model of the registry's rules, written from the audit records
alone (``fallback`` on a rollback names the new fallback), not a call into the registry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from graphlets.errors import NotFoundError
from graphlets.registry import FALLBACK, ModelRegistry
from graphlets.registry.records import SINGLE_SLOT

State = dict[int, tuple[str, tuple[str, ...]]]


def replay(history: Sequence[Mapping[str, Any]]) -> State:
    """Each version's (stage, sorted aliases) as the audit trail says they should be."""
    stage: dict[int, str] = {}
    aliases: dict[str, int] = {}
    for row in history:
        action, v = row.get("action"), int(row.get("version", 0))
        if action == "register":
            stage[v] = "staging"
        elif action == "transition":
            to = str(row["to_stage"])
            for other, held in list(stage.items()):
                if to in SINGLE_SLOT and held == to and other != v:
                    stage[other] = "archived"
                    if to == "production":
                        aliases[FALLBACK] = other
            stage[v] = to
        elif action == "rollback":
            stage[int(row["from_version"])] = "archived"
            stage[v] = "production"
            aliases.pop(FALLBACK, None)
            if row.get("fallback") is not None:
                aliases[FALLBACK] = int(row["fallback"])
        elif action == "alias":
            aliases[str(row["alias"])] = v
    held_by: dict[int, list[str]] = defaultdict(list)
    for alias, v in aliases.items():
        held_by[v].append(alias)
    return {v: (s, tuple(sorted(held_by[v]))) for v, s in stage.items()}


def violations(reg: ModelRegistry, name: str) -> list[str]:
    """Every invariant ``name`` breaks right now, one line each (empty when all hold)."""
    versions = reg.versions(name)
    found: list[str] = []
    for slot in SINGLE_SLOT:
        held = [v.version for v in versions if v.stage == slot]
        if len(held) > 1:
            found.append(f"{slot} holds {len(held)} versions {held}")
    holders: dict[str, list[int]] = defaultdict(list)
    for v in versions:
        for alias in v.aliases:
            holders[alias].append(v.version)
    found += [f"alias {a} on {vs}" for a, vs in holders.items() if len(vs) > 1]
    expected = replay(reg.history(name))
    actual = {v.version: (v.stage, tuple(sorted(v.aliases))) for v in versions}
    wrong = sorted(k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k))
    found += [f"v{k}: trail says {expected.get(k)}, state is {actual.get(k)}" for k in wrong]
    in_prod = [v for v, (s, _) in expected.items() if s == "production"]
    try:
        resolved: int | None = reg.resolve(f"{name}@production").version
    except NotFoundError:
        resolved = None
    if resolved != (in_prod[-1] if in_prod else None):
        found.append(f"{name}@production is {resolved}, the trail last promoted {in_prod}")
    return found
