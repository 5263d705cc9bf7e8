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
    """A flagged script, or one marked 0: its slip says the teacher will read it, and no more."""
    return bool(r.flags) or r.mark == 0


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
        return "\n".join([*lines, TEACHER_FIRST, ""])
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


_SLIP_CSS = """
body{font-family:Georgia,serif;max-width:46rem;margin:1.5rem auto;color:#111;line-height:1.35}
h1{font-size:1.3rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:1rem 0 .3rem}
.meta{color:#333}.refer{border-left:4px solid #036;padding:.2rem .6rem;background:#eef3f8}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #bbb;
padding:.25rem .4rem;vertical-align:top;text-align:left}
.absent{color:#777}.mentioned{background:#fff4c2}.explained{background:#d9f2d9}
.weighed{background:#b7e4b7;font-weight:bold}
mark.describe{background:#fff4c2}mark.explain{background:#d9f2d9}
mark.weigh,mark.judge{background:#b7e4b7;font-weight:bold}
.essay{font-size:.85rem;white-space:pre-wrap;border:1px solid #ccc;padding:.5rem}
.next{border:2px solid #036;padding:.4rem .6rem}
@page{size:A4;margin:12mm}
@media print{body{margin:0;max-width:none;font-size:10pt;line-height:1.25}.essay{font-size:8pt}
h2{break-after:avoid}tr,li,.next{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _highlighted(text: str, r: EssayResult) -> str:
    """The essay, escaped, with each evidence sentence marked by its strongest role."""
    rank = {Role.DESCRIBE: 0, Role.EXPLAIN: 1, Role.JUDGE: 2, Role.WEIGH: 3}
    spans: dict[tuple[int, int], Role] = {}
    for f in r.factors:
        for e in f.evidence:
            key = (e.start, e.end)
            if key not in spans or rank[e.role] > rank[spans[key]]:
                spans[key] = e.role
    out, pos = [], 0
    for (start, end), role in sorted(spans.items()):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f'<mark class="{role}">{html.escape(text[start:end])}</mark>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def to_html_slip(r: EssayResult, text: str, student: str, hide_mark: bool = False) -> str:
    """A one-page printable feedback slip; every piece of student text is escaped."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Feedback: {e(student)}</title><style>{_SLIP_CSS}</style></head><body>",
        f"<h1>Feedback: {e(student)}</h1>",
        f"<p class='meta'>{e(r.input)} · {r.word_count} words</p>",
    ]
    if teacher_reads_first(r):
        parts.append(f"<p class='refer'>{e(TEACHER_FIRST)}</p></body></html>")
        return "\n".join(parts)
    if shows_mark(r, hide_mark):
        parts.append(
            f"<p class='meta'><strong>Level {r.level}</strong> · {r.mark}/{r.max_mark} "
            f"marks · SPaG {r.spag.mark}/{r.spag.max_mark}</p>"
        )
    elif r.refer_to_teacher and not hide_mark:
        parts.append(f"<p class='refer'>{e(MARK_TO_CHECK)}</p>")
    parts.append("<h2>What went well</h2><ul>")
    www = r.feedback.www or ("Nothing yet to credit: see your next step.",)
    parts += [f"<li>{e(w)}</li>" for w in www]
    parts.append("</ul>")
    if r.feedback.ebi:
        parts.append("<h2>Even better if</h2><ul>")
        parts += [f"<li>{e(x)}</li>" for x in r.feedback.ebi]
        parts.append("</ul>")
    parts.append(f"<h2>Your next step</h2><p class='next'>{e(r.feedback.next_step)}</p>")
    if r.feedback.level_gap and (hide_mark or shows_mark(r, hide_mark)):
        parts.append(f"<p class='meta'>{e(r.feedback.level_gap)}</p>")
    if r.factors:
        parts.append(
            "<h2>Reasons in your essay</h2><table><tr><th>Reason</th><th>How far you take "
            "it</th><th>Your words</th></tr>"
        )
    for f in r.factors:
        if f.status == Status.ABSENT and not f.named:
            continue
        parts.append(
            f"<tr><td>{e(f.name)}</td><td class='{f.status}'>{STATUS_LABEL[f.status]}"
            f"</td><td>{e(_shown(f, 160))}</td></tr>"
        )
    if r.factors:
        parts.append("</table>")
    if r.spag.misspellings:
        parts.append(f"<p><strong>Spelling to check:</strong> {e(spelling_list(r, most=20))}</p>")
    parts.append(
        "<h2>Your essay</h2><p class='meta'>Highlighted: <mark class='describe'>"
        "describes</mark> <mark class='explain'>explains</mark> <mark class='weigh'>"
        "links, weighs or judges</mark></p>"
    )
    parts.append(f"<div class='essay'>{_highlighted(text, r)}</div></body></html>")
    return "\n".join(parts)
