"""Hypothesis budgets for the property-based tests of hostile input.

Each property runs :data:`CI_CASES` examples in the default run (``GRAPHLETS_FUZZ_CASES``
overrides) and :data:`SLOW_CASES` (``GRAPHLETS_FUZZ_SLOW_CASES``) in its ``@pytest.mark.slow``
twin, which calls the same check. No example database is
written (runs stay read-only on the checkout) and no deadline applies (the machine is shared).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

CI_CASES = int(os.environ.get("GRAPHLETS_FUZZ_CASES") or 300)
SLOW_CASES = int(os.environ.get("GRAPHLETS_FUZZ_SLOW_CASES") or 10_000)


def budget(cases: int) -> settings:
    """Settings for ``cases`` examples."""
    return settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
