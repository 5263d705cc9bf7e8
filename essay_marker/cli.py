"""The essaymark command line: parse, call the library, render, choose the exit code."""

from __future__ import annotations

import json
import time
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from essay_marker.errors import EssaymarkError
from essay_marker.render.report import Format

if TYPE_CHECKING:
    from essay_marker.dataset import MarkedSet
    from essay_marker.model.trained import TrainedModel
    from essay_marker.rubric import Rubric
    from essay_marker.scoring import Scorer
    from essay_marker.training.sets import TrainingSet

app = typer.Typer(
    help="Marks and formative feedback for GCSE history essays, offline.",
    no_args_is_help=True,
    # Student text must never appear in a traceback.
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
rubric_app = typer.Typer(help="List, show and validate rubrics.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")

out = Console(highlight=False, soft_wrap=False)


def flag(*names: str, help: str) -> Any:
    """A yes/no option, shown in help without a value placeholder (it takes none)."""
    return typer.Option(*names, help=help, metavar="")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"essaymark {version('essaymark')}", markup=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            metavar="",
            help="Print essaymark's version and exit.",
        ),
    ] = False,
) -> None:
    """Marks and formative feedback for GCSE history essays, offline.

    Example: essaymark check essay.docx
    """


SUMMARY_ROWS = 60  # batches larger than a class set list only the scripts to check
err = Console(stderr=True, highlight=False)


class Exit(IntEnum):
    """Exit statuses: 0 all done, 1 some inputs failed, 2 nothing could be done."""

    OK = 0
    PARTIAL = 1
    FAILED = 2


class Backend(StrEnum):
    """Where `batch` marks: processes on this machine, or a Dask cluster."""

    local = "local"
    dask = "dask"


class FiguresFormat(StrEnum):
    """Output formats of `evaluate`."""

    text = "text"
    json = "json"


def fail(exc: EssaymarkError) -> typer.Exit:
    """Print one line for a user-fixable error and return the exit to raise."""
    from rich.markup import escape

    # Escaped: file names and hints may hold [brackets] (essaymark[dask], "essay [2].txt").
    err.print(
        f"[bold red]error:[/bold red] {escape(str(exc))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    return typer.Exit(Exit.FAILED)


def say(message: str) -> None:
    """A progress line on stderr (plain text: file names may hold [brackets])."""
    from rich.markup import escape

    err.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


RubricOpt = Annotated[
    str,
    typer.Option("--rubric", "-r", help="Rubric id (see 'essaymark rubric list') or a .toml file."),
]
ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A model file from 'essaymark train'.")
]
RulesOpt = Annotated[
    bool, flag("--rules", help="Mark with the coverage rules, not the trained model.")
]
ScriptsOpt = Annotated[Path, typer.Option("--scripts", help="Folder of marked scripts.")]
MarksOpt = Annotated[Path, typer.Option("--marks", help="CSV with file,mark[,spag] columns.")]
FoldsOpt = Annotated[int, typer.Option("--folds", min=2, max=20, help="Cross-validation folds.")]
NoBaseOpt = Annotated[
    bool,
    flag(
        "--no-base-corpus",
        help="Learn from these scripts alone, without the corpus bundled for the rubric.",
    ),
]
SourceOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--source", "-s", help="A text the students were given; copying it earns no credit."
    ),
]


def _sources(paths: list[Path] | None) -> tuple[str, ...]:
    """The texts of --source files (read like essays, so any supported format works)."""
    from essay_marker.readers import read_essay

    return tuple(read_essay(str(p))[1] for p in paths or ())


def _needs_a_model(rubric: Rubric, path: Path | None) -> None:
    """Refuse to mark with a rubric that has no factors when there is no model: the rules
    would give every script 0."""
    from essay_marker.errors import RubricError

    if path is None and not rubric.factors:
        raise RubricError(
            rubric.path or rubric.id,
            "factors",
            "has no factors and there is no model trained for it, so nothing could be marked",
            f"train one on marked scripts ('essaymark train --rubric {rubric.path or rubric.id} "
            "--scripts DIR --marks CSV') or add [[factors]] to the rubric",
        )


def _model_path(rubric: Rubric, model: Path | None, rules: bool) -> Path | None:
    """The model to mark with: --model, else the teacher's active one, else the bundled one."""
    from essay_marker.model.persist import bundled_model_path
    from essay_marker.store import active_path

    if rules and model:
        raise typer.BadParameter("give --model or --rules, not both")
    if rules:
        return None
    return model or active_path(rubric.id) or bundled_model_path(rubric)


def _scorer(rubric: Rubric, model: Path | None, rules: bool) -> Scorer | None:
    """The loaded model to mark with, or None for the rules."""
    from essay_marker.model.persist import load_model, skip_skops_default_trust

    path = _model_path(rubric, model, rules)
    _needs_a_model(rubric, path)
    skip_skops_default_trust()  # this process is ours: load_model names every type it trusts
    return load_model(path, rubric) if path else None


@app.command()
def check(
    path: Annotated[
        str, typer.Argument(help="Essay file (.txt, .md, .docx, .pdf), or - for stdin.")
    ],
    rubric: RubricOpt = "stalin-main-reason",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    no_mark: Annotated[
        bool, flag("--no-mark", help="Feedback only: hide the level and mark.")
    ] = False,
    model: ModelOpt = None,
    rules: RulesOpt = False,
    source: SourceOpt = None,
) -> None:
    """Mark one essay and print formative feedback.

    Example: essaymark check essay.docx --format markdown
    """
    from essay_marker.readers import read_essay
    from essay_marker.render.report import print_text, to_json, to_markdown
    from essay_marker.rubric import find_rubric
    from essay_marker.scoring import score_essay

    try:
        rb = find_rubric(rubric)
        name, text = read_essay(path)
        scorer = _scorer(rb, model, rules)
        result = score_essay(
            text, rb, scorer, input_name=name, hide_mark=no_mark, sources=_sources(source)
        )
    except EssaymarkError as exc:
        raise fail(exc) from None
    if fmt is Format.json:
        print(to_json(result, hide_mark=no_mark))
    elif fmt is Format.markdown:
        print(to_markdown(result, hide_mark=no_mark))
    else:
        print_text(result, out, hide_mark=no_mark)


@app.command()
def batch(
    folder: Annotated[Path, typer.Argument(help="Folder of essays (searched recursively).")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write (default FOLDER-marked).")
    ] = None,
    rubric: RubricOpt = "stalin-main-reason",
    pattern: Annotated[
        str, typer.Option("--glob", help="Which files to mark, e.g. '*.docx' or 'set2/**/*'.")
    ] = "**/*",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Processes (0 = all cores).")
    ] = 0,
    backend: Annotated[
        Backend,
        typer.Option(
            "--backend",
            help="local: processes on this machine. dask: a Dask cluster (pip install "
            "'essaymark\\[dask]'); without --scheduler, a local one of --jobs worker processes.",
        ),
    ] = Backend.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --backend dask: a running Dask scheduler, e.g. tcp://10.0.0.5:8786. "
            "Files are read here and sent to its workers; outputs are written here.",
        ),
    ] = None,
    resume: Annotated[
        bool, flag("--resume", help="Skip files already in the markbook and unchanged.")
    ] = False,
    no_mark: Annotated[
        bool, flag("--no-mark", help="Slips and report without levels and marks.")
    ] = False,
    fmt: Annotated[
        FiguresFormat, typer.Option("--format", "-f", help="json: JSON Lines on stdout.")
    ] = FiguresFormat.text,
    model: ModelOpt = None,
    rules: RulesOpt = False,
    source: SourceOpt = None,
) -> None:
    """Mark a class folder: markbook (CSV, XLSX), feedback slips and a class report.

    Example: essaymark batch year10-set2/ --out marked/
    """
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from essay_marker.batch.run import run_batch
    from essay_marker.rubric import find_rubric

    if scheduler and backend is not Backend.dask:
        raise typer.BadParameter("--scheduler needs --backend dask", param_hint="--scheduler")
    target = out_dir or folder.with_name(f"{folder.name}-marked")
    workers = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    try:
        rb = find_rubric(rubric)
        model_path = _model_path(rb, model, rules)
        _needs_a_model(rb, model_path)
        if model_path:
            from essay_marker.model.persist import load_model, skip_skops_default_trust

            skip_skops_default_trust()  # as in check; forked workers inherit it
            load_model(model_path, rb)  # refuse a bad model before any work starts
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("marking", total=None)
            outcome = run_batch(
                folder,
                target,
                rb,
                model_path,
                pattern=pattern,
                jobs=workers,
                backend=backend.value,
                scheduler=scheduler,
                resume=resume,
                hide_mark=no_mark,
                sources=_sources(source),
                on_json=(lambda r: print(json.dumps(r, ensure_ascii=False), flush=True))
                if fmt is FiguresFormat.json
                else None,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except EssaymarkError as exc:
        raise fail(exc) from None
    if fmt is not FiguresFormat.json:
        _print_batch_summary(outcome, no_mark)
    for rel, slip in sorted(outcome.renamed.items()):
        say(f"{rel}: slip named feedback/{slip}.html, so as not to replace another's")
    say(
        f"{outcome.marked} marked, {outcome.failed} could not be read"
        + (f", {outcome.reused} unchanged from last run" if outcome.reused else "")
        + f" in {time.perf_counter() - started:.1f} s; written to {outcome.out_dir}"
    )
    raise typer.Exit(Exit.PARTIAL if outcome.failed else Exit.OK)


def _print_batch_summary(outcome: Any, hide_mark: bool) -> None:
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


def _print_figures(
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
    pooled = " (all repeats pooled)" if repeats > 1 else ""
    out.print(f"  level confusion{pooled} (rows: given, columns: predicted)")
    for level, row in zip(m["levels"], m["confusion"], strict=True):
        out.print(f"    L{level}: " + " ".join(f"{v:>4}" for v in row))
    out.print(
        "  candidates (QWK on these folds): "
        + ", ".join(f"{k} {v:.3f}" for k, v in figures["selection"].items())
    )
    if verdict := figures.get("beats_length"):
        out.print(_length_verdict(m["qwk"], b["qwk"], verdict, factors), markup=False)
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


def _length_verdict(
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


@app.command()
def evaluate(
    scripts: ScriptsOpt,
    marks: MarksOpt,
    rubric: RubricOpt = "stalin-main-reason",
    folds: FoldsOpt = 5,
    no_base_corpus: NoBaseOpt = False,
    fmt: Annotated[FiguresFormat, typer.Option("--format", "-f")] = FiguresFormat.text,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", "-m", help="Score with this saved model instead of cross-validating."
        ),
    ] = None,
    include_trained: Annotated[
        bool,
        flag("--include-trained", help="With --model: also score scripts it was trained on."),
    ] = False,
) -> None:
    """Cross-validate the marker on marked scripts and print agreement figures (nothing saved).

    Example: essaymark evaluate --scripts marked-scripts/ --marks marks.csv
    """
    from essay_marker.dataset import load_marked
    from essay_marker.model.persist import load_model
    from essay_marker.model.sentence import sentence_figures
    from essay_marker.rubric import find_rubric
    from essay_marker.training.crossval import cross_validate
    from essay_marker.training.fit import held_out_figures

    started = time.perf_counter()
    try:
        rb = find_rubric(rubric)
        marked = load_marked(scripts, marks, rb)
        trained = load_model(model, rb) if model else None
    except EssaymarkError as exc:
        raise fail(exc) from None
    if trained:
        try:
            figures = held_out_figures(trained, marked, rb, include_trained)
        except EssaymarkError as exc:
            raise fail(exc) from None
        m = figures["model"]
        if fmt is FiguresFormat.json:
            record = {k: m[k] for k in ("qwk", "qwk_level", "exact", "adjacent", "mae", "n")}
            record["trained_on"] = figures["trained_on"]
            print(json.dumps({**record, "held_out": figures}, indent=2))
        else:
            used = figures["trained_on"]
            note = (
                "none used in training"
                if not used
                else f"{used} used in training are included"
                if include_trained
                else f"leaving out the {used} it was trained on"
            )
            out.print(
                f"[bold]Agreement of {model} with these marks[/bold] ({m['n']} scripts, {note})"
            )
            out.print(
                f"  QWK {m['qwk']:.3f}  QWK level {m['qwk_level']:.3f}  "
                f"exact {m['exact']:.1%}  adjacent {m['adjacent']:.1%}  MAE {m['mae']:.2f}"
            )
            if "spag" in figures:
                out.print(
                    f"  SPaG QWK {figures['spag']['qwk']:.3f}  exact {figures['spag']['exact']:.1%}"
                )
            for level, row in zip(m["levels"], m["confusion"], strict=True):
                out.print(f"    L{level}: " + " ".join(f"{v:>4}" for v in row))
        return
    data = _training_set(marked, rb, no_base_corpus)
    say(
        f"{len(marked.scripts)} scripts, {len({a.file for a in marked.annotations})} with "
        "sentence labels; cross-validating…"
    )
    evaluation = cross_validate(data, rb, folds, progress=say)
    sentences = sentence_figures(marked, rb, folds) if rb.factors and marked.annotations else {}
    say(f"done in {time.perf_counter() - started:.0f} s")
    if fmt is FiguresFormat.json:
        figures = evaluation.figures
        m = figures["model"]  # the outer figures: the whole procedure, choice included
        record = {k: m[k] for k in ("qwk", "qwk_level", "exact", "adjacent", "mae", "n")}
        record.update({k: figures[k] for k in ("qwk_inner_best", "length_qwk", "spread")})
        record.update(winners=figures["winners"], beats_length=figures["beats_length"])
        record.update(cross_validation=figures, sentence_model=sentences)
        print(json.dumps(record, indent=2))
    else:
        _print_figures(evaluation.figures, sentences, bool(rb.factors))


@app.command()
def train(
    scripts: Annotated[
        Path | None, typer.Option("--scripts", help="Folder of marked scripts.")
    ] = None,
    marks: Annotated[
        Path | None, typer.Option("--marks", help="CSV with file,mark[,spag], or the texts.")
    ] = None,
    from_markbook: Annotated[
        Path | None,
        typer.Option(
            "--from-markbook", help="A batch marks.csv or marks.xlsx with your teacher_mark column."
        ),
    ] = None,
    text_col: Annotated[
        str | None, typer.Option("--text-col", help="--marks holds the texts, in this column.")
    ] = None,
    mark_col: Annotated[str, typer.Option("--mark-col", help="Column of marks.")] = "mark",
    spag_col: Annotated[
        str | None, typer.Option("--spag-col", help="Column of SPaG marks.")
    ] = None,
    id_col: Annotated[
        str | None, typer.Option("--id-col", help="Column naming each script.")
    ] = None,
    rubric: RubricOpt = "stalin-main-reason",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Model file; default: a new version in your essaymark folder."),
    ] = None,
    folds: FoldsOpt = 5,
    no_base_corpus: NoBaseOpt = False,
    force: Annotated[
        bool, flag("--force", help="Use the new model even if it agrees less.")
    ] = False,
) -> None:
    """Train the marker on marked scripts, report cross-validated figures and save it (skops).

    For a rubric with a bundled corpus, your scripts are added to it and weighted to carry
    three quarters of the weight, so the model follows your marks where the two disagree.

    Example: essaymark train --from-markbook marked/marks.csv
    """
    from essay_marker import store
    from essay_marker.dataset import check_trainable, load_markbook, load_marked, load_table
    from essay_marker.model.persist import load_model, save_model
    from essay_marker.rubric import find_rubric
    from essay_marker.training.fit import train as train_model

    started = time.perf_counter()
    try:
        rb = find_rubric(rubric)
        if from_markbook:
            marked = load_markbook(from_markbook, rb, scripts)
        elif text_col and marks:
            marked = load_table(marks, rb, text_col, mark_col, spag_col, id_col)
        elif scripts and marks:
            marked = load_marked(scripts, marks, rb)
        else:
            raise typer.BadParameter(
                "give --scripts DIR --marks CSV, or --marks CSV --text-col COL, "
                "or --from-markbook marked/marks.csv"
            )
        for warning in check_trainable(marked, rb):
            say(f"warning: {warning}")
        current = None if out_file else _model_path(rb, None, False)
        old = load_model(current, rb) if current else None
    except EssaymarkError as exc:
        raise fail(exc) from None
    data = _training_set(marked, rb, no_base_corpus)
    target = out_file or store.next_path(rb.id)
    name = target.stem if out_file else f"{rb.id}@{target.stem}"
    say(f"training on {len(marked.scripts)} scripts for rubric '{rb.id}'…")
    model = train_model(data, rb, name=name, folds=folds, progress=say)
    path = save_model(model, target)
    _print_figures(
        model.card["cross_validation"], model.card.get("sentence_model"), bool(rb.factors)
    )
    out.print(f"saved {path} (trained in {time.perf_counter() - started:.0f} s)", markup=False)
    if out_file:
        return
    if old is not None and not _new_model_wins(old, model, marked, rb, force):
        out.print(
            f"kept {old.scorer_name}: the new model agrees less with your marks. "
            f"'essaymark models use {target.stem} --rubric {rb.id}' switches anyway.",
            markup=False,
        )
        return
    store.use(rb.id, target.stem)
    out.print(f"now marking '{rb.id}' with {model.scorer_name}", markup=False)


def _training_set(marked: MarkedSet, rb: Rubric, no_base: bool) -> TrainingSet:
    """The teacher's scripts, with the rubric's bundled corpus unless told not to."""
    from essay_marker.dataset import base_corpus
    from essay_marker.training.sets import TrainingSet, with_base

    if no_base:
        return TrainingSet(marked, len(marked.scripts))
    try:
        base = base_corpus(rb)
    except EssaymarkError as exc:
        say(f"not using the bundled corpus for '{rb.id}': {exc.message}")
        return TrainingSet(marked, len(marked.scripts))
    data = with_base(marked, base, rb.id)
    extra = len(data.marked.scripts) - data.evaluated
    if extra:
        say(
            f"adding {extra} scripts from the bundled corpus; each of yours weighs "
            f"{data.weight:g} (--no-base-corpus to learn from yours alone)"
        )
    return data


MIN_COMPARE = 10  # scripts the model in use has not seen, for a fair comparison


def _new_model_wins(
    old: TrainedModel, new: TrainedModel, marked: MarkedSet, rb: Rubric, force: bool
) -> bool:
    """Compare the model in use and the new one on the teacher's marks; say which wins.

    The old model is scored only on scripts it was not trained on, so its figure is as
    honest as the new model's cross-validated one.
    """
    from rich.markup import escape

    from essay_marker.dataset import MarkedSet
    from essay_marker.training.fit import held_out_figures
    from essay_marker.training.sets import text_key

    seen = set(old.card.get("data", {}).get("text_keys", []))
    unseen = tuple(s for s in marked.scripts if text_key(s.text) not in seen)
    # The new model's outer figures: its choice of candidate was made inside each fold.
    fresh = new.card["cross_validation"]["model"]
    rows = [("new model, nested cross-validation", len(marked.scripts), fresh)]
    if len(unseen) >= MIN_COMPARE:
        before = held_out_figures(old, MarkedSet(unseen, (), ""), rb)["model"]
        rows.insert(0, (f"in use: {old.scorer_name}", len(unseen), before))
    out.print("[bold]Agreement with your marks[/bold]")
    out.print(f"  {'':34}{'scripts':>8}{'QWK':>7}{'exact':>8}{'adjacent':>10}{'MAE':>7}")
    for label, n, f in rows:
        out.print(
            f"  {escape(label):34}{n:>8}{f['qwk']:>7.3f}{f['exact']:>8.1%}"
            f"{f['adjacent']:>10.1%}{f['mae']:>7.2f}"
        )
    if len(rows) == 1:
        seen_n = len(marked.scripts) - len(unseen)
        out.print(
            f"  {old.scorer_name} was trained on {seen_n} of these {len(marked.scripts)} scripts, "
            "so it cannot be compared fairly on them: the new model is used",
            markup=False,
        )
        return True
    return force or fresh["qwk"] >= before["qwk"]


@app.command()
def moderate(
    folder: Annotated[
        Path, typer.Argument(help="The folder 'essaymark batch' wrote (it holds marks.csv).")
    ],
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            "-n",
            min=1,
            help="How many scripts to choose (default: a fifth of the class, at least 10).",
        ),
    ] = None,
    report: Annotated[bool, flag("--report", help="Compare your marks with essaymark's.")] = False,
    show_marks: Annotated[
        bool, flag("--show-marks", help="Put essaymark's marks in the sheet.")
    ] = False,
    marks: Annotated[
        Path | None,
        typer.Option(
            "--marks",
            help="With --report: your marks in a CSV or XLSX (file, "
            "teacher_mark), if not in the sheet or markbook.",
        ),
    ] = None,
    rubric: Annotated[
        str | None,
        typer.Option("--rubric", "-r", help="Rubric id or file (default: the batch's)."),
    ] = None,
) -> None:
    """Choose scripts for you to mark yourself, then see where essaymark agrees with you.

    Example: essaymark moderate marked/ ; mark the scripts in marked/moderation.xlsx ;
    essaymark moderate marked/ --report
    """
    from essay_marker import moderation as mod
    from essay_marker.fsutil import atomic_write
    from essay_marker.rubric import find_rubric

    try:
        table = mod.markbook_rows(folder)
        rb = find_rubric(rubric or mod.batch_rubric_id(folder) or "stalin-main-reason")
        if report:
            figures = mod.agreement(table, mod.teacher_marks(folder, marks), rb)
        else:
            chosen = mod.choose_sample(table, sample)
            csv_path, xlsx_path = mod.write_sheet(folder, chosen, show_marks)
    except EssaymarkError as exc:
        raise fail(exc) from None
    if not report:
        out.print(
            f"{len(chosen)} scripts to mark yourself, listed in {xlsx_path} and {csv_path} with "
            "a link to each slip and why it was chosen. Mark them as you normally would, put "
            "your marks in the teacher_mark column of either file (or of marks.csv), save, then "
            f"run: essaymark moderate {folder} --report",
            markup=False,
        )
        return
    advice = mod.recommendation(figures, folder)
    page = folder / "moderation.html"
    atomic_write(page, mod.render_report(figures, advice, rb, folder))
    qwk = figures["qwk"] if figures["qwk"] is not None else "n/a"
    out.print(
        f"{figures['n']} scripts marked by you and essaymark: QWK {qwk}, same level "
        f"{figures['exact_level']:.0%}, within one level {figures['adjacent_level']:.0%}, "
        f"essaymark {figures['mean_difference']:+.1f} marks from you on average.",
        markup=False,
    )
    for lv, d in figures["by_level"].items():
        out.print(f"  your Level {lv}: {d['n']} scripts, essaymark {d['mean_difference']:+.1f}",
                  markup=False)  # fmt: skip
    out.print(advice, markup=False)
    out.print(f"{len(figures['disagreements'])} disagreements by a level or more: {page}",
              markup=False)  # fmt: skip


models_app = typer.Typer(help="Your trained models: list them, choose one.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(rubric: RubricOpt = "stalin-main-reason") -> None:
    """List your saved model versions for a rubric (* = in use).

    Example: essaymark models list
    """
    from essay_marker import store

    saved = store.versions(rubric)
    if not saved:
        out.print(
            f"no models of your own for '{rubric}' in {store.rubric_folder(rubric)}; "
            "the bundled model (if any) is used",
            markup=False,
        )
        return
    for v in saved:
        scripts = "?" if v.scripts is None else v.scripts
        qwk = f"{v.qwk:.3f}" if v.qwk is not None else "?"
        note = "\t(model card damaged)" if v.card.get("damaged") else ""
        out.print(
            f"{'*' if v.active else ' '} {v.name}\t{scripts} scripts\tCV QWK {qwk}\t{v.path}{note}",
            markup=False,
        )
    active = any(v.active for v in saved)
    out.print(
        f"{' ' if active else '*'} {store.BUNDLED}\tthe model that ships with essaymark",
        markup=False,
    )


@models_app.command("use")
def models_use(
    version: Annotated[
        str,
        typer.Argument(help="A version from 'essaymark models list', e.g. v2, or 'bundled'."),
    ],
    rubric: RubricOpt = "stalin-main-reason",
) -> None:
    """Mark with one of your saved versions from now on ('bundled': the shipped model).

    Example: essaymark models use v2
    """
    from essay_marker import store
    from essay_marker.errors import RubricError
    from essay_marker.model.persist import load_model, skip_skops_default_trust
    from essay_marker.rubric import find_rubric

    try:
        if version != store.BUNDLED:
            # Refuse a damaged model (or one for another rubric) before it becomes the default.
            try:
                rb = find_rubric(rubric)
            except RubricError:  # a teacher's rubric given by id: check the file alone
                rb = None
            skip_skops_default_trust()
            load_model(store.saved_path(rubric, version), rb)
        path = store.use(rubric, version)
    except EssaymarkError as exc:
        raise fail(exc) from None
    where = f"{version} ({path})" if path else "the bundled model"
    out.print(f"now marking '{rubric}' with {where}", markup=False)


@rubric_app.command("list")
def rubric_list() -> None:
    """List the rubrics that ship with essaymark.

    Example: essaymark rubric list
    """
    from essay_marker.rubric import list_rubrics, load_rubric

    for rid, path in list_rubrics().items():
        try:
            title = load_rubric(path).title
        except EssaymarkError as exc:
            title = f"[invalid: {exc}]"
        out.print(f"{rid}\t{title}", markup=False)


@rubric_app.command("show")
def rubric_show(rubric_id: Annotated[str, typer.Argument(help="Rubric id or .toml file.")]) -> None:
    """Show a rubric's question, levels and factors.

    Example: essaymark rubric show stalin-main-reason
    """
    from essay_marker.rubric import find_rubric

    try:
        rb = find_rubric(rubric_id)
    except EssaymarkError as exc:
        raise fail(exc) from None
    out.print(f"[bold]{rb.id}[/bold]: {rb.title}")
    out.print(f"Question: {rb.question}", markup=False)
    out.print(f"Marks: {rb.max_mark} + SPaG {rb.spag_max}   File: {rb.path}", markup=False)
    out.print("\n[bold]Levels[/bold]")
    for lv in sorted(rb.levels, key=lambda x: -x.level):
        out.print(f"  Level {lv.level} ({lv.low}-{lv.high}): {lv.descriptor}", markup=False)
    out.print("\n[bold]Factors[/bold]")
    for f in rb.factors:
        star = "*" if f.named else " "
        out.print(
            f" {star} {f.id}: {f.name} ({len(f.cues)} cues, {len(f.evidence)} evidence)",
            markup=False,
        )
    out.print(
        f"\n{len(rb.misconceptions)} misconceptions and {len(rb.dates)} dated events checked; "
        "* = named factor",
        markup=False,
    )


@rubric_app.command("new")
def rubric_new(
    rubric_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. ww1-causes.")],
    question: Annotated[str, typer.Option("--question", help="The question, as students see it.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the .toml file.")],
    max_mark: Annotated[int, typer.Option("--max-mark", min=1, help="Marks for content.")] = 16,
    spag_max: Annotated[int, typer.Option("--spag-max", min=0, help="Marks for SPaG.")] = 4,
    levels: Annotated[int, typer.Option("--levels", min=1, help="Levels above Level 0.")] = 4,
    force: Annotated[bool, flag("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a valid, commented rubric template for a new question.

    Example: essaymark rubric new --id ww1-causes --question "Why did war begin in 1914?"
    --out ww1-causes.toml
    """
    from essay_marker.fsutil import atomic_write
    from essay_marker.rubric import rubric_template

    if out_file.exists() and not force:
        raise fail(
            EssaymarkError(f"{out_file} already exists", "choose another --out or add --force")
        )
    try:
        text = rubric_template(rubric_id, question, max_mark, spag_max, levels)
    except EssaymarkError as exc:
        raise fail(exc) from None
    atomic_write(out_file, text)
    out.print(
        f"wrote {out_file}: edit the level descriptors (and add factors if you wish), then "
        f"'essaymark rubric validate {out_file}'",
        markup=False,
    )


@rubric_app.command("validate")
def rubric_validate(file: Annotated[Path, typer.Argument(help="Rubric .toml file.")]) -> None:
    """Check a rubric file and report the first problem with its key.

    Example: essaymark rubric validate ww1-causes.toml
    """
    from essay_marker.rubric import load_rubric, rubric_warnings

    try:
        rb = load_rubric(file)
    except EssaymarkError as exc:
        raise fail(exc) from None
    summary = (
        f"{len(rb.levels)} levels, {len(rb.factors)} factors, "
        f"{len(rb.misconceptions)} misconceptions, {len(rb.dates)} dated events"
    )
    out.print(f"{file}: valid rubric '{rb.id}' with {summary}", markup=False)
    for warning in rubric_warnings(rb):
        say(f"warning: {file}: {warning}")


def main() -> None:
    """The `essaymark` command: the app, then a quick exit."""
    import gc

    try:
        app()
    finally:
        # The process ends here. Its last garbage collection would walk every object the
        # libraries created (about 0.3 s, a sixth of `check`); freezing them skips that
        # walk. essaymark has closed its files by now and Python flushes stdout and stderr
        # itself, so nothing waits on that collection.
        gc.freeze()
