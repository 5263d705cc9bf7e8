"""The attack table: what a hostile or careless user tried, and what essaymark does now.

    python benchmarks/attacks.py

Each attack runs against the installed `essaymark` command (or the library where a command
cannot show it) in a scratch folder and prints one row: the attack, what happened, and
whether that is what essaymark promises (README, "Safety"). Linux only (it reads /proc to
find worker processes). About a minute.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "two-reasons-short.txt"
CORPUS = ROOT / "corpus" / "stalin-main-reason"
# The command as the installed entry point runs it (works on versions before `-m`).
ESSAYMARK = [sys.executable, "-c", "from essay_marker.launch import main; main()"]


LIMIT = 60  # seconds an attack's command may take before it counts as a hang


def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    """The essaymark command; a hang past LIMIT comes back as exit code -9 and 'hung'."""
    try:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            [*ESSAYMARK, *args], capture_output=True, text=True, timeout=LIMIT, **kw
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -9, "", f"hung for over {LIMIT} s")


def one_line(done: subprocess.CompletedProcess[str]) -> bool:
    """Exit 2 with a single 'error:' line and no traceback."""
    lines = done.stderr.strip().splitlines()
    return done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:")


def outcome(done: subprocess.CompletedProcess[str]) -> str:
    """What a command did with bad input, in a word or two."""
    if done.returncode == -9:
        return "hung"
    if one_line(done):
        return "refused in one line"
    if "Traceback" in done.stderr:
        return "traceback"
    return f"accepted (exit {done.returncode})"


def padding(tmp: Path) -> tuple[str, bool]:
    from essay_marker.model.persist import bundled_model
    from essay_marker.rubric import find_rubric
    from essay_marker.scoring import score_essay

    rubric = find_rubric("stalin-main-reason")
    model = bundled_model(rubric)
    raised = tried = 0
    rows = [ln.split(",") for ln in (CORPUS / "marks.csv").read_text().splitlines()[1:]]
    weak = [row[0] for row in rows if row[2] in ("1", "2")][:8]  # Level 1-2 answers
    for name in weak:
        path = CORPUS / name
        text = path.read_text(encoding="utf-8")
        for para in [p for p in re.split(r"\n\s*\n", text) if len(p.split()) > 15]:
            tried += 1
            before = score_essay(text, rubric, model).mark
            raised += score_essay(text + "\n\n" + para, rubric, model).mark > before
    return f"{raised} of {tried} pasted paragraphs raised the mark", raised == 0


def slips(tmp: Path) -> tuple[str, bool]:
    folder = tmp / "names"
    folder.mkdir()
    names = ["Bob.txt", "Bob.docx", "Cara Jones.txt", "Cara_Jones.txt", "李明.txt", "王芳.txt"]
    names += ["Zoë.txt", "Zoé.txt"]
    text = EXAMPLE.read_text(encoding="utf-8")
    for n in names:
        if n.endswith(".docx"):
            from docx import Document

            doc = Document()
            doc.add_paragraph(text)
            doc.save(folder / n)
        else:
            (folder / n).write_text(text, encoding="utf-8")
    run("batch", str(folder), "--out", str(tmp / "names-out"), "--jobs", "1")
    made = len(list((tmp / "names-out" / "feedback").glob("*.html")))
    return f"{len(names)} students, {made} slips", made == len(names)


def formulas(tmp: Path) -> tuple[str, bool]:
    from openpyxl import load_workbook

    folder = tmp / "formulas"
    folder.mkdir()
    for n in ["=HYPERLINK(x).txt", "=cmd|' calc'!A0.txt", "+1.txt", "-2.txt", "@SUM(A1).txt"]:
        (folder / n).write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp / "formulas-out"
    run("batch", str(folder), "--out", str(out), "--jobs", "1")
    sheet = load_workbook(out / "marks.xlsx").active
    live = sum(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    raw = sum(
        line.split(",")[0][:1] in "=+-@" for line in (out / "marks.csv").read_text().splitlines()
    )
    return f"{live} formula cells in marks.xlsx, {raw} raw formula starts in marks.csv", not (
        live or raw
    )


def _docx_bomb(paragraphs: int) -> bytes:
    from docx import Document

    blank = io.BytesIO()
    Document().save(blank)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blank.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for part in src.infolist():
            data = src.read(part.filename)
            if part.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>")
                data = head + b"<w:body>" + b"<w:p/>" * paragraphs + tail
            dst.writestr(part.filename, data)
    return out.getvalue()


def bombs(tmp: Path) -> tuple[str, bool]:
    rows, ok = [], True
    for paragraphs in (200_000, 40_000_000):
        path = tmp / f"bomb-{paragraphs}.docx"
        path.write_bytes(_docx_bomb(paragraphs))
        started = time.perf_counter()
        done = run("check", str(path))
        took = time.perf_counter() - started
        rows.append(f"{path.stat().st_size // 1000} KB .docx: {outcome(done)} after {took:.1f} s")
        ok &= one_line(done) and took < 5  # the command's own start-up included
    return "; ".join(rows), ok


def _children(pid: int) -> set[int]:
    out = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat_file.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(stat_file.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def orphans(tmp: Path) -> tuple[str, bool]:
    folder = tmp / "big"
    folder.mkdir()
    for i in range(300):
        (folder / f"s{i:03}.txt").write_text(EXAMPLE.read_text(encoding="utf-8"))
    rows, ok = [], True
    for sig in (signal.SIGTERM, signal.SIGKILL):
        out = tmp / f"big-{sig.name}"
        proc = subprocess.Popen(
            [*ESSAYMARK, "batch", str(folder), "--out", str(out), "--jobs", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers: set[int] = set()
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            workers = _children(proc.pid)
        proc.send_signal(sig)
        proc.wait()
        time.sleep(3)
        left = sum(_alive(w) for w in workers)
        for w in workers:  # whatever essaymark did, leave no process behind
            if _alive(w):
                os.kill(w, signal.SIGKILL)
        temps = len(list(out.rglob("*.tmp")))
        run("batch", str(folder), "--out", str(out), "--jobs", "1", "--glob", "s000.txt")
        after = len(list(out.rglob("*.tmp")))
        rows.append(
            f"{sig.name}: {left} of {len(workers)} workers alive 3 s later, "
            f"{temps} temporary files, {after} after the next run"
        )
        ok &= left == 0 and after == 0 and len(workers) >= 2
    return "; ".join(rows), ok


def links(tmp: Path) -> tuple[str, bool]:
    folder = tmp / "links"
    folder.mkdir()
    (tmp / "secret.txt").write_text("private notes " * 30)
    (folder / "amy.txt").write_text(EXAMPLE.read_text(encoding="utf-8"))
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    (folder / "leak.txt").symlink_to(tmp / "secret.txt")
    os.mkfifo(folder / "pipe.txt")
    done = run("batch", str(folder), "--out", str(tmp / "links-out"), "--jobs", "1")
    book = (tmp / "links-out" / "marks.csv").read_text()
    rows = book.count("\n") - 1
    leaked = "private notes" in "".join(
        p.read_text() for p in (tmp / "links-out" / "feedback").glob("*")
    )
    return (
        f"exit {done.returncode}, {rows} markbook rows for 6 entries, outside file "
        f"{'read' if leaked else 'not read'}",
        done.returncode == 1 and rows == 6 and not leaked,
    )


def tracebacks(tmp: Path) -> tuple[str, bool]:
    nested = tmp / "nested.toml"
    nested.write_text('id = "x"\na = ' + "[" * 5000 + "]" * 5000 + "\n")
    model = tmp / "nested.skops"
    with zipfile.ZipFile(model, "w") as z:
        z.writestr("schema.json", "[" * 100_000 + "]" * 100_000)
    cases = {
        "closed stdin": run("check", "-", stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0)),
        "nested rubric": run("rubric", "validate", str(nested)),
        "nested model schema": run("check", str(EXAMPLE), "--model", str(model)),
    }
    good = [name for name, done in cases.items() if one_line(done)]
    said = ", ".join(f"{name}: {outcome(done)}" for name, done in cases.items())
    return said, len(good) == len(cases)


def rubric_sizes(tmp: Path) -> tuple[str, bool]:
    base = (ROOT / "rubrics" / "stalin-main-reason.toml").read_text(encoding="utf-8")
    feedback = '[factors.feedback]\nabsent = "a"\nmentioned = "m"\nexplained = "e"\nweighed = "w"\n'
    big = {
        "100,000 cues": base
        + '\n[[factors]]\nid = "x"\nname = "X"\nshort = "x"\ncues = ['
        + ", ".join(f'"cue {i}"' for i in range(100_000))
        + "]\n"
        + feedback,
        "10,000 factors": base
        + "".join(
            f'\n[[factors]]\nid = "f{i}"\nname = "F"\nshort = "f"\ncues = ["c {i}"]\n' + feedback
            for i in range(10_000)
        ),
        "9 windowed groups": base
        + '\n[[misconceptions]]\nid = "m"\nclaim = "c"\ncorrection = "c"\nwindow = 30\nall_of = ['
        + ", ".join(f'["w{i}"]' for i in range(9))
        + "]\n",
    }
    rows, ok = [], True
    for name, text in big.items():
        path = tmp / "big.toml"
        path.write_text(text)
        started = time.perf_counter()
        done = run("rubric", "validate", str(path))
        took = time.perf_counter() - started
        rows.append(f"{name}: {outcome(done)} after {took:.1f} s")
        ok &= one_line(done) and took < 10
    return "; ".join(rows), ok


def invisible(tmp: Path) -> tuple[str, bool]:
    text = EXAMPLE.read_text(encoding="utf-8")
    pasted = tmp / "pasted.txt"
    pasted.write_text(text.replace("Stalin", "Sta\u00adlin").replace("Trotsky", "Trot\u200bsky"))
    mark = re.compile(r'"mark": (\d+),')
    clean = mark.findall(run("check", str(EXAMPLE), "-f", "json").stdout)[:1]
    dirty = mark.findall(run("check", str(pasted), "-f", "json").stdout)[:1]
    return f"mark {clean} clean, {dirty} with soft hyphens and zero-width spaces", clean == dirty


def determinism(tmp: Path) -> tuple[str, bool]:
    folder = tmp / "same"
    folder.mkdir()
    for p in sorted(ROOT.glob("tests/fixtures/adversarial/*/*.txt"))[:24]:
        (folder / f"{p.parent.name}-{p.name}").write_bytes(p.read_bytes())
    outputs = set()
    for seed, jobs in (("1", "1"), ("2", "2"), ("3", "1")):
        out = tmp / f"same-{seed}"
        subprocess.run(
            [*ESSAYMARK, "batch", str(folder), "--out", str(out), "--jobs", jobs],
            capture_output=True,
            env=os.environ | {"PYTHONHASHSEED": seed},
        )
        slips = [p.read_bytes() for p in sorted((out / "feedback").glob("*"))]
        outputs.add((*slips, (out / "marks.csv").read_bytes()))
    return f"{len(outputs)} different outputs from 3 runs (hash seeds 1-3, --jobs 1 and 2)", len(
        outputs
    ) == 1


def smaller(tmp: Path) -> tuple[str, bool]:
    big = tmp / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(300_000_000)
    size = run("check", str(big))
    home = os.environ | {"ESSAYMARK_HOME": str(tmp / "home")}
    use = subprocess.run(
        [*ESSAYMARK, "models", "use", "../../etc"], capture_output=True, text=True, env=home
    )
    says = re.search(r"is ([\d,.]+ MB)", size.stderr)
    ok = one_line(size) and "300 MB" in size.stderr and one_line(use)
    return (
        f"a 300 MB file is said to be {says[1] if says else '?'}; "
        f"'models use ../../etc': {outcome(use)}",
        ok,
    )


ATTACKS: list[tuple[str, Callable[[Path], tuple[str, bool]]]] = [
    ("1 a paragraph pasted twice (weak corpus answers)", padding),
    ("2 students with clashing names", slips),
    ("3 file names that are formulas", formulas),
    ("4 .docx decompression bombs", bombs),
    ("5 batch killed mid-run", orphans),
    ("6 links, loops, pipes, links out of the folder", links),
    ("7 inputs that once gave tracebacks", tracebacks),
    ("8 huge rubrics", rubric_sizes),
    ("9 invisible characters from copy-paste", invisible),
    ("10 same input, different hash seeds and --jobs", determinism),
    ("11 over-size message, models use ../", smaller),
]


def main() -> None:
    started = time.perf_counter()
    held = 0
    with tempfile.TemporaryDirectory() as scratch:
        for i, (name, attack) in enumerate(ATTACKS):
            tmp = Path(scratch) / str(i)
            tmp.mkdir()
            try:
                outcome, ok = attack(tmp)
            except Exception as exc:  # an older essaymark may fail an attack outright
                outcome, ok = f"the attack itself failed: {exc.__class__.__name__}: {exc}", False
            held += ok
            print(f"{'held ' if ok else 'FAILS'} | {name} | {outcome}", flush=True)
    print(f"{held} of {len(ATTACKS)} defences hold ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
