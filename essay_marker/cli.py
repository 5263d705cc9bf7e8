"""The essaymark command line: parse, call the library, render, choose the exit code."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from essay_marker.commands.common import (
    Backend,
    Exit,
    FiguresFormat,
    FoldsOpt,
    MarksOpt,
    ModelOpt,
    NoBaseOpt,
    RubricOpt,
    RulesOpt,
    ScriptsOpt,
    SourceOpt,
    err,
    fail,
    flag,
    model_path_for,
    needs_a_model,
    out,
    say,
    scorer_for,
    sources,
)
from essay_marker.commands.figures import print_batch_summary, print_figures
from essay_marker.commands.models import models_app
from essay_marker.commands.rubrics import rubric_app
from essay_marker.errors import EssaymarkError
from essay_marker.render.report import Format

if TYPE_CHECKING:
    from essay_marker.dataset import MarkedSet
    from essay_marker.model.trained import TrainedModel
    from essay_marker.rubric import Rubric
    from essay_marker.training.sets import TrainingSet

app = typer.Typer(
    help="Marks and formative feedback for GCSE history essays, offline.",
    no_args_is_help=True,
    # Student text must never appear in a traceback.
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(rubric_app, name="rubric")


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
        scorer = scorer_for(rb, model, rules)
        result = score_essay(
            text, rb, scorer, input_name=name, hide_mark=no_mark, sources=sources(source)
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
        model_path = model_path_for(rb, model, rules)
        needs_a_model(rb, model_path)
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
                sources=sources(source),
                on_json=(lambda r: print(json.dumps(r, ensure_ascii=False), flush=True))
                if fmt is FiguresFormat.json
                else None,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except EssaymarkError as exc:
        raise fail(exc) from None
    if fmt is not FiguresFormat.json:
        print_batch_summary(outcome, no_mark)
    for rel, slip in sorted(outcome.renamed.items()):
        say(f"{rel}: slip named feedback/{slip}.html, so as not to replace another's")
    say(
        f"{outcome.marked} marked, {outcome.failed} could not be read"
        + (f", {outcome.reused} unchanged from last run" if outcome.reused else "")
        + f" in {time.perf_counter() - started:.1f} s; written to {outcome.out_dir}"
    )
    raise typer.Exit(Exit.PARTIAL if outcome.failed else Exit.OK)


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
        print_figures(evaluation.figures, sentences, bool(rb.factors))


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
        current = None if out_file else model_path_for(rb, None, False)
        old = load_model(current, rb) if current else None
    except EssaymarkError as exc:
        raise fail(exc) from None
    data = _training_set(marked, rb, no_base_corpus)
    target = out_file or store.next_path(rb.id)
    name = target.stem if out_file else f"{rb.id}@{target.stem}"
    say(f"training on {len(marked.scripts)} scripts for rubric '{rb.id}'…")
    model = train_model(data, rb, name=name, folds=folds, progress=say)
    path = save_model(model, target)
    print_figures(
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


app.add_typer(models_app, name="models")


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
