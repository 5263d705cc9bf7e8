"""Render an EssayResult: JSON records, Markdown, or a Rich terminal report."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from enum import StrEnum
from typing import Any

from essay_marker.feedback import best_evidence, spelling_list
from essay_marker.records import EssayResult, Evidence, FactorCoverage, Role, Status

STATUS_LABEL = {
    Status.ABSENT: "not used",
    Status.MENTIONED: "described only",
    Status.EXPLAINED: "explained",
    Status.WEIGHED: "explained and weighed",
}
STATUS_STYLE = {
    Status.ABSENT: "dim",
    Status.MENTIONED: "yellow",
    Status.EXPLAINED: "green",
    Status.WEIGHED: "bold green",
}


class Format(StrEnum):
    """Output formats of `check`."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _ev(e: Evidence) -> dict[str, Any]:
    return {"text": e.text, "start": e.start, "end": e.end, "role": e.role}


def result_to_dict(r: EssayResult, hide_mark: bool = False) -> dict[str, Any]:
    """The JSON record (schema in essay_marker/schemas/check-result.schema.json)."""
    spag = asdict(r.spag)
    spag["misspellings"] = [asdict(m) for m in r.spag.misspellings]
    spag["specialist_terms"] = [asdict(s) for s in r.spag.specialist_terms]
    if hide_mark:
        spag["mark"] = None
    return {
        "schema_version": r.schema_version,
        "input": r.input,
        "rubric": r.rubric,
        "scorer": r.scorer,
        "mark_hidden": hide_mark,
        "level": None if hide_mark else r.level,
        "mark": None if hide_mark else r.mark,
        "max_mark": r.max_mark,
        "spag": spag,
        "confidence": round(r.confidence, 3),
        "word_count": r.word_count,
        "factors": [
            {
                "id": f.id,
                "name": f.name,
                "named": f.named,
                "status": f.status,
                "evidence": [_ev(e) for e in f.evidence],
            }
            for f in r.factors
        ],
        "judgement": {
            "present": r.judgement.present,
            "main_factor": r.judgement.main_factor,
            "supported": r.judgement.supported,
            "consistent": r.judgement.consistent,
            "evidence": [_ev(e) for e in r.judgement.evidence],
        },
        "specific_evidence": [asdict(s) for s in r.specific_evidence],
        "out_of_period": [asdict(s) for s in r.out_of_period],
        "misconceptions": [asdict(m) for m in r.misconceptions],
        "flags": [asdict(f) for f in r.flags],
        "refer_to_teacher": r.refer_to_teacher,
        "refer_reasons": list(r.refer_reasons),
        "feedback": {
            "www": list(r.feedback.www),
            "ebi": list(r.feedback.ebi),
            "next_step": r.feedback.next_step,
            "level_gap": r.feedback.level_gap,
        },
    }


def to_json(r: EssayResult, hide_mark: bool = False) -> str:
    """One result as pretty JSON."""
    return json.dumps(result_to_dict(r, hide_mark), ensure_ascii=False, indent=2)


def _shown(f: FactorCoverage, width: int = 90) -> str:
    """The factor's most telling sentence, shortened to fit a table cell."""
    e = best_evidence(f)
    if e is None:
        return ""
    text = " ".join(e.text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _md(text: str) -> str:
    """Student or rubric text for Markdown: <, > and & escaped, since Markdown passes HTML on."""
    return html.escape(text, quote=False)


def teacher_reads_first(r: EssayResult) -> bool:
    """A flagged script, or one marked 0: its slip says the teacher will read it, and no
    more. A flag with words for the student (another question) leaves the feedback on."""
    return any(not f.student for f in r.flags) or r.mark == 0


def student_notes(r: EssayResult) -> str:
    """What the flags say to the student ("your essay seems to answer another question")."""
    return " ".join(dict.fromkeys(f.student for f in r.flags if f.student))


def shows_mark(r: EssayResult, hide_mark: bool) -> bool:
    """Whether a student's slip shows the level and mark: not when hidden, nor when the
    teacher is to check them first (a referred mark may change)."""
    return not hide_mark and not r.refer_to_teacher


# What a slip says when the teacher reads the essay first: kind, and nothing meant for the
# teacher (why it was referred goes in the markbook and the class report).
TEACHER_FIRST = (
    "Your teacher will read this essay and go through it with you, so there is no "
    "feedback from essaymark on this one."
)
MARK_TO_CHECK = "Your teacher will check the mark for this essay; the feedback below is yours."


def to_markdown(r: EssayResult, hide_mark: bool = False, title: str | None = None) -> str:
    """One result as a Markdown feedback slip for the student."""
    lines = [f"# Feedback: {_md(title or r.input)}", ""]
    if teacher_reads_first(r):
        return "\n".join([*lines, _md(student_notes(r) or TEACHER_FIRST), ""])
    if student_notes(r):
        lines += [_md(student_notes(r)), ""]
    if shows_mark(r, hide_mark):
        lines += [
            f"**Level {r.level}**, {r.mark}/{r.max_mark} marks · SPaG {r.spag.mark}/"
            f"{r.spag.max_mark}",
            "",
        ]
    elif r.refer_to_teacher and not hide_mark:
        lines += [MARK_TO_CHECK, ""]
    if r.factors:
        lines += [
            "## Reasons in your essay",
            "",
            "| Reason | How far you take it | Where |",
            "| --- | --- | --- |",
        ]
    for f in r.factors:
        if f.status == Status.ABSENT and not f.named:
            continue
        where = _md(_shown(f)).replace("|", "\\|")
        lines.append(f"| {_md(f.name)} | {STATUS_LABEL[f.status]} | {where} |")
    lines += ["", "## What went well", ""]
    lines += [f"- {_md(w)}" for w in r.feedback.www] or [
        "- Nothing yet to credit: see the next step."
    ]
    if r.feedback.ebi:  # a rubric with no factors may have nothing specific to add here
        lines += ["", "## Even better if", ""] + [f"- {_md(e)}" for e in r.feedback.ebi]
    lines += ["", "## Your next step", "", _md(r.feedback.next_step), ""]
    if r.spag.misspellings:
        lines += [f"**Spelling to check:** {_md(spelling_list(r, most=20))}", ""]
    if r.feedback.level_gap and (hide_mark or shows_mark(r, hide_mark)):
        lines += [_md(r.feedback.level_gap), ""]
    return "\n".join(lines)


def print_text(r: EssayResult, console: Any, hide_mark: bool = False) -> None:
    """A readable terminal report with Rich."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    head = f"[bold]{escape(r.input)}[/bold] · {r.word_count} words"
    if not hide_mark:
        head += (
            f"\n[bold cyan]Level {r.level}[/bold cyan] · [bold]{r.mark}/{r.max_mark}[/bold]"
            f" marks · SPaG {r.spag.mark}/{r.spag.max_mark} · confidence "
            f"{r.confidence:.2f} · [dim]{escape(r.scorer)}[/dim]"
        )
    console.print(Panel(head, title="essaymark", expand=False))
    if r.refer_to_teacher:
        why = " ".join(r.refer_reasons)
        console.print(f"[bold red]Refer to teacher:[/bold red] {escape(why)}")
    if r.factors:
        table = Table(title="Reasons", show_lines=False, expand=False)
        table.add_column("Reason")
        table.add_column("Coverage")
        table.add_column("Your words", overflow="fold", max_width=70)
        for f in r.factors:
            if f.status == Status.ABSENT and not f.named:
                continue
            style = STATUS_STYLE[f.status]
            table.add_row(
                escape(f.name), f"[{style}]{STATUS_LABEL[f.status]}[/{style}]", escape(_shown(f))
            )
        console.print(table)
    j = r.judgement
    if not r.factors:
        pass
    elif j.present and j.main_factor:
        verdict = "supported" if j.supported else "asserted, not yet supported"
        if j.consistent is False:
            verdict += "; introduction and conclusion disagree"
        console.print(f"[bold]Judgement:[/bold] main reason = {escape(j.main_factor)} ({verdict})")
    elif j.present:
        console.print("[bold]Judgement:[/bold] main reason = one the rubric does not list")
    else:
        console.print("[bold]Judgement:[/bold] none found")
    for m in r.misconceptions:
        console.print(f"[bold magenta]Check the facts:[/bold magenta] {escape(m.correction)}")
    console.print("\n[bold green]What went well[/bold green]")
    for w in r.feedback.www or ("Nothing yet to credit: see the next step.",):
        console.print(f" • {escape(w)}")
    if r.feedback.ebi:
        console.print("\n[bold yellow]Even better if[/bold yellow]")
    for e in r.feedback.ebi:
        console.print(f" • {escape(e)}")
    console.print(f"\n[bold cyan]Next step:[/bold cyan] {escape(r.feedback.next_step)}")
    if r.spag.misspellings:
        console.print(f"[bold]Spelling to check:[/bold] {escape(spelling_list(r, most=20))}")
    if r.feedback.level_gap:
        console.print(f"[dim]{escape(r.feedback.level_gap)}[/dim]")


def _highlighted(text: str, r: EssayResult) -> list[tuple[str, Role | None]]:
    """The essay in pieces, each evidence sentence with its strongest role (others None)."""
    rank = {Role.DESCRIBE: 0, Role.EXPLAIN: 1, Role.JUDGE: 2, Role.WEIGH: 3}
    spans: dict[tuple[int, int], Role] = {}
    for f in r.factors:
        for e in f.evidence:
            key = (e.start, e.end)
            if key not in spans or rank[e.role] > rank[spans[key]]:
                spans[key] = e.role
    out: list[tuple[str, Role | None]] = []
    pos = 0
    for (start, end), role in sorted(spans.items()):
        if start < pos:
            continue
        out += [(text[pos:start], None), (text[start:end], role)]
        pos = end
    out.append((text[pos:], None))
    return out


def to_html_slip(r: EssayResult, text: str, student: str, hide_mark: bool = False) -> str:
    """A one-page printable feedback slip (templates/slip.html); all student text escaped."""
    from essay_marker.render.templating import environment

    show_mark = shows_mark(r, hide_mark)
    rows = [
        (f, STATUS_LABEL[f.status], _shown(f, 160))
        for f in r.factors
        if f.status != Status.ABSENT or f.named
    ]
    return (
        environment()
        .get_template("slip.html")
        .render(
            r=r,
            student=student,
            teacher_first=(student_notes(r) or TEACHER_FIRST) if teacher_reads_first(r) else "",
            notes=student_notes(r),
            show_mark=show_mark,
            mark_to_check=MARK_TO_CHECK if r.refer_to_teacher and not hide_mark else "",
            www=r.feedback.www or ("Nothing yet to credit: see your next step.",),
            level_gap=r.feedback.level_gap if hide_mark or show_mark else "",
            table=bool(r.factors),
            rows=rows,
            spelling=spelling_list(r, most=20) if r.spag.misspellings else "",
            essay=_highlighted(text, r),
        )
    )
