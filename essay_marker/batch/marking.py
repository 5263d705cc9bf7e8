"""Marking files in a worker: jobs in, markbook rows and slips out."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from essay_marker.batch.files import slip_name
from essay_marker.errors import EssaymarkError
from essay_marker.fsutil import atomic_write
from essay_marker.readers import MAX_BYTES, text_from_bytes
from essay_marker.records import EXPLAINING, BatchRow, Status
from essay_marker.rubric import Rubric, find_rubric

if TYPE_CHECKING:
    from essay_marker.records import EssayResult
    from essay_marker.scoring import Scorer

_worker: dict[str, Any] = {}


def _die_with_parent() -> None:
    """End this worker when the batch that started it ends, however it ends (SIGKILL too).

    Without this, workers of a killed batch went on marking for minutes, writing slips that
    no longer matched any markbook.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            # prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills us when the parent dies.
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        else:
            if os.getppid() != parent:  # the parent died before the call
                os._exit(1)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="essaymark-parent-watch", daemon=True).start()


def init_worker(rubric_path: str, model_path: str | None) -> None:
    from essay_marker.model.persist import load_model

    if _worker.get("args") == (rubric_path, model_path):
        return  # loaded before this process was forked
    rubric = find_rubric(rubric_path)
    _worker["rubric"] = rubric
    _worker["scorer"] = load_model(model_path, rubric) if model_path else None
    _worker["args"] = (rubric_path, model_path)


def start_worker(rubric_path: str, model_path: str | None) -> None:
    """A pool worker's first step: tie its life to the batch's, then load what marking needs."""
    _die_with_parent()
    init_worker(rubric_path, model_path)


@dataclass(frozen=True)
class Job:
    """One file to mark."""

    path: str
    relative: str
    out_dir: str
    hide_mark: bool
    want_json: bool
    sources: tuple[str, ...] = ()
    data: bytes | None = None  # the file's bytes, when read before the job is sent elsewhere
    unreadable: str = ""  # why the file could not be read, when it could not
    slip: str = ""  # the slip's file name (without extension); slip_name() when not given
    size: int | None = None  # the file's size in bytes, when it was read

    @property
    def slip_stem(self) -> str:
        """The name this script's slips are written under."""
        return self.slip or slip_name(self.relative)


def with_contents(job: Job) -> Job:
    """The job carrying its file's bytes (or why they cannot be read), to mark anywhere.

    Opened without waiting (a pipe put in place of a file is refused, not waited on) and
    read only up to the size cap, whatever the file's real size.
    """
    try:
        fd = os.open(job.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return replace(job, unreadable=f"{job.relative} is not a regular file")
            return replace(job, data=fh.read(MAX_BYTES + 1), size=info.st_size)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return replace(job, unreadable=f"{job.relative} cannot be read ({reason})")


@dataclass(frozen=True)
class Marked:
    """One file marked: its markbook row, its JSON record and its slips (file name, text)."""

    row: BatchRow
    record: dict[str, Any] | None
    slips: tuple[tuple[str, str], ...] = ()


def write_slips(marked: Marked, out_dir: Path) -> None:
    """Write a file's slips into out_dir/feedback (a rerun rewrites them, so not durable)."""
    for name, text in marked.slips:
        atomic_write(out_dir / "feedback" / name, text, durable=False)


def targets_of(result: EssayResult, rubric: Rubric) -> tuple[str, ...]:
    """What the class report counts: the next steps this script needs, as stable ids."""
    out = []
    for f in result.factors:
        if f.named and f.status == Status.ABSENT:
            out.append(f"missing:{f.id}")
        elif f.named and f.status == Status.MENTIONED:
            out.append(f"explain:{f.id}")
    j = result.judgement
    if not j.present:
        out.append("judgement:none")
    elif j.consistent is False:
        out.append("judgement:inconsistent")
    elif not j.supported:
        out.append("judgement:unsupported")
    explained = [f for f in result.factors if f.status in EXPLAINING]
    if len(explained) >= 2 and not any(f.status == Status.WEIGHED for f in explained):
        out.append("link")
    out += [f"fact:{m.id}" for m in result.misconceptions]
    return tuple(out)


# Essays marked per call: the models predict for a chunk at once, and each call has a fixed
# cost (about 1 ms an essay less at 64 than at 16), and a worker sends its rows back per chunk.
CHUNK = 64


def chunked(todo: list[Job], workers: int) -> list[list[Job]]:
    """The jobs in order, in chunks of up to CHUNK, small enough to give every worker some."""
    size = max(1, min(CHUNK, -(-len(todo) // max(1, workers))))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def mark_chunk(jobs: list[Job]) -> list[tuple[BatchRow, dict[str, Any] | None]]:
    """Mark some files in a local worker, write their slips, return rows (and JSON)."""
    out = []
    for marked in mark_files(jobs, _worker["rubric"], _worker["scorer"]):
        write_slips(marked, Path(jobs[0].out_dir))
        out.append((marked.row, marked.record))
    return out


def mark_files(jobs: list[Job], rubric: Rubric, scorer: Scorer | None) -> list[Marked]:
    """Mark some files (read here unless the jobs carry their bytes); writes nothing."""
    from essay_marker.scoring import score_essays

    # A new list: the caller's jobs must not keep every file's bytes alive.
    jobs = [j if j.data is not None or j.unreadable else with_contents(j) for j in jobs]
    out: list[Marked | None] = [None] * len(jobs)
    readable: list[tuple[int, str, str]] = []  # (position, text, sha256)
    for i, job in enumerate(jobs):
        student, slip = Path(job.path).stem, job.slip_stem
        if job.data is None:
            out[i] = _failed(job, BatchRow(student, job.relative, slip, "", error=job.unreadable))
            continue
        digest = hashlib.sha256(job.data).hexdigest()
        try:
            text = text_from_bytes(job.data, job.relative, Path(job.path).suffix, job.size)
        except EssaymarkError as exc:
            out[i] = _failed(job, BatchRow(student, job.relative, slip, digest, error=str(exc)))
            continue
        readable.append((i, text, digest))
    if readable:
        first = jobs[readable[0][0]]
        essays = [(text, jobs[i].relative) for i, text, _ in readable]
        results: list[EssayResult] | list[EssayResult | Exception]
        try:
            results = score_essays(essays, rubric, scorer, first.hide_mark, first.sources)
        except Exception:  # one odd essay must not sink the chunk: mark them one by one
            results = [_score_alone(text, name, first, rubric, scorer) for text, name in essays]
        for (i, text, digest), result in zip(readable, results, strict=True):
            out[i] = _finish(jobs[i], text, digest, result, rubric)
    return [item for item in out if item is not None]


def _score_alone(
    text: str, name: str, job: Job, rubric: Rubric, scorer: Scorer | None
) -> EssayResult | Exception:
    from essay_marker.scoring import score_essay

    try:
        return score_essay(text, rubric, scorer, name, job.hide_mark, job.sources)
    except Exception as exc:  # a batch must carry on past anything one file does
        return exc


def _finish(
    job: Job, text: str, digest: str, result: EssayResult | Exception, rubric: Rubric
) -> Marked:
    """One script's slips and markbook row."""
    from essay_marker.render.report import result_to_dict, to_html_slip, to_markdown

    slip = job.slip_stem
    student = Path(job.path).stem
    if isinstance(result, Exception):
        message = f"{job.relative} could not be marked ({result.__class__.__name__})"
        return _failed(job, BatchRow(student, job.relative, slip, digest, error=message))
    slips = (
        (f"{slip}.html", to_html_slip(result, text, student, job.hide_mark)),
        (f"{slip}.md", to_markdown(result, job.hide_mark, title=student)),
    )
    row = BatchRow(
        student=student,
        file=job.relative,
        slip=slip,
        sha256=digest,
        level=result.level,
        mark=result.mark,
        spag=result.spag.mark,
        confidence=result.confidence,
        refer_to_teacher=result.refer_to_teacher,
        flags=tuple(f.id for f in result.flags),
        refer_reasons=result.refer_reasons,
        factors={f.id: f.status for f in result.factors},
        targets=targets_of(result, rubric),
        scorer=result.scorer,
    )
    record = result_to_dict(result, job.hide_mark) if job.want_json else None
    return Marked(row, record, slips)


def _failed(job: Job, row: BatchRow) -> Marked:
    """A file that could not be marked: its error row (and JSON record), no slips."""
    return Marked(row, {"input": job.relative, "error": row.error} if job.want_json else None)
