"""Printing what batch, evaluate and train found: the summary of a class and the figures."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from essay_marker.commands.common import out

if TYPE_CHECKING:
    pass

SUMMARY_ROWS = 60  # batches larger than a class set list only the scripts to check


def print_batch_summary(outcome: Any, hide_mark: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    rows = outcome.rows
    caption = None
    if len(rows) > SUMMARY_ROWS:
        # A class set is listed in full; for an exam centre's thousands the terminal shows
        # only the scripts a person must look at (a 10,000-row table took 6 s and 26 MB).
        rows = [r for r in rows if r.error or r.refer_to_teacher]
        caption = (
            f"{len(rows)} of {len(outcome.rows)} scripts need checking"
            + (f"; the first {SUMMARY_ROWS} are shown" if len(rows) > SUMMARY_ROWS else "")
            + "; every script is in marks.csv"
        )
        rows = rows[:SUMMARY_ROWS]
    table = Table(title=f"Marked into {outcome.out_dir}", caption=caption)
    table.add_column("Student")
    if not hide_mark:
        table.add_column("Level", justify="right")
        table.add_column("Mark", justify="right")
    table.add_column("Check")
    for r in rows:
        note = (
            f"[red]{escape(r.error)}[/red]"
            if r.error
            else (
                "[yellow]refer: " + escape(", ".join(r.flags) or "low confidence") + "[/yellow]"
                if r.refer_to_teacher
                else ""
            )
        )
        cells = [escape(r.student)]
        if not hide_mark:
            cells += [
                "" if r.level is None else str(r.level),
                "" if r.mark is None else str(r.mark),
            ]
        table.add_row(*cells, note)
    out.print(table)


def print_figures(
    figures: dict[str, Any], sentences: dict[str, Any] | None = None, factors: bool = False
) -> None:
    m, b = figures["model"], figures["length_baseline"]
    repeats = figures.get("repeats", 1)
    scripts = figures.get("evaluated_on", m["n"])
    plan = f"{figures['folds']} folds" + (f" repeated {repeats} times" if repeats > 1 else "")
    nested = figures.get("protocol") == "nested"
    out.print(
        f"[bold]Cross-validated agreement with the marks[/bold] ({plan}, {scripts} scripts"
        + (
            "; the model chosen inside each fold)"
            if nested
            else f"; estimator {figures['chosen']})"
        )
    )
    if base := figures.get("base_corpus"):
        out.print(
            f"  trained with {base['scripts']} bundled scripts as well; figures are on "
            f"your {scripts} scripts only, each held out in turn"
        )
    out.print(f"  {'':18}{'QWK':>7}{'QWK lvl':>9}{'exact':>8}{'adjacent':>10}{'MAE':>7}")
    for label, f in (("model", m), ("length only", b)):
        out.print(
            f"  {label:18}{f['qwk']:>7.3f}{f['qwk_level']:>9.3f}{f['exact']:>8.1%}"
            f"{f['adjacent']:>10.1%}{f['mae']:>7.2f}"
        )
    if "spag" in figures:
        s = figures["spag"]
        out.print(f"  {'SPaG':18}{s['qwk']:>7.3f}{'':>9}{s['exact']:>8.1%}{s['adjacent']:>10.1%}")
    if "qwk_repeats" in m:
        low, high = m["qwk_repeats"]
        out.print(f"  QWK over the repeats: {low:.3f} to {high:.3f} (small sets vary by split)")
    if nested:
        spread, won = figures["spread"], figures["winners"]
        if spread["over"] == "folds":
            out.print(f"  QWK over the folds: {spread['min']:.3f} to {spread['max']:.3f}")
        out.print(
            f"  inner best: {figures['qwk_inner_best']:.3f}, the saved model's QWK on the "
            "folds that chose it (optimistic)"
        )
        out.print(
            f"  saved: {figures['chosen']}; chosen inside the {sum(won.values())} folds: "
            + ", ".join(f"{k} {v}" for k, v in sorted(won.items(), key=lambda kv: -kv[1]))
        )
        length = figures.get("length_correction") or {}
        if length.get("folds_corrected"):
            # log(2) of log words is twice the words: the figure a teacher can picture.
            doubled = length["mean_slope"] * math.log(2)
            out.print(
                f"  length-neutral rubric: in {length['folds_corrected']} of {length['folds']} "
                f"folds the model gave longer answers more than their marks; taken back "
                f"(on average {doubled:.1f} marks for twice the words)"
            )
    pooled = " (all repeats pooled)" if repeats > 1 else ""
    out.print(f"  level confusion{pooled} (rows: given, columns: predicted)")
    for level, row in zip(m["levels"], m["confusion"], strict=True):
        out.print(f"    L{level}: " + " ".join(f"{v:>4}" for v in row))
    out.print(
        "  candidates (QWK on these folds): "
        + ", ".join(f"{k} {v:.3f}" for k, v in figures["selection"].items())
    )
    if verdict := figures.get("beats_length"):
        out.print(length_verdict(m["qwk"], b["qwk"], verdict, factors), markup=False)
    if sentences and sentences.get("factors"):
        out.print(
            f"[bold]Sentence factor model[/bold] ({sentences['sentences']} sentences, "
            f"{sentences['scripts']} scripts): F1 cues / model / both"
        )
        for fid, f in sentences["factors"].items():
            out.print(
                f"  {fid:26} {f['f1_cues']:.2f} / {f['f1_model']:.2f} / "
                f"{f['f1_cues_and_model']:.2f}  (n={f['support']})"
            )
        if "explains" in sentences:
            x = sentences["explains"]
            out.print(
                f"  {'explains, not describes':26} {x['f1_cues']:.2f} / {x['f1_model']:.2f} / "
                f"{x['f1_cues_and_model']:.2f}  (n={x['support']} of {x['sentences']})"
            )
    _print_status(sentences.get("status") if sentences else None)


def _print_status(parts: dict[str, Any] | None) -> None:
    """The status models' figures: whether an essay explains each reason, rules against
    model, each kept only where it did better. Older cards held one model's figures, for
    the reasons beyond the named ones."""
    parts = {"others": parts} if parts and "f1_rules" in parts else parts or {}
    parts = {k: v for k, v in parts.items() if isinstance(v, dict) and "f1_rules" in v}
    if not parts:
        return
    out.print("[bold]Explained or not, per essay[/bold]: F1 rules / model (kept where better)")
    for key, f in parts.items():
        label = "the other reasons" if key == "others" else key
        kept = "kept" if f["used"] else "rules kept"
        out.print(f"  {label:26} {f['f1_rules']:.3f} / {f['f1_model']:.3f}  {kept}")


def length_verdict(
    qwk: float, length_qwk: float, verdict: dict[str, Any], factors: bool = False
) -> str:
    """Plain words on whether the model beats counting words, and what would help if not."""
    if verdict["clear"]:
        return (
            f"  The model beats length alone by {verdict['gain']:.3f} QWK "
            f"(a clear margin here is {verdict['margin']:.3f})."
        )
    return (
        f"Note: this model does not clearly beat counting words. Its QWK is {qwk:.3f}; the "
        f"length of a script alone gives {length_qwk:.3f}, and clearly better would be "
        f"{verdict['margin']:.3f} more (0.03, or the spread between repeats if larger). Its "
        "marks may mostly follow how much a student wrote. What would help: "
        "more marked scripts (from a class set the other features have little to learn), "
        + (
            "and cue phrases for the rubric's factors in the words your students use"
            if factors
            else "and factors in the rubric"
        )
        + ", so the marker can credit the reasons an essay gives rather than its length."
    )
