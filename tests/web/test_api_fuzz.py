"""Schemathesis against ``/openapi.json``: generated requests for every operation, no 500s, and
every answer one the document announces.

Bounded (``EXAMPLES`` per operation) so the suite stays quick; writes are sent with the token, so
the OpenLineage receiver is fuzzed past its authentication too. The operations are driven from one
test with Hypothesis directly (schemathesis' lazy pytest fixture does not run on pytest 9), and a
failing operation is reported by its label with the request that broke it.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import auth

pytestmark = pytest.mark.unit
EXAMPLES = 30
# No 5xx, and every answer is one the document announces (status, content type, body schema).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(operation: Any) -> None:
    """Run ``EXAMPLES`` generated cases of one operation; raise on a 5xx."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=auth(), checks=CHECKS)

    run()


def test_no_generated_request_makes_a_server_error(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for op in operations:
        try:
            fuzz(op)
        except BaseException as exc:  # report every failing operation, not only the first
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{op.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
