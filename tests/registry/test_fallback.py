"""The fallback chosen after a rollback, from an audit trail (pure function, no store)."""

from __future__ import annotations

from typing import Any

import pytest

from graphlets.registry.fallback import next_fallback, rolled_away

pytestmark = pytest.mark.unit


def promote(v: int) -> dict[str, Any]:
    return {"action": "transition", "version": v, "to_stage": "production"}


def rollback(frm: int, to: int) -> dict[str, Any]:
    return {"action": "rollback", "version": to, "from_version": frm, "to_stage": "production"}


def test_walks_back_and_skips_rolled_away_dead_and_the_two_moving_versions() -> None:
    trail = [promote(1), promote(2), promote(3), promote(4), rollback(4, 3)]
    assert rolled_away(trail) == {4}
    assert next_fallback(trail, 3, 2, {1, 2, 3, 4}) == 1
    assert next_fallback(trail, 3, 2, {2, 3, 4}) is None  # v1 collected by gc
    assert next_fallback([*trail, rollback(3, 2)], 2, 1, {1, 2, 3, 4}) is None


def test_a_promote_after_a_rollback_makes_the_version_eligible_again() -> None:
    trail = [promote(1), promote(2), rollback(2, 1), promote(2), promote(3)]
    assert rolled_away(trail) == set()
    assert next_fallback(trail, 3, 2, {1, 2, 3}) == 1
    assert next_fallback([*trail[:3], promote(3)], 3, 1, {1, 2, 3}) is None
