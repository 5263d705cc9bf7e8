"""Batch marking of a class folder: a markbook, feedback slips and a class report.

Files are marked in parallel (one process per core, each loading the model once, or on a
Dask cluster: see cluster.py) and results stream back in a stable order as small rows;
nothing holds every essay's full analysis. Every output is written to a temporary file and
renamed into place, so an interrupted run never leaves a half-written markbook.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import stat
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from essay_marker.dataset import BATCH_INFO
from essay_marker.errors import EssaymarkError, InputError
from essay_marker.fsutil import atomic_file, atomic_write, cell_text, clean_stale_temps, text_cell
from essay_marker.readers import MAX_BYTES, SUPPORTED, text_from_bytes
from essay_marker.records import EXPLAINING, BatchRow, Status
from essay_marker.rubric import Rubric, find_rubric

MARKBOOK = "marks.csv"
_SLUG = re.compile(r"[^\w.-]+")


def columns(rubric: Rubric) -> list[str]:
    """The markbook's columns, in order."""
    return [
        "student",
        "file",
        "level",
        "mark",
        "spag",
        "confidence",
        "refer_to_teacher",
        "flags",
        "refer_reasons",
        "error",
        *(f"factor_{f.id}" for f in rubric.factors),
        "teacher_mark",
        "targets",
        "scorer",
        "sha256",
    ]


def row_to_record(row: BatchRow, rubric: Rubric) -> dict[str, Any]:
    """The markbook line for a row."""
    record: dict[str, Any] = {
        "student": row.student,
        "file": row.file,
        "level": "" if row.level is None else row.level,
        "mark": "" if row.mark is None else row.mark,
        "spag": "" if row.spag is None else row.spag,
        "confidence": "" if row.confidence is None else f"{row.confidence:.2f}",
        "refer_to_teacher": ""
        if row.refer_to_teacher is None
        else str(row.refer_to_teacher).lower(),
        "flags": ";".join(row.flags),
        "refer_reasons": " | ".join(row.refer_reasons),
        "error": row.error,
        "teacher_mark": "",
        "targets": ";".join(row.targets),
        "scorer": row.scorer,
        "sha256": row.sha256,
    }
    for f in rubric.factors:
        record[f"factor_{f.id}"] = row.factors.get(f.id, "")
    return record


def record_to_row(record: dict[str, str], slip: str = "") -> BatchRow:
    """A markbook line read back (for --resume)."""

    def num(key: str, kind: type) -> Any:
        value = record.get(key, "")
        return kind(value) if value not in ("", None) else None

    return BatchRow(
        student=record["student"],
        file=record["file"],
        slip=slip or slip_name(record["file"]),
        sha256=record.get("sha256", ""),
        level=num("level", int),
        mark=num("mark", int),
        spag=num("spag", int),
        confidence=num("confidence", float),
        refer_to_teacher={"true": True, "false": False}.get(record.get("refer_to_teacher", "")),
        flags=tuple(x for x in record.get("flags", "").split(";") if x),
        # So that a resumed run's class report gives each referral's reasons again.
        refer_reasons=tuple(x for x in record.get("refer_reasons", "").split(" | ") if x),
        error=record.get("error", ""),
        factors={k[7:]: v for k, v in record.items() if k.startswith("factor_") and v},
        targets=tuple(x for x in record.get("targets", "").split(";") if x),
        scorer=record.get("scorer", ""),
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class Found:
    """An entry of the class folder to mark, or to list with why it cannot be read."""

    path: Path
    relative: str
    problem: str = ""


def _pattern(glob: str) -> re.Pattern[str]:
    """A --glob pattern ('**/*', '*.docx', 'set2/**/*') as a regex on relative paths."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            close = glob.index("]", i + 2)
            out.append("[" + glob[i + 1 : close].replace("\\", "\\\\").replace("!", "^", 1) + "]")
            i = close + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _link_problem(path: Path, rel: str, inside: Path) -> str | None:
    """Why a symbolic link is not followed; "" for a link to an essay inside the folder, and
    None for a link to a folder inside it (its files are found where they really are)."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return f"{rel} is a link that loops back on itself"
    except OSError:
        return f"{rel} is a link to a file that does not exist"
    kind = "folder" if target.is_dir() else "file"
    if not target.is_relative_to(inside):
        return (
            f"{rel} is a link to a {kind} outside the class folder, so it was not read "
            f"(copy the {kind} into the folder)"
        )
    if kind == "folder":
        return None
    if not target.is_file():
        return f"{rel} is a link to something that is not a file"
    return ""


def discover(folder: Path, pattern: str = "**/*", exclude: Path | None = None) -> list[Found]:
    """Essay files under folder, sorted, and the entries that cannot be read, with why.

    Hidden files, Word lock files (~$…) and files of other types are skipped. Nothing
    outside the folder is read: links out of it, links that loop or lead nowhere, and pipes
    or devices become entries with a problem instead of stopping the batch.
    """
    inside = folder.resolve()
    skip = exclude.resolve() if exclude else None
    wanted = _pattern(pattern)
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for name in [*dirs, *files]:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith((".", "~$")) or not wanted.match(rel):
                continue
            if skip and path.absolute().is_relative_to(skip):
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue  # gone since it was listed
            if stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode):
                problem = _link_problem(path, rel, inside)
                if problem or (problem == "" and path.suffix.lower() in SUPPORTED):
                    found.append(Found(path, rel, problem))
            elif not stat.S_ISREG(mode):
                found.append(Found(path, rel, f"{rel} is not a regular file (a pipe or a device)"))
            elif path.suffix.lower() in SUPPORTED:
                found.append(Found(path, rel))
    return sorted(found, key=lambda f: f.relative)


# Names Windows will not use for a file, whatever the extension.
_RESERVED = frozenset(
    [
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    ]
)
_SLIP_CHARS = 100  # a slip name stays well inside every file system's name limit


def slip_name(relative: str) -> str:
    """A readable, file-name-safe slip name from a relative path (set2/Zoë B.docx -> set2__Zoë_B).

    Letters of every script are kept; anything else that is not a digit, '.', '-' or '_'
    becomes '_'.
    """
    relative = unicodedata.normalize("NFC", relative)
    stem = relative.rsplit(".", 1)[0] if "." in Path(relative).name else relative
    parts = []
    for part in stem.split("/"):
        part = _SLUG.sub("_", part).strip("_.") or "script"
        parts.append(part + "_" if part.casefold() in _RESERVED else part)
    return "__".join(parts)[:_SLIP_CHARS]


def slip_names(relatives: list[str]) -> dict[str, str]:
    """A slip name for every script, no two the same even on a file system that ignores case.

    A name that would repeat an earlier one gets the file's extension ('Bob-docx'), then a
    number ('Cara_Jones-2'), so one student's slip never replaces another's.
    """
    out: dict[str, str] = {}
    taken: dict[str, str] = {}  # name (case-folded) -> extension of the file that has it
    for rel in sorted(relatives):
        base = slip_name(rel)
        ext = Path(rel).suffix.lstrip(".").lower()
        name = base
        if name.casefold() in taken:
            # The extension tells Bob.txt from Bob.docx; a number tells the rest apart.
            if ext and taken[name.casefold()] != ext:
                name = f"{base}-{ext}"
            n = 2
            while name.casefold() in taken:
                name = f"{base}-{n}"
                n += 1
        taken[name.casefold()] = ext
        out[rel] = name
    return out


# --------------------------------------------------------------------------- marking

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


def _init_worker(rubric_path: str, model_path: str | None) -> None:
    from essay_marker.model import load_model

    if _worker.get("args") == (rubric_path, model_path):
        return  # loaded before this process was forked
    rubric = find_rubric(rubric_path)
    _worker["rubric"] = rubric
    _worker["scorer"] = load_model(model_path, rubric) if model_path else None
    _worker["args"] = (rubric_path, model_path)


def _start_worker(rubric_path: str, model_path: str | None) -> None:
    """A pool worker's first step: tie its life to the batch's, then load what marking needs."""
    _die_with_parent()
    _init_worker(rubric_path, model_path)


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


def targets_of(result: Any, rubric: Rubric) -> tuple[str, ...]:
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


def mark_files(jobs: list[Job], rubric: Rubric, scorer: Any) -> list[Marked]:
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
        try:
            results = score_essays(essays, rubric, scorer, first.hide_mark, first.sources)
        except Exception:  # one odd essay must not sink the chunk: mark them one by one
            results = [_score_alone(text, name, first, rubric, scorer) for text, name in essays]
        for (i, text, digest), result in zip(readable, results, strict=True):
            out[i] = _finish(jobs[i], text, digest, result, rubric)
    return [item for item in out if item is not None]


def _score_alone(text: str, name: str, job: Job, rubric: Rubric, scorer: Any) -> Any:
    from essay_marker.scoring import score_essay

    try:
        return score_essay(text, rubric, scorer, name, job.hide_mark, job.sources)
    except Exception as exc:  # a batch must carry on past anything one file does
        return exc


def _finish(job: Job, text: str, digest: str, result: Any, rubric: Rubric) -> Marked:
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


def _previous(out_dir: Path) -> dict[str, dict[str, str]]:
    path = out_dir / MARKBOOK
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [{k: cell_text(v or "") for k, v in r.items()} for r in csv.DictReader(fh)]
    return {r["file"]: r for r in rows if r.get("file")}


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
    previous = _previous(out_dir) if resume else {}
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
    _init_worker(*args)
    if jobs <= 1 or len(chunks) < 2:
        for chunk in chunks:
            yield from mark_chunk(chunk)
        return
    # Marking the first chunk here loads all that marking needs (the model, the word list,
    # the cue index and the per-word caches); workers forked after that start with it all.
    yield from mark_chunk(chunks[0])
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=args) as pool:
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


# Markbook columns the spreadsheet stores as numbers (as pandas' to_numeric read them).
_NUMERIC = frozenset({"level", "mark", "spag", "confidence"})


@contextmanager
def markbook_writer(
    rubric: Rubric, out_dir: Path, rows: int
) -> Iterator[Callable[[BatchRow], None]]:
    """Stream rows into marks.csv and marks.xlsx, which replace the old ones only at the end.

    rows is how many will be added (the spreadsheet states its size before its rows). The
    XLSX is openpyxl's write-only workbook, so memory stays flat however many rows.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    names = columns(rubric)
    with atomic_file(out_dir / MARKBOOK) as csv_file, atomic_file(out_dir / "marks.xlsx") as xlsx:
        text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="")
        writer = csv.DictWriter(text, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        book = Workbook(write_only=True)
        sheet = book.create_sheet("markbook")
        # A write-only sheet writes no <dimension> unless it can ask for one, as a normal sheet
        # does: give it, so the file is the one a normal (in-memory) workbook writes.
        ref = f"A1:{get_column_letter(len(names))}{rows + 1}"
        sheet.calculate_dimension = lambda: ref
        # A markbook a teacher can work in: the header stays in view, every column filters,
        # and columns are wide enough for what they hold.
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = ref
        for i, name in enumerate(names, 1):
            width = _WIDTHS.get(name, 14 if name.startswith("factor_") else 12)
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.append(names)

        def add(row: BatchRow) -> None:
            record = row_to_record(row, rubric)
            # File names and messages come from users: never a live formula in either file.
            writer.writerow({n: v if n in _NUMERIC else text_cell(v) for n, v in record.items()})
            sheet.append([_xlsx_cell(sheet, n, record[n]) for n in names])

        try:
            yield add
        except BaseException:
            sheet.close()  # ends openpyxl's row stream cleanly; it deletes its own file at exit
            raise
        text.flush()
        text.detach()  # csv_file stays open for atomic_file to flush and close
        book.save(xlsx)


_WIDTHS = {"student": 22, "file": 28, "flags": 18, "refer_reasons": 48, "error": 40}
_WIDTHS |= {"targets": 40, "scorer": 28, "sha256": 16, "refer_to_teacher": 10}


def _xlsx_cell(sheet: Any, name: str, value: Any) -> Any:
    """The spreadsheet's cell for a markbook value: numbers as numbers, yes/no as booleans,
    everything else as text."""
    if name in _NUMERIC:
        return "" if value == "" else float(value)
    if name == "refer_to_teacher" and value in ("true", "false"):
        return value == "true"
    return _text(sheet, value)


def _text(sheet: Any, value: str) -> Any:
    """A cell stored as text, whatever it starts with (openpyxl makes '=…' a formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
