"""Batch marking on a Dask cluster (the `dask` extra); imported only for --backend dask.

The teacher's machine reads every file and sends its bytes, so workers need not see its
disk; the rubric and the model file go once to each worker, which loads the model on its
first task and keeps it. Chunks come back in the order they were sent, and slips, markbook
and resume stay with the caller (batch.py), on the teacher's machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from essay_marker.batch.marking import Job, Marked, mark_files, with_contents
from essay_marker.errors import ClusterError, EssaymarkError
from essay_marker.rubric import Rubric

if TYPE_CHECKING:
    from essay_marker.model.trained import TrainedModel

CONNECT_TIMEOUT = 5  # seconds to reach a scheduler, or for it to have a worker
INSTALL = "pip install 'essaymark[dask]'"


@dataclass(frozen=True)
class Setup:
    """What a worker needs before marking: the rubric and the model file's bytes."""

    key: str  # names this rubric and model, so a worker loads them once
    rubric: Rubric
    model: bytes | None = None  # the skops file, loaded on the worker with its allow-list
    card: bytes | None = None  # the model card beside it (.json)


def make_setup(rubric: Rubric, model_path: Path | None) -> Setup:
    """Read the model file here: workers may not have the teacher's models."""
    model = model_path.read_bytes() if model_path else None
    card_path = model_path.with_suffix(".json") if model_path else None
    card = card_path.read_bytes() if card_path and card_path.is_file() else None
    digest = hashlib.sha256((model or b"") + (card or b"")).hexdigest()
    return Setup(f"{rubric.id}:{rubric.sha256}:{digest}", rubric, model, card)


_loaded: dict[
    str, TrainedModel | None
] = {}  # in each worker process: setup key -> model (None for rules)
_lock = threading.Lock()  # a worker's threads share the process: load the model once


def _scorer(setup: Setup) -> TrainedModel | None:
    with _lock:
        if setup.key not in _loaded:
            _loaded.clear()  # one model at a time per worker
            _loaded[setup.key] = _load(setup)
        return _loaded[setup.key]


def _load(setup: Setup) -> TrainedModel | None:
    if setup.model is None:
        return None
    from essay_marker.model.persist import load_model

    with tempfile.TemporaryDirectory(prefix="essaymark-") as tmp:
        path = Path(tmp) / "model.skops"
        path.write_bytes(setup.model)
        if setup.card is not None:
            path.with_suffix(".json").write_bytes(setup.card)
        return load_model(path, setup.rubric)


def mark_remote(jobs: list[Job], setup: Setup) -> list[Marked]:
    """A Dask task: mark one chunk of files (carrying their bytes) on a worker."""
    return mark_files(jobs, setup.rubric, _scorer(setup))


@contextmanager
def connect(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client of the scheduler at that address, or of a new local cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError(
            "--backend dask needs dask and distributed, which are not installed", INSTALL
        ) from None
    if scheduler is None:
        # One thread per worker process: marking holds the GIL, so threads would share a core.
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client
        return
    _reach(scheduler)
    with Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
        _check_workers(client, scheduler)
        yield client


def _reach(address: str) -> None:
    """Fail in one line if no scheduler answers there (a failed Client lingers and warns)."""
    from distributed.comm import connect as open_comm

    async def probe() -> None:
        comm = await open_comm(address, timeout=CONNECT_TIMEOUT)
        await comm.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # bad address, refused, timed out, or not a Dask scheduler
        reason = str(exc) if isinstance(exc, OSError | ValueError) else exc.__class__.__name__
        raise ClusterError(
            f"cannot reach a Dask scheduler at {address}: {reason}",
            "check the address, e.g. tcp://10.0.0.5:8786, and that 'dask scheduler' runs there",
        ) from None


def _check_workers(client: Any, address: str) -> None:
    """Refuse a cluster with no workers, or with another essaymark version on one."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers",
            f"start 'dask worker {address}' on each marking machine",
        ) from None
    try:
        mine = metadata.version("essaymark")
    except metadata.PackageNotFoundError:
        mine = None
    found = client.get_versions(packages=["essaymark"])["workers"]
    for worker, info in sorted(found.items()):
        theirs = info["packages"].get("essaymark")
        if theirs != mine:
            raise ClusterError(
                f"Dask worker {worker} has essaymark {theirs or 'not installed'}, "
                f"this machine {mine}",
                "install the same essaymark version on every worker",
            )


def mark_on_cluster(
    chunks: list[list[Job]],
    rubric: Rubric,
    model_path: Path | None,
    scheduler: str | None,
    workers: int,
) -> Iterator[Marked]:
    """Mark chunks of files on a Dask cluster; results in the order of the chunks."""
    setup = make_setup(rubric, model_path)
    with connect(scheduler, workers) as client:
        shared = client.scatter(setup, broadcast=True)
        # Only a few chunks' bytes wait in memory here, not the whole folder's.
        ahead = 2 * max(1, sum(client.nthreads().values()))
        pending: deque[Any] = deque()
        for chunk in chunks:
            jobs = [with_contents(job) for job in chunk]
            pending.append(client.submit(mark_remote, jobs, shared, pure=False))
            if len(pending) >= ahead:
                yield from _result(pending.popleft())
        while pending:
            yield from _result(pending.popleft())


def _result(future: Any) -> list[Marked]:
    try:
        return future.result()
    except EssaymarkError:
        raise
    except Exception as exc:  # a worker died or left: marking errors are rows, not raised
        raise ClusterError(
            f"the Dask cluster stopped marking ({exc.__class__.__name__})",
            "check the workers, then run the batch again",
        ) from None
