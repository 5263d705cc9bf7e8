"""The markbook: a row per script, written as CSV and XLSX as rows arrive, read back."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from essay_marker.batch.files import slip_name
from essay_marker.fsutil import atomic_file, cell_text, text_cell
from essay_marker.records import BatchRow
from essay_marker.rubric import Rubric

MARKBOOK = "marks.csv"


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


def previous_rows(out_dir: Path) -> dict[str, dict[str, str]]:
    path = out_dir / MARKBOOK
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [{k: cell_text(v or "") for k, v in r.items()} for r in csv.DictReader(fh)]
    return {r["file"]: r for r in rows if r.get("file")}


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
            width = WIDTHS.get(name, 14 if name.startswith("factor_") else 12)
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


WIDTHS = {
    "student": 22,
    "file": 28,
    "flags": 18,
    "refer_reasons": 48,
    "error": 40,
    "targets": 40,
    "scorer": 28,
    "sha256": 16,
    "refer_to_teacher": 10,
}


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
