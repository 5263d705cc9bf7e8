"""The class report: one self-contained HTML page a teacher can open, print or share."""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from essay_marker.records import Status
from essay_marker.rubric import Rubric

if TYPE_CHECKING:
    from essay_marker.records import BatchRow

_SHORT = {Status.ABSENT: "–", Status.MENTIONED: "D", Status.EXPLAINED: "E", Status.WEIGHED: "W"}


def _whole_numbers(ax: Any) -> None:
    """Counts on the y axis: ticks at whole numbers only (the default locator, told so)."""
    locator: Any = ax.yaxis.get_major_locator()
    locator.set_params(integer=True)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    # No Software/date metadata, so the same class gives the same bytes.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _charts(rows: list[BatchRow], rubric: Rubric) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    marks = [r.mark for r in rows if r.mark is not None]
    levels = [r.level for r in rows if r.level is not None]
    out = []
    fig, ax = plt.subplots(figsize=(5.2, 3))
    ax.bar(
        range(rubric.max_mark + 1),
        [marks.count(m) for m in range(rubric.max_mark + 1)],
        color="#36c",
    )
    ax.set_xlabel("mark")
    ax.set_ylabel("scripts")
    ax.set_title("Marks")
    ax.set_xticks(range(0, rubric.max_mark + 1, max(1, rubric.max_mark // 8)))
    _whole_numbers(ax)
    out.append(("Distribution of marks", _png(fig)))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5.2, 3))
    numbers = sorted(lv.level for lv in rubric.levels)
    ax.bar([f"L{n}" for n in numbers], [levels.count(n) for n in numbers], color="#393")
    ax.set_ylabel("scripts")
    ax.set_title("Levels")
    _whole_numbers(ax)
    out.append(("Distribution of levels", _png(fig)))
    plt.close(fig)
    return out


def reteach_lines(rows: list[BatchRow], rubric: Rubric) -> list[str]:
    """'19 of 30 did not explain the link with Lenin'-style lines, most common first."""
    marked = [r for r in rows if not r.error]
    n = len(marked)
    if not n:
        return []
    counts = Counter(t for r in marked for t in r.targets)
    lines: list[tuple[int, str]] = []
    for f in rubric.factors:
        if not f.named:
            continue
        left_out, described = counts[f"missing:{f.id}"], counts[f"explain:{f.id}"]
        if left_out + described:
            lines.append(
                (
                    left_out + described,
                    f"{left_out + described} of {n} did not explain {f.short} "
                    f"({left_out} left it out, {described} only described it)",
                )
            )
    wording = {
        "judgement:none": "made no judgement on the main reason",
        "judgement:unsupported": "asserted a main reason without explaining it",
        "judgement:inconsistent": "argued different main reasons in introduction and conclusion",
        "link": "explained reasons separately without linking or comparing them",
    }
    for key, text in wording.items():
        if counts[key]:
            lines.append((counts[key], f"{counts[key]} of {n} {text}"))
    for m in rubric.misconceptions:
        if counts[f"fact:{m.id}"]:
            lines.append(
                (
                    counts[f"fact:{m.id}"],
                    f"{counts[f'fact:{m.id}']} of {n} made the error “{m.claim}”: {m.correction}",
                )
            )
    for d in rubric.dates:
        if wrong := counts[f"fact:{d.id}"]:
            lines.append(
                (wrong, f"{wrong} of {n} gave the wrong year for “{d.event}”: {d.correction}")
            )
    return [text for _, text in sorted(lines, key=lambda x: -x[0])]


def render_class_report(
    rows: list[BatchRow],
    rubric: Rubric,
    hide_mark: bool = False,
    renamed: dict[str, str] | None = None,
) -> str:
    """The class report as one HTML page with charts embedded as images."""
    return "".join(_report_parts(rows, rubric, hide_mark, renamed or {}))


def _report_parts(
    rows: list[BatchRow], rubric: Rubric, hide_mark: bool, renamed: dict[str, str]
) -> Iterator[str]:
    """The page (templates/classreport.html) in pieces, made as they are written."""
    from essay_marker.render.templating import environment

    marked = [r for r in rows if not r.error]
    marks = sorted(r.mark for r in marked if r.mark is not None)
    summary = (
        {"mean": statistics.mean(marks), "median": f"{statistics.median(marks):g}"}
        if marks and not hide_mark
        else None
    )
    shown = [
        f
        for f in rubric.factors
        if f.named or any(r.factors.get(f.id, Status.ABSENT) != Status.ABSENT for r in marked)
    ]
    review = [
        (r, " ".join(r.refer_reasons) or ", ".join(r.flags) or "low confidence")
        for r in marked
        if r.refer_to_teacher
    ]
    # Generators, so a long class's rows and charts are made only as the page is written.
    grid = (
        (r, [(s, _SHORT[s]) for s in (Status(r.factors.get(f.id, Status.ABSENT)) for f in shown)])
        for r in marked
    )
    return (
        environment()
        .get_template("classreport.html")
        .generate(
            rubric=rubric,
            n_rows=len(rows),
            marked=marked,
            failed=[r for r in rows if r.error],
            summary=summary,
            charts=_charts(marked, rubric) if summary else (),
            reteach=reteach_lines(rows, rubric),
            review=review,
            hide_mark=hide_mark,
            shown=shown,
            grid=grid,
            renamed=renamed,
        )
    )


def write_class_report(
    rows: list[BatchRow],
    rubric: Rubric,
    path: Path,
    hide_mark: bool = False,
    renamed: dict[str, str] | None = None,
) -> None:
    """Render and write the class report atomically."""
    from essay_marker.fsutil import atomic_file

    with atomic_file(path) as fh:
        for part in _report_parts(rows, rubric, hide_mark, renamed or {}):
            fh.write(part.encode("utf-8"))
