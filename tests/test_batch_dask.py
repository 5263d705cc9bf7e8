"""The Dask backend: the same outputs as the local one, and one clear line when it cannot run."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from essay_marker.batch import cluster
from essay_marker.batch.run import run_batch
from essay_marker.cli import app
from essay_marker.model.persist import bundled_model_path

from .conftest import EXAMPLES
from .test_batch import BAD, CLASS

runner = CliRunner()


@pytest.fixture(scope="module")
def scheduler():
    # Worker processes, as on a real cluster: jobs, rubric and model cross a process boundary.
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local.scheduler_address


def test_dask_backend_writes_what_the_local_backend_writes(scheduler, tmp_path, rubric):
    model = bundled_model_path(rubric)
    records: dict[str, list[dict]] = {"local": [], "dask": []}
    for backend in records:
        outcome = run_batch(
            CLASS,
            tmp_path / backend,
            rubric,
            model,
            jobs=1,
            backend=backend,
            scheduler=scheduler if backend == "dask" else None,
            on_json=records[backend].append,
        )
        assert outcome.failed == len(BAD)
    assert json.dumps(records["dask"]) == json.dumps(records["local"])
    local = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*"))
    dask = sorted(p.relative_to(tmp_path / "dask") for p in (tmp_path / "dask").rglob("*"))
    assert dask == local and len(local) > 10
    for rel in local:
        a, b = tmp_path / "local" / rel, tmp_path / "dask" / rel
        if rel.suffix == ".xlsx":  # holds its creation time: compare the table
            assert pd.read_excel(a).equals(pd.read_excel(b))
        elif a.is_file():
            assert a.read_bytes() == b.read_bytes(), rel


def test_resume_on_dask_marks_only_what_changed(scheduler, tmp_path, rubric):
    out = tmp_path / "out"
    first = run_batch(CLASS, out, rubric, None, jobs=1)
    before = (out / "marks.csv").read_bytes()
    again = run_batch(CLASS, out, rubric, None, backend="dask", scheduler=scheduler, resume=True)
    assert again.reused == first.marked and again.failed == len(BAD)  # bad files are retried
    assert (out / "marks.csv").read_bytes() == before


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "no-port-here"])
def test_unreachable_scheduler_is_one_line(address, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    r = runner.invoke(
        app,
        ["batch", str(CLASS), "-o", str(tmp_path / "o"), "--backend", "dask",
         "--scheduler", address],
    )  # fmt: skip
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"error: cannot reach a Dask scheduler at {address}")
    assert "Traceback" not in r.output + r.stderr


def test_scheduler_without_dask_backend_is_refused(tmp_path):
    r = runner.invoke(
        app, ["batch", str(CLASS), "-o", str(tmp_path / "o"), "--scheduler", "tcp://h:8786"]
    )
    assert r.exit_code == 2 and "--scheduler needs --backend dask" in r.stderr


def test_missing_dask_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    r = runner.invoke(app, ["batch", str(CLASS), "-o", str(tmp_path / "o"), "--backend", "dask"])
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1, r.stderr
    assert "not installed" in lines[0] and "pip install 'essaymark[dask]'" in lines[0]


def test_check_and_local_batch_never_import_the_dask_backend(tmp_path):
    # Only essaymark's own imports are checked: with dask installed, importing skops.io
    # imports dask.array anyway (sklearn's all_estimators walks its array-API shims).
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "amy.txt").write_text((CLASS / "e19-osian.txt").read_text(encoding="utf-8"))
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from essay_marker.cli import app\n"
        f"assert CliRunner().invoke(app, ['check', {str(EXAMPLES / 'two-reasons-short.txt')!r}])"
        ".exit_code == 0\n"
        f"assert CliRunner().invoke(app, ['batch', {str(folder)!r}, '-j', '1']).exit_code == 0\n"
        "print([m for m in sys.modules if m.startswith(('distributed', 'essay_marker.batch.cluster'))])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
