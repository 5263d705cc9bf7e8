"""Render an EssayResult: JSON records, Markdown, or a Rich terminal report."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Any

from essay_marker.coverage import Evidence, FactorCoverage
from essay_marker.feedback import best_evidence, spelling_list
from essay_marker.scoring import EssayResult

STATUS_LABEL = {
    "absent": "not used",
    "mentioned": "described only",
    "explained": "explained",
    "weighed": "explained and weighed",
}
STATUS_STYLE = {
    "absent": "dim",
    "mentioned": "yellow",
    "explained": "green",
    "weighed": "bold green",
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
        "misconceptions": [asdict(m) for m in r.misconceptions],
        "flags": [asdict(f) for f in r.flags],
        "refer_to_teacher": r.refer_to_teacher,
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


def to_markdown(r: EssayResult, hide_mark: bool = False) -> str:
    """One result as a Markdown feedback sheet."""
    lines = [f"# Feedback: {r.input}", ""]
    if not hide_mark:
        lines += [
            f"**Level {r.level}**, {r.mark}/{r.max_mark} marks · SPaG {r.spag.mark}/"
            f"{r.spag.max_mark} · confidence {r.confidence:.2f} · scored by `{r.scorer}`",
            "",
        ]
    if r.refer_to_teacher:
        lines += [
            "> **For your teacher to check:** "
            + ("; ".join(f.message for f in r.flags) or "the marker is not confident."),
            "",
        ]
    lines += [
        "## Reasons in your essay",
        "",
        "| Reason | How far you take it | Where |",
        "| --- | --- | --- |",
    ]
    for f in r.factors:
        if f.status == "absent" and not f.named:
            continue
        where = _shown(f).replace("|", "\\|")
        lines.append(f"| {f.name} | {STATUS_LABEL[f.status]} | {where} |")
    lines += ["", "## What went well", ""]
    lines += [f"- {w}" for w in r.feedback.www] or ["- Nothing yet to credit: see the next step."]
    lines += ["", "## Even better if", ""] + [f"- {e}" for e in r.feedback.ebi]
    lines += ["", "## Your next step", "", r.feedback.next_step, ""]
    if r.spag.misspellings:
        lines += [f"**Spelling to check:** {spelling_list(r, most=20)}", ""]
    if r.feedback.level_gap:
        lines += [r.feedback.level_gap, ""]
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
        why = "; ".join(f.message for f in r.flags) or "the marker is not confident about this one."
        console.print(f"[bold red]Refer to teacher:[/bold red] {escape(why)}")
    table = Table(title="Reasons", show_lines=False, expand=False)
    table.add_column("Reason")
    table.add_column("Coverage")
    table.add_column("Your words", overflow="fold", max_width=70)
    for f in r.factors:
        if f.status == "absent" and not f.named:
            continue
        style = STATUS_STYLE[f.status]
        table.add_row(
            escape(f.name), f"[{style}]{STATUS_LABEL[f.status]}[/{style}]", escape(_shown(f))
        )
    console.print(table)
    j = r.judgement
    if j.present and j.main_factor:
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
    console.print("\n[bold yellow]Even better if[/bold yellow]")
    for e in r.feedback.ebi:
        console.print(f" • {escape(e)}")
    console.print(f"\n[bold cyan]Next step:[/bold cyan] {escape(r.feedback.next_step)}")
    if r.spag.misspellings:
        console.print(f"[bold]Spelling to check:[/bold] {escape(spelling_list(r, most=20))}")
    if r.feedback.level_gap:
        console.print(f"[dim]{escape(r.feedback.level_gap)}[/dim]")
