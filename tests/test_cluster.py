"""batch/cluster.py in this process: setups, the worker task, and an in-process Dask cluster.

test_batch_dask.py runs whole batches on a cluster of worker processes and checks the
command line's errors; these tests check the pieces, each in a second or so.
"""

from __future__ import annotations

import logging
import pickle
import shutil
from dataclasses import replace
from types import SimpleNamespace

import pytest
from distributed import LocalCluster

from essay_marker.batch import cluster
from essay_marker.batch.marking import Job, mark_files
from essay_marker.errors import ClusterError, ModelError
from essay_marker.model import persist
from essay_marker.model.persist import bundled_model, bundled_model_path

from .conftest import EXAMPLES

NAMES = ["analytical-four-factors.txt", "off-topic-hitler.txt", "two-reasons-short.txt"]


@pytest.fixture(scope="module")
def model_path(rubric):
    return bundled_model_path(rubric)


@pytest.fixture(autouse=True)
def _fresh_worker_state(monkeypatch):
    """Each test starts as a new worker would: no model loaded yet."""
    monkeypatch.setattr(cluster, "_loaded", {})


def _jobs(tmp_path, names=NAMES, carry=True):
    """Jobs for copies of some examples; with carry, each holds its bytes (as sent to workers)."""
    jobs = []
    for name in names:
        path = tmp_path / "class" / name
        path.parent.mkdir(exist_ok=True)
        shutil.copy(EXAMPLES / name, path)
        job = Job(str(path), name, str(tmp_path / "out"), False, True)
        jobs.append(cluster.with_contents(job) if carry else job)
    return jobs


def _rows(marked):
    return [(m.row, m.record, m.slips) for m in marked]


@pytest.fixture
def in_process():
    """A Dask cluster of one worker thread in this process (inproc://): up in milliseconds."""
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


# ------------------------------------------------------------------------------- setups


def test_a_setup_for_the_rules_carries_no_model(rubric):
    setup = cluster.make_setup(rubric, None)
    assert setup.rubric is rubric and setup.model is None and setup.card is None
    assert setup.key.startswith(f"{rubric.id}:{rubric.sha256}:")
    assert cluster.make_setup(rubric, None).key == setup.key


def test_a_setup_carries_the_model_and_its_card_as_bytes(rubric, model_path, tmp_path):
    setup = cluster.make_setup(rubric, model_path)
    assert setup.model == model_path.read_bytes()
    assert setup.card == model_path.with_suffix(".json").read_bytes()
    assert cluster.make_setup(rubric, model_path).key == setup.key
    assert setup.key != cluster.make_setup(rubric, None).key
    # Workers keep a model by its key: another file, or the same without its card, is another.
    alone = tmp_path / "alone.skops"
    shutil.copy(model_path, alone)
    without_card = cluster.make_setup(rubric, alone)
    assert without_card.card is None and without_card.model == setup.model
    assert without_card.key != setup.key
    alone.write_bytes(setup.model + b"\0")
    assert cluster.make_setup(rubric, alone).key not in (setup.key, without_card.key)


def test_setup_keys_differ_between_rubrics_and_their_versions(rubric):
    keys = {
        cluster.make_setup(rb, None).key
        for rb in (rubric, replace(rubric, id="another-question"), replace(rubric, sha256="0" * 64))
    }
    assert len(keys) == 3


def test_a_setup_survives_the_trip_to_a_worker(rubric, model_path):
    setup = cluster.make_setup(rubric, model_path)
    assert pickle.loads(pickle.dumps(setup)) == setup


# ------------------------------------------------------------------------ the worker task


@pytest.mark.parametrize("scorer", ["rules", "model"])
def test_mark_remote_marks_as_the_local_backend_does(scorer, rubric, model_path, tmp_path):
    path = model_path if scorer == "model" else None
    jobs = _jobs(tmp_path)
    here = mark_files(jobs, rubric, bundled_model(rubric) if path else None)
    there = cluster.mark_remote(jobs, cluster.make_setup(rubric, path))
    assert _rows(there) == _rows(here)
    assert [m.row.scorer.split(":")[0] for m in there] == [scorer] * len(NAMES)
    assert all(m.row.mark is not None and m.slips for m in there)


def test_mark_remote_needs_only_the_bytes_it_is_sent(rubric, tmp_path):
    jobs = _jobs(tmp_path)
    shutil.rmtree(tmp_path / "class")  # the worker's disk has no such files
    marked = cluster.mark_remote(jobs, cluster.make_setup(rubric, None))
    assert [m.row.file for m in marked] == NAMES and not any(m.row.error for m in marked)
    assert not (tmp_path / "out").exists()  # slips come back; the caller writes them


def test_mark_remote_turns_unreadable_files_into_error_rows(rubric, tmp_path):
    jobs = [
        *_jobs(tmp_path, NAMES[:1]),
        Job("/x/empty.txt", "empty.txt", "/x", False, True, data=b""),
        Job("/x/gone.txt", "gone.txt", "/x", False, True, unreadable="gone.txt cannot be read"),
    ]
    marked = cluster.mark_remote(jobs, cluster.make_setup(rubric, None))
    assert [bool(m.row.error) for m in marked] == [False, True, True]
    assert marked[2].row.error == "gone.txt cannot be read"
    assert marked[2].record == {"input": "gone.txt", "error": "gone.txt cannot be read"}
    assert marked[1].slips == marked[2].slips == ()


def test_a_worker_loads_each_model_once_and_one_at_a_time(
    rubric, model_path, tmp_path, monkeypatch
):
    loads = []
    real = persist.load_model

    def counting(path, rb):
        loads.append(path)
        return real(path, rb)

    monkeypatch.setattr(persist, "load_model", counting)
    jobs = _jobs(tmp_path, NAMES[:1])
    model, rules = cluster.make_setup(rubric, model_path), cluster.make_setup(rubric, None)
    for _ in range(3):
        cluster.mark_remote(jobs, model)
    assert len(loads) == 1
    cluster.mark_remote(jobs, rules)  # the rules need no model file
    cluster.mark_remote(jobs, model)  # but the model was let go, so it loads again
    assert len(loads) == 2


def test_a_damaged_model_is_a_model_error_on_the_worker(rubric, tmp_path):
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="is not a skops model file"):
        cluster.mark_remote(_jobs(tmp_path, NAMES[:1]), cluster.make_setup(rubric, bad))


# ----------------------------------------------------------------- on an in-process cluster


def test_results_come_back_in_chunk_order_reading_only_a_few_chunks_ahead(
    rubric, tmp_path, in_process, monkeypatch
):
    jobs = _jobs(tmp_path, NAMES * 4, carry=False)
    chunks = [[job] for job in jobs]
    read: list[str] = []
    real = cluster.with_contents

    def reading(job):
        read.append(job.relative)
        return real(job)

    monkeypatch.setattr(cluster, "with_contents", reading)
    out = cluster.mark_on_cluster(chunks, rubric, None, in_process.scheduler_address, 1)
    first = next(out)
    # One worker thread: two chunks in flight, so the folder is not all held in memory.
    assert len(read) <= 3 < len(chunks)
    marked = [first, *out]
    assert [m.row.file for m in marked] == [job.relative for job in jobs]
    assert _rows(marked) == _rows(mark_files(jobs, rubric, None))


def test_a_damaged_model_stops_the_batch_with_its_own_error(rubric, tmp_path, in_process):
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip file")
    chunks = [_jobs(tmp_path, NAMES[:1], carry=False)]
    with pytest.raises(ModelError, match="is not a skops model file"):
        list(cluster.mark_on_cluster(chunks, rubric, bad, in_process.scheduler_address, 1))


def test_a_worker_failing_is_one_cluster_error(rubric, tmp_path, in_process, monkeypatch):
    def crash(jobs, rubric, scorer):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(cluster, "mark_files", crash)
    chunks = [_jobs(tmp_path, NAMES[:1], carry=False)]
    with pytest.raises(ClusterError) as caught:
        list(cluster.mark_on_cluster(chunks, rubric, None, in_process.scheduler_address, 1))
    assert str(caught.value).startswith("the Dask cluster stopped marking (RuntimeError)")
    assert caught.value.hint == "check the workers, then run the batch again"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_no_chunks_no_results(rubric, in_process):
    assert list(cluster.mark_on_cluster([], rubric, None, in_process.scheduler_address, 1)) == []


# --------------------------------------------------------------------------- connecting


def test_a_scheduler_without_workers_is_refused(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.5)
    with (
        LocalCluster(
            n_workers=0, processes=False, dashboard_address=None, silence_logs=logging.ERROR
        ) as empty,
        pytest.raises(ClusterError) as caught,
        cluster.connect(empty.scheduler_address, 1),
    ):
        pass
    assert caught.value.message == f"the Dask scheduler at {empty.scheduler_address} has no workers"
    assert f"dask worker {empty.scheduler_address}" in caught.value.hint


def test_a_worker_with_another_essaymark_version_is_refused(in_process, monkeypatch):
    from importlib import metadata

    fake = SimpleNamespace(
        version=lambda name: "0.0.0-other", PackageNotFoundError=metadata.PackageNotFoundError
    )
    monkeypatch.setattr(cluster, "metadata", fake)  # this machine's version, not the worker's
    theirs = metadata.version("essaymark")
    with pytest.raises(ClusterError) as caught, cluster.connect(in_process.scheduler_address, 1):
        pass
    (worker,) = in_process.scheduler_info["workers"]
    assert caught.value.message == (
        f"Dask worker {worker} has essaymark {theirs}, this machine 0.0.0-other"
    )
    assert "same essaymark version" in caught.value.hint


def test_connect_to_a_running_scheduler_gives_its_workers(in_process):
    with cluster.connect(in_process.scheduler_address, 1) as client:
        assert client.scheduler.address == in_process.scheduler_address
        assert list(client.nthreads().values()) == [1]
    assert client.status == "closed"


def test_no_scheduler_starts_a_local_cluster_of_one_thread_per_worker():
    with cluster.connect(None, 2) as client:
        threads = client.nthreads()
        assert sorted(threads.values()) == [1, 1]
        assert all(a.startswith("tcp://") for a in threads)  # worker processes, not threads
    assert client.status == "closed"


def test_an_address_dask_cannot_speak_to_fails_at_once(monkeypatch):
    # (A refused port and an address with no port: test_batch_dask, through the command.)
    address = "ftp://127.0.0.1:8786"
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ClusterError) as caught, cluster.connect(address, 1):
        pass
    assert caught.value.message.startswith(f"cannot reach a Dask scheduler at {address}: ")
    assert "tcp://10.0.0.5:8786" in caught.value.hint
