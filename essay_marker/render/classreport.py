"""The class report: one self-contained HTML page a teacher can open, print or share."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from essay_marker.records import Status
from essay_marker.rubric import Rubric

if TYPE_CHECKING:
    from essay_marker.records import BatchRow

_CSS = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;max-width:70rem;margin:1.5rem auto;color:#111}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:1.6rem;
border-bottom:2px solid #036}.meta{color:#444}table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid #bbb;padding:.2rem .45rem;text-align:left}th{background:#eef}
.charts img{max-width:48%;margin-right:1%}.grid td{text-align:center}
.absent{background:#fff;color:#999}.mentioned{background:#fff4c2}.explained{background:#cdeccd}
.weighed{background:#8fd18f;font-weight:bold}.err{color:#a00}
li{margin:.2rem 0}@media print{.charts img{max-width:45%}}
"""
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
    return "\n".join(_report_parts(rows, rubric, hide_mark, renamed or {}))


def _report_parts(
    rows: list[BatchRow], rubric: Rubric, hide_mark: bool, renamed: dict[str, str]
) -> Iterator[str]:
    """The page in pieces, made as they are written: an exam centre's grid can be 10,000 rows."""
    e = html.escape
    marked = [r for r in rows if not r.error]
    failed = [r for r in rows if r.error]
    yield "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    yield f"<title>Class report: {e(rubric.title)}</title><style>{_CSS}</style></head><body>"
    yield f"<h1>Class report: {e(rubric.title)}</h1>"
    yield f"<p class='meta'>{e(rubric.question)}</p>"
    yield f"<p>{len(rows)} scripts: {len(marked)} marked, {len(failed)} could not be read."
    if marked and not hide_mark:
        marks = sorted(r.mark for r in marked if r.mark is not None)
        mean = sum(marks) / len(marks)
        yield f" Mean mark {mean:.1f}/{rubric.max_mark}, median {marks[len(marks) // 2]}."
    yield "</p>"
    if marked and not hide_mark:
        yield "<div class='charts'>"
        for alt, png in _charts(marked, rubric):
            yield f"<img alt='{e(alt)}' src='data:image/png;base64,{png}'>"
        yield "</div>"
    lines = reteach_lines(rows, rubric)
    yield "<h2>What to reteach</h2>"
    yield (
        "<ul>" + "".join(f"<li>{e(x)}</li>" for x in lines) + "</ul>"
        if lines
        else "<p>No common gaps.</p>"
    )
    review = [r for r in marked if r.refer_to_teacher]
    yield f"<h2>For you to review ({len(review)})</h2>"
    if review:
        yield "<table><tr><th>Student</th><th>File</th><th>Why</th><th>Mark</th></tr>"
        for r in review:
            why = " ".join(r.refer_reasons) or ", ".join(r.flags) or "low confidence"
            mark = "" if hide_mark or r.mark is None else f"{r.mark}"
            yield (
                f"<tr><td>{e(r.student)}</td><td>{e(r.file)}</td><td>{e(why)}</td>"
                f"<td>{mark}</td></tr>"
            )
        yield "</table>"
    else:
        yield "<p>None flagged.</p>"
    shown = [
        f
        for f in rubric.factors
        if f.named or any(r.factors.get(f.id, Status.ABSENT) != Status.ABSENT for r in marked)
    ]
    yield (
        "<h2>Coverage by student</h2><p class='meta'>D described only · E explained · "
        "W explained and weighed · – not used</p>"
    )
    yield "<table class='grid'><tr><th>Student</th>"
    if not hide_mark:
        yield "<th>Level</th><th>Mark</th>"
    yield from [f"<th title='{e(f.name)}'>{e(f.short)}</th>" for f in shown]
    yield "</tr>"
    for r in marked:
        yield f"<tr><td style='text-align:left'>{e(r.student)}</td>"
        if not hide_mark:
            yield f"<td>{r.level}</td><td>{r.mark}</td>"
        for f in shown:
            status = r.factors.get(f.id, Status.ABSENT)
            yield f"<td class='{status}'>{_SHORT[Status(status)]}</td>"
        yield "</tr>"
    yield "</table>"
    yield f"<h2>Could not be marked ({len(failed)})</h2>"
    if failed:
        yield "<table><tr><th>File</th><th>Problem</th></tr>"
        yield from [
            f"<tr><td>{e(r.file)}</td><td class='err'>{e(r.error)}</td></tr>" for r in failed
        ]
        yield "</table>"
    else:
        yield "<p>Every file was read.</p>"
    if renamed:
        yield (
            f"<h2>Slips renamed ({len(renamed)})</h2><p class='meta'>These names would have "
            "been the same as another student's, so each slip has its own name.</p>"
        )
        yield "<table><tr><th>File</th><th>Slip</th></tr>"
        yield from [
            f"<tr><td>{e(rel)}</td><td>feedback/{e(slip)}.html</td></tr>"
            for rel, slip in sorted(renamed.items())
        ]
        yield "</table>"
    yield "</body></html>"


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
        for i, part in enumerate(_report_parts(rows, rubric, hide_mark, renamed or {})):
            fh.write((part if i == 0 else "\n" + part).encode("utf-8"))
