"""Regenerate tests/golden/*.json from examples/: `python -m tests.regen_golden`.

Golden files are generated, never edited by hand; review the diff before committing.
"""

from __future__ import annotations

import json
from pathlib import Path

from essay_marker.render.report import result_to_dict
from essay_marker.rubric import Rubric, find_rubric
from essay_marker.scoring import score_essay

TESTS = Path(__file__).parent
GOLDEN = TESTS / "golden"
EXAMPLES = TESTS.parent / "examples"


def golden_record(path: Path, rubric: Rubric) -> dict:
    """The result for one example, with the file name only (no machine paths)."""
    result = score_essay(path.read_text(encoding="utf-8"), rubric, input_name=path.name)
    return json.loads(json.dumps(result_to_dict(result)))


def regen_batch(rubric: Rubric) -> None:
    """The markbook for tests/fixtures/class, marked with the shipped model."""
    import tempfile

    from essay_marker.batch.run import run_batch
    from essay_marker.model.persist import bundled_model_path

    with tempfile.TemporaryDirectory() as tmp:
        run_batch(TESTS / "fixtures" / "class", Path(tmp), rubric, bundled_model_path(rubric))
        (GOLDEN / "batch-marks.csv").write_bytes((Path(tmp) / "marks.csv").read_bytes())
    print(f"wrote {GOLDEN / 'batch-marks.csv'}")


def main() -> None:
    rubric = find_rubric("stalin-main-reason")
    regen_batch(rubric)
    GOLDEN.mkdir(exist_ok=True)
    for path in sorted(EXAMPLES.glob("*.txt")):
        record = {
            "generated_by": "python -m tests.regen_golden; do not edit",
            "result": golden_record(path, rubric),
        }
        (GOLDEN / f"{path.stem}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"wrote {GOLDEN / (path.stem + '.json')}")


if __name__ == "__main__":
    main()
