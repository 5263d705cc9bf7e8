"""Batch marking of a class folder: a markbook, feedback slips and a class report.

Files are marked in parallel (one process per core, each loading the model once, or on a
Dask cluster: see cluster.py) and results stream back in a stable order as small rows;
nothing holds every essay's full analysis. Every output is written to a temporary file and
renamed into place, so an interrupted run never leaves a half-written markbook.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from essay_marker.batch.files import discover, slip_name, slip_names
from essay_marker.batch.markbook import markbook_writer, previous_rows, record_to_row
from essay_marker.batch.marking import (
    Job,
    chunked,
    init_worker,
    mark_chunk,
    start_worker,
    write_slips,
)
from essay_marker.dataset import BATCH_INFO
from essay_marker.errors import InputError
from essay_marker.fsutil import atomic_write, clean_stale_temps
from essay_marker.readers import SUPPORTED
from essay_marker.records import BatchRow
from essay_marker.rubric import Rubric

# --------------------------------------------------------------------------- files


# --------------------------------------------------------------------------- marking


@dataclass
class BatchOutcome:
    """What a batch did: its rows (in markbook order) and where it wrote them."""

    rows: list[BatchRow]
    out_dir: Path
    reused: int = 0
    # Scripts whose slip name had to change so as not to replace another student's slip.
    renamed: dict[str, str] = field(default_factory=dict)

    @property
    def marked(self) -> int:
        """Scripts marked."""
        return sum(not r.error for r in self.rows)

    @property
    def failed(self) -> int:
        """Scripts that could not be marked."""
        return sum(bool(r.error) for r in self.rows)


def run_batch(
    folder: Path,
    out_dir: Path,
    rubric: Rubric,
    model_path: Path | None,
    *,
    pattern: str = "**/*",
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    hide_mark: bool = False,
    sources: tuple[str, ...] = (),
    on_json: Callable[[dict[str, Any]], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchOutcome:
    """Mark every essay in folder and write the markbook, slips and class report to out_dir.

    backend "local" marks in jobs processes here; "dask" reads the files here and marks them
    on the Dask cluster at scheduler (or a local one of jobs worker processes). Slips, the
    markbook and the report are written here either way.
    """
    from essay_marker.render.classreport import write_class_report

    if not folder.is_dir():
        raise InputError(
            f"{folder} is not a folder", "give the folder that holds the class's essays"
        )
    clean_stale_temps(out_dir)
    clean_stale_temps(out_dir / "feedback")
    files = discover(folder, pattern, exclude=out_dir)
    if not files:
        raise InputError(
            f"no essays ({', '.join(SUPPORTED)}) found in {folder}",
            "check the folder, or widen --glob",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = previous_rows(out_dir) if resume else {}
    todo: list[Job] = []
    kept: dict[str, BatchRow] = {}
    slips = slip_names([f.relative for f in files])
    for found in files:
        rel, slip = found.relative, slips[found.relative]
        old = previous.get(rel)
        if (
            old
            and not found.problem
            and not old.get("error")
            and old.get("sha256") == _sha256(found.path)
        ):
            kept[rel] = record_to_row(old, slip)
        else:
            todo.append(
                Job(
                    str(found.path),
                    rel,
                    str(out_dir),
                    hide_mark,
                    on_json is not None,
                    sources,
                    unreadable=found.problem,
                    slip=slip,
                )
            )
    total = len(files)
    if on_progress:
        on_progress(len(kept), total)
    marking = (
        _mark_on_cluster(todo, rubric, model_path, jobs, scheduler, out_dir)
        if backend == "dask"
        else _mark_all(todo, rubric, model_path, jobs)
    )
    ordered: list[BatchRow] = []
    done = len(kept)
    # Results come back in job order, the files' order less the kept ones, so each row goes
    # into the markbook as it arrives: the markbook is never built in memory here.
    with markbook_writer(rubric, out_dir, total) as add:
        for found in files:
            row = kept.get(found.relative)
            if row is None:
                row, record = next(marking)
                done += 1
                if on_json and record is not None:
                    on_json(record)
                if on_progress:
                    on_progress(done, total)
            add(row)
            ordered.append(row)
        for _ in marking:  # (nothing is left) ends the generator, which shuts its pool down
            pass
    # So that 'essaymark train --from-markbook' can find the scripts again.
    info = {"folder": str(folder.resolve()), "rubric": rubric.id}
    atomic_write(out_dir / BATCH_INFO, json.dumps(info, indent=2) + "\n")
    renamed = {rel: slip for rel, slip in slips.items() if slip != slip_name(rel)}
    write_class_report(
        ordered, rubric, out_dir / "class-report.html", hide_mark=hide_mark, renamed=renamed
    )
    return BatchOutcome(ordered, out_dir, reused=len(kept), renamed=renamed)


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _mark_all(
    todo: list[Job], rubric: Rubric, model_path: Path | None, jobs: int
) -> Iterator[tuple[BatchRow, dict[str, Any] | None]]:
    """Results in job order; a pool of processes when jobs > 1, else in this process."""
    args = (rubric.path or rubric.id, str(model_path) if model_path else None)
    chunks = chunked(todo, jobs)
    init_worker(*args)
    if jobs <= 1 or len(chunks) < 2:
        for chunk in chunks:
            yield from mark_chunk(chunk)
        return
    # Marking the first chunk here loads all that marking needs (the model, the word list,
    # the cue index and the per-word caches); workers forked after that start with it all.
    yield from mark_chunk(chunks[0])
    with ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=args) as pool:
        # map keeps submission order, so rows come back in the markbook's order.
        for rows in pool.map(mark_chunk, chunks[1:]):
            yield from rows


def _mark_on_cluster(
    todo: list[Job],
    rubric: Rubric,
    model_path: Path | None,
    workers: int,
    scheduler: str | None,
    out_dir: Path,
) -> Iterator[tuple[BatchRow, dict[str, Any] | None]]:
    """Results in job order from a Dask cluster; their slips are written here."""
    if not todo:  # nothing to mark (all unchanged): no need for a cluster
        return
    from essay_marker.batch.cluster import mark_on_cluster

    chunks = chunked(todo, workers)
    for marked in mark_on_cluster(chunks, rubric, model_path, scheduler, workers):
        write_slips(marked, out_dir)
        yield marked.row, marked.record
