"""``MetadataStore.atomic``: several store calls as one transaction, with named locks."""

from __future__ import annotations

import threading
import time

import pytest

from graphlets.model import Execution, ExecutionState, ExecutionType
from graphlets.store import MetadataStore


def test_everything_inside_atomic_commits_or_rolls_back_together(store: MetadataStore) -> None:
    def write(st: MetadataStore) -> int:
        tid = st.put_execution_type(ExecutionType("Kept"))
        [eid] = st.put_executions([Execution(tid, name="x")])
        assert st.get_executions_by_id([eid]), "reads inside see the transaction's writes"
        return eid

    eid = store.atomic(write)
    assert store.get_executions_by_id([eid])

    def fail(st: MetadataStore) -> None:
        tid = st.put_execution_type(ExecutionType("Dropped"))
        st.put_executions([Execution(tid, name="y")])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.atomic(fail)
    assert "Dropped" not in {t.name for t in store.get_execution_types()}
    assert store.count("execution") == 1
    tid = store.put_execution_type(ExecutionType("Dropped"))  # no stale cached id
    assert store.put_executions([Execution(tid, name="y")])


@pytest.mark.postgres
def test_a_named_lock_serialises_read_modify_write(pg_store_url: str) -> None:
    with MetadataStore(pg_store_url) as st:
        tid = st.put_execution_type(ExecutionType("Counter"))
        [eid] = st.put_executions([Execution(tid, name="c", custom_properties={"n": 0})])

    def bump(st: MetadataStore) -> None:
        [ex] = st.get_executions_by_id([eid])
        time.sleep(0.01)  # widen the window a lost update needs
        n = int(ex.custom_properties["n"]) + 1
        st.put_executions([Execution(tid, id=eid, name="c", custom_properties={"n": n})])

    def worker() -> None:
        with MetadataStore(pg_store_url) as mine:
            for _ in range(5):
                mine.atomic(bump, locks=["counter"])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with MetadataStore(pg_store_url) as st:
        [ex] = st.get_executions_by_id([eid])
        assert ex.custom_properties["n"] == 30
        assert ex.last_known_state == ExecutionState.UNKNOWN
