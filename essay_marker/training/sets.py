"""What a model is trained on: a teacher's marked scripts, with the bundled corpus or without."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from essay_marker.dataset import MarkedSet

TEACHER_SHARE = 0.75  # of the total training weight, when a base corpus is added


@dataclass(frozen=True)
class TrainingSet:
    """The scripts to learn from: which are evaluated on, and how much each weighs."""

    marked: MarkedSet  # every script, evaluation scripts first
    evaluated: int  # the first `evaluated` scripts are the teacher's: folds and figures use them
    weight: float = 1.0  # of each evaluation script; base scripts weigh 1
    base_name: str | None = None

    @property
    def weights(self) -> np.ndarray:
        n = len(self.marked.scripts)
        return np.where(np.arange(n) < self.evaluated, self.weight, 1.0)


def with_base(teacher: MarkedSet, base: MarkedSet | None, base_name: str = "") -> TrainingSet:
    """The teacher's scripts, plus the base corpus weighted so the teacher's marks dominate.

    Base scripts whose text the teacher also gave are dropped (the teacher's mark wins).
    """
    n = len(teacher.scripts)
    if base is None or not base.scripts:
        return TrainingSet(teacher, n)
    own = {text_key(s.text) for s in teacher.scripts}
    extra = tuple(s for s in base.scripts if text_key(s.text) not in own)
    if not extra:
        return TrainingSet(teacher, n)
    files = {s.file for s in extra}
    # A teacher's file may share a name with a corpus file: keep the corpus's apart.
    clash = files & {s.file for s in teacher.scripts}
    rename = {f: f"{base_name or 'base'}/{f}" for f in clash}
    scripts = teacher.scripts + tuple(
        type(s)(rename.get(s.file, s.file), s.text, s.mark, s.spag) for s in extra
    )
    notes = teacher.annotations + tuple(
        type(a)(rename.get(a.file, a.file), a.start, a.end, a.factor, a.role)
        for a in base.annotations
        if a.file in files
    )
    digest = hashlib.sha256((teacher.sha256 + base.sha256).encode()).hexdigest()
    weight = max(1.0, TEACHER_SHARE / (1 - TEACHER_SHARE) * len(extra) / n)
    return TrainingSet(MarkedSet(scripts, notes, digest), n, round(weight, 3), base_name or None)


def text_key(text: str) -> str:
    """A short hash of a script's words, kept in a card to know what a model has seen."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]
