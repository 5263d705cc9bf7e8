"""Marked scripts for training: a folder of essays, a marks CSV and optional sentence labels."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from essay_marker.errors import DataError, InputError
from essay_marker.fsutil import cell_text
from essay_marker.readers import SUPPORTED, text_from_bytes
from essay_marker.records import Role
from essay_marker.rubric import Rubric, bundled_dirs

ROLES = tuple(Role)
MIN_SCRIPTS = 20  # cross-validation holds out a fifth at a time: fewer leaves too few to fit
BATCH_INFO = ".essaymark-batch.json"  # written beside a markbook: where its scripts are
_SHOW = 5  # problems listed in one error message


@dataclass(frozen=True)
class Script:
    """One marked script."""

    file: str
    text: str
    mark: int
    spag: int | None


@dataclass(frozen=True)
class Annotation:
    """A sentence of a script labelled with a factor and what it does for it."""

    file: str
    start: int
    end: int
    factor: str
    role: str


@dataclass(frozen=True)
class MarkedSet:
    """Scripts with marks, their sentence annotations, and a hash of all of it."""

    scripts: tuple[Script, ...]
    annotations: tuple[Annotation, ...]
    sha256: str

    @property
    def marks(self) -> list[int]:
        """Marks in script order."""
        return [s.mark for s in self.scripts]


def _problems(kind: str, items: list[str], hint: str) -> DataError:
    shown = "; ".join(items[:_SHOW]) + (
        f"; and {len(items) - _SHOW} more" if len(items) > _SHOW else ""
    )
    return DataError(f"{kind}: {shown}", hint)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"{path} does not exist", "check the path to the marks file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(
            f"{path} is not a readable CSV file ({exc.__class__.__name__})",
            "save it as CSV (comma-separated) with a header row",
        ) from None


def read_markbook_table(path: Path) -> pd.DataFrame:
    """A markbook (marks.csv or the marks.xlsx that batch writes, or a copy a teacher saved
    from either) as text cells, the spreadsheet guard taken off the names."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            table = pd.read_excel(path, dtype=str).fillna("")
        except FileNotFoundError:
            raise DataError(f"{path} does not exist", "check the path to the markbook") from None
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise DataError(
                f"{path} is not a readable spreadsheet ({exc.__class__.__name__})",
                "open it and save it again as .xlsx, or give the marks.csv",
            ) from None
        # Spreadsheets store whole marks as numbers: 7.0 is the teacher's 7.
        table = table.map(lambda v: v[:-2] if v.endswith(".0") and v[:-2].isdigit() else v)
    else:
        table = _read_csv(path)
    for column in ("student", "file", "error"):
        if column in table.columns:
            table[column] = table[column].map(cell_text)
    return table


MODERATION_SHEET = "moderation"  # moderation.csv / .xlsx that `moderate` writes by a markbook


def moderation_marks(markbook: pd.DataFrame, folder: Path) -> dict[str, int]:
    """Teacher marks by file: the markbook's teacher_mark, then those in the moderation
    sheets beside it (moderation.csv and .xlsx, the later-saved winning)."""
    tables = [markbook]
    sheets = [folder / f"{MODERATION_SHEET}{ext}" for ext in (".csv", ".xlsx")]
    sheets = sorted((p for p in sheets if p.is_file()), key=lambda p: p.stat().st_mtime)
    tables += [read_markbook_table(p) for p in sheets]
    found: dict[str, int] = {}
    for table in tables:
        if "teacher_mark" not in table.columns or "file" not in table.columns:
            continue
        for file, raw in zip(table.file, table.teacher_mark, strict=True):
            mark = _whole(str(raw))
            if mark is not None:
                found[str(file)] = mark
    return found


def _whole(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def load_marked(
    scripts_dir: str | Path,
    marks_csv: str | Path,
    rubric: Rubric,
    sentences_csv: str | Path | None = None,
) -> MarkedSet:
    """Read and check marked scripts; raise DataError listing what is wrong and how to fix it."""
    folder, marks_path = Path(scripts_dir), Path(marks_csv)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder", "give the folder that holds the scripts")
    table = _read_csv(marks_path)
    missing_cols = [c for c in ("file", "mark") if c not in table.columns]
    if missing_cols:
        raise DataError(
            f"{marks_path} has no {' or '.join(missing_cols)} column",
            f"its header must include file,mark (found: {', '.join(table.columns)})",
        )
    problems: list[str] = []
    dupes = sorted(set(table.file[table.file.duplicated()]))
    if dupes:
        raise _problems(
            f"{marks_path}: files listed more than once", dupes, "keep one row per script"
        )
    scripts, digest = [], hashlib.sha256(marks_path.read_bytes())
    for row in table.itertuples(index=False):
        name = str(row.file).strip()
        mark = _whole(str(row.mark))
        if mark is None or not 0 <= mark <= rubric.max_mark:
            problems.append(f"{name}: mark {row.mark!r} is not a whole number 0-{rubric.max_mark}")
            continue
        spag = None
        raw_spag = str(getattr(row, "spag", "")).strip()
        if raw_spag:
            spag = _whole(raw_spag)
            if spag is None or not 0 <= spag <= rubric.spag_max:
                problems.append(f"{name}: spag {raw_spag!r} is not 0-{rubric.spag_max}")
                continue
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: no such file in {folder}")
            continue
        data = path.read_bytes()
        digest.update(name.encode() + b"\0" + data)
        try:
            text = text_from_bytes(data, name, path.suffix)
        except InputError as exc:
            # A blank script marked 0 is real data from a real class, not an error.
            if "is empty" in exc.message and path.suffix.lower() in SUPPORTED:
                text = ""
            else:
                problems.append(str(exc))
                continue
        scripts.append(Script(name, text, mark, spag))
    if problems:
        raise _problems(
            f"{marks_path}: {len(problems)} problem(s)",
            problems,
            "fix these rows or files and run again",
        )
    annotations = _annotations(folder, marks_path, sentences_csv, rubric, {s.file for s in scripts})
    if annotations:
        digest.update(Path(sentences_csv or marks_path.with_name("sentences.csv")).read_bytes())
    return MarkedSet(tuple(scripts), annotations, digest.hexdigest())


def _annotations(
    folder: Path,
    marks_path: Path,
    sentences_csv: str | Path | None,
    rubric: Rubric,
    files: set[str],
) -> tuple[Annotation, ...]:
    path = Path(sentences_csv) if sentences_csv else marks_path.with_name("sentences.csv")
    if not path.is_file():
        if sentences_csv:
            raise DataError(f"{path} does not exist", "check the path to the sentence labels")
        return ()
    table = _read_csv(path)
    need = ["file", "start", "end", "factor", "role"]
    if [c for c in need if c not in table.columns]:
        raise DataError(f"{path} must have the columns {','.join(need)}")
    known = {f.id for f in rubric.factors}
    out, problems = [], []
    for row in table.itertuples(index=False):
        start, end = _whole(row.start), _whole(row.end)
        if row.file not in files:
            problems.append(f"{row.file}: not in the marks file")
        elif row.factor not in known:
            problems.append(f"{row.file}: unknown factor {row.factor!r}")
        elif row.role not in ROLES:
            problems.append(f"{row.file}: role {row.role!r} is not one of {', '.join(ROLES)}")
        elif start is None or end is None or not 0 <= start < end:
            problems.append(f"{row.file}: bad offsets {row.start}-{row.end}")
        else:
            out.append(Annotation(row.file, start, end, row.factor, row.role))
    if problems:
        raise _problems(f"{path}: {len(problems)} problem(s)", problems, "fix these rows")
    return tuple(out)


def _build(
    rows: list[tuple[str, str, str, str]], rubric: Rubric, origin: str, digest: hashlib._Hash
) -> MarkedSet:
    """Scripts from (name, text, mark, spag) strings, checked like a marks file."""
    problems, scripts, seen = [], [], set()
    for name, text, raw_mark, raw_spag in rows:
        mark = _whole(raw_mark)
        if name in seen:
            problems.append(f"{name}: listed more than once")
            continue
        seen.add(name)
        if mark is None or not 0 <= mark <= rubric.max_mark:
            problems.append(f"{name}: mark {raw_mark!r} is not a whole number 0-{rubric.max_mark}")
            continue
        spag = _whole(raw_spag) if raw_spag.strip() else None
        if raw_spag.strip() and (spag is None or not 0 <= spag <= rubric.spag_max):
            problems.append(f"{name}: spag {raw_spag!r} is not 0-{rubric.spag_max}")
            continue
        digest.update(name.encode() + b"\0" + text.encode("utf-8") + raw_mark.encode())
        scripts.append(Script(name, text, mark, spag))
    if problems:
        raise _problems(f"{origin}: {len(problems)} problem(s)", problems, "fix these rows")
    return MarkedSet(tuple(scripts), (), digest.hexdigest())


def load_table(
    path: str | Path,
    rubric: Rubric,
    text_col: str,
    mark_col: str,
    spag_col: str | None = None,
    id_col: str | None = None,
) -> MarkedSet:
    """Marked scripts from one CSV/TSV that holds the texts themselves."""
    path = Path(path)
    table = _read_csv(path)
    wanted = [c for c in (text_col, mark_col, spag_col, id_col) if c]
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise DataError(
            f"{path} has no column {', '.join(missing)}",
            f"its columns are: {', '.join(table.columns)}",
        )
    rows = []
    for i, row in enumerate(table.to_dict("records"), 1):
        name = str(row[id_col]) if id_col else f"row {i}"
        rows.append(
            (name, str(row[text_col]), str(row[mark_col]), str(row[spag_col]) if spag_col else "")
        )
    return _build(rows, rubric, str(path), hashlib.sha256(path.read_bytes()))


def load_markbook(
    path: str | Path, rubric: Rubric, scripts_dir: str | Path | None = None
) -> MarkedSet:
    """The scripts a teacher marked in a batch markbook's teacher_mark column."""
    import json

    path = Path(path)
    table = read_markbook_table(path)
    if "teacher_mark" not in table.columns or "file" not in table.columns:
        raise DataError(
            f"{path} is not an essaymark markbook (no file/teacher_mark columns)",
            "give the marks.csv or marks.xlsx that 'essaymark batch' wrote",
        )
    folder = Path(scripts_dir) if scripts_dir else None
    info = path.with_name(BATCH_INFO)
    if folder is None and info.is_file():
        folder = Path(json.loads(info.read_text(encoding="utf-8"))["folder"])
    if folder is None or not folder.is_dir():
        raise DataError(
            f"cannot find the scripts marked in {path}", "give their folder with --scripts"
        )
    # Marks entered in the moderation sheet count as much as those in the markbook.
    marks = moderation_marks(table, path.parent)
    if not marks:
        raise DataError(
            f"{path} has no teacher marks yet",
            "fill the teacher_mark column for the scripts you have marked",
        )
    rows = []
    for name, teacher_mark in marks.items():
        file = folder / name
        if not file.resolve().is_relative_to(folder.resolve()) or not file.is_file():
            raise DataError(
                f"{name} is in the markbook but not in {folder}",
                "give the folder the batch read with --scripts",
            )
        try:
            text = text_from_bytes(file.read_bytes(), name, file.suffix)
        except InputError as exc:
            if "is empty" not in exc.message:
                raise DataError(str(exc)) from None
            text = ""
        rows.append((name, text, str(teacher_mark), ""))
    return _build(rows, rubric, str(path), hashlib.sha256(path.read_bytes()))


def check_trainable(marked: MarkedSet, rubric: Rubric) -> list[str]:
    """Refuse too few scripts; warn about levels with no examples."""
    n = len(marked.scripts)
    if n < MIN_SCRIPTS:
        raise DataError(
            f"only {n} marked scripts; training needs at least {MIN_SCRIPTS}",
            "cross-validation holds out a fifth of the scripts at a time, and each "
            "part needs enough marked scripts to learn from and to check against",
        )
    levels = {rubric.level_for(m).level for m in marked.marks}
    return [
        f"no scripts at Level {lv.level} ({lv.low}-{lv.high}): the model will rarely give it"
        for lv in rubric.levels
        if lv.level not in levels
    ]


def corpus_dirs() -> list[Path]:
    """Where bundled marked corpora live."""
    return bundled_dirs("corpus")


def base_corpus(rubric: Rubric) -> MarkedSet | None:
    """The marked corpus shipped for this rubric (by id), or None when there is none."""
    for d in corpus_dirs():
        folder = d / rubric.id
        if (folder / "marks.csv").is_file():
            return load_marked(folder, folder / "marks.csv", rubric)
    return None
