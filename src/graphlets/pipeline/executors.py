"""Executors: where component calls run. Only the scheduler (the runner) writes to the store.

- ``inline``: in the runner's process, one at a time (the default; the cheapest).
- ``process``: a local process pool (``--workers N``); independent branches run in parallel.
- ``dask://HOST:PORT``: a Dask distributed scheduler; ``dask-local`` starts a ``LocalCluster``.

Workers receive a :class:`~graphlets.pipeline.task.TaskSpec` serialised with cloudpickle (pipeline
files are pickled by value, so workers need not import them) and return a
:class:`~graphlets.pipeline.task.TaskResult`. They read and write payloads in the blob store, which
must therefore be reachable from them (a local folder for ``process`` and ``dask-local``, a shared
fsspec URL such as ``s3://`` for a remote cluster), and never open the metadata store: one writer
keeps SQLite free of lock contention and makes a worker's death harmless to provenance.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

import cloudpickle  # type: ignore[import-untyped]

from graphlets.errors import ExecutorError, InvalidArgumentError
from graphlets.pipeline.task import TaskResult, TaskSpec, run_task


class Executor(Protocol):
    """Runs tasks and hands back futures of their results."""

    name: str
    workers: int
    local_only: bool  # True when workers share this machine's memory filesystem (inline)

    def submit(self, spec: TaskSpec) -> Future[TaskResult]:
        """Start one task."""

    def close(self) -> None:
        """Release workers."""


def _run_pickled(payload: bytes) -> TaskResult:
    spec: TaskSpec = cloudpickle.loads(payload)
    return run_task(spec)


class InlineExecutor:
    """Runs each task in the calling thread when it is submitted."""

    name = "inline"
    workers = 1
    local_only = True

    def submit(self, spec: TaskSpec) -> Future[TaskResult]:
        fut: Future[TaskResult] = Future()
        fut.set_result(run_task(spec))
        return fut

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A local process pool (forkserver on POSIX: no threads or locks inherited from the runner)."""

    name = "process"
    local_only = False

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        method = "forkserver" if sys.platform != "win32" else "spawn"
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context(method)
        )

    def submit(self, spec: TaskSpec) -> Future[TaskResult]:
        return self._pool.submit(_run_pickled, cloudpickle.dumps(spec))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask distributed client; owns a ``LocalCluster`` when started with ``dask-local``."""

    local_only = False

    def __init__(self, address: str | None, workers: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise InvalidArgumentError(
                "the Dask executor needs dask[distributed]: pip install 'dask[distributed]'"
            ) from exc
        self._cluster: Any = None
        if address is None:
            self.workers = max(1, workers)
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client: Any = Client(self._cluster)  # type: ignore[no-untyped-call]
            self.name = "dask-local"
        else:
            self._client = _connect(Client, address)
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
            self.name = f"dask://{address.split('://', 1)[-1]}"

    def submit(self, spec: TaskSpec) -> Future[TaskResult]:
        outer: Future[TaskResult] = Future()
        inner = self._client.submit(_run_pickled, cloudpickle.dumps(spec), pure=False)

        def done(f: Any) -> None:
            try:
                outer.set_result(f.result())
            except BaseException as exc:  # worker lost, cancelled: the runner records FAILED
                outer.set_exception(exc)

        inner.add_done_callback(done)
        return outer

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _connect(client_cls: Any, address: str) -> Any:
    """A client of the scheduler at ``address``, or one :class:`ExecutorError` line after
    ``GRAPHLETS_DASK_TIMEOUT`` seconds (default 5) when it does not answer; distributed's own
    connection retries log nothing meanwhile."""
    timeout = float(os.environ.get("GRAPHLETS_DASK_TIMEOUT") or 5)
    shown = f"dask://{address.split('://', 1)[-1]}"
    quiet = [
        logging.getLogger(n) for n in ("distributed", "distributed.comm", "distributed.client")
    ]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.CRITICAL)
    try:
        return client_cls(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ExecutorError(
            f"Dask scheduler {shown} did not answer within {timeout:g} s ({reason}): start it "
            "(`dask scheduler`), check HOST:PORT, or use --executor process"
        ) from None
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)


def make_executor(spec: str | None, workers: int | None = None) -> Executor:
    """``inline``, ``process``, ``dask-local`` or ``dask://HOST:PORT`` (also ``tcp://``)."""
    n = workers or 0
    choice = (spec or ("process" if n > 1 else "inline")).strip()
    if choice == "inline":
        return InlineExecutor()
    if choice == "process":
        return ProcessExecutor(n or multiprocessing.cpu_count())
    if choice == "dask-local":
        return DaskExecutor(None, n or 2)
    if choice.startswith(("dask://", "tcp://")):
        return DaskExecutor("tcp://" + choice.split("://", 1)[1], n)
    raise InvalidArgumentError(
        f"executor {choice!r} is unknown: use inline, process, dask-local or dask://HOST:PORT"
    )
