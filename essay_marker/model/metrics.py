"""Agreement figures as the field reports them: QWK, exact and adjacent level, MAE."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from essay_marker.rubric import Rubric

Marks = Sequence[int] | np.ndarray  # integer marks, as a list or an array


def qwk(y: Marks, p: Marks, labels: Sequence[int] | None = None) -> float:
    """Quadratic weighted kappa (sklearn's), 1 for identical constant marks, never NaN."""
    if len(set(y)) < 2 and len(set(p)) < 2:
        return 1.0 if list(y) == list(p) else 0.0
    value = cohen_kappa_score(y, p, weights="quadratic", labels=labels)
    return 0.0 if math.isnan(value) else float(value)


def agreement(rubric: Rubric, y: Marks, p: Marks) -> dict[str, Any]:
    """QWK, exact/adjacent level agreement, MAE, Pearson r and the level confusion matrix."""
    y, p = np.asarray(y), np.asarray(p)
    ly = np.array([rubric.level_for(int(m)).level for m in y])
    lp = np.array([rubric.level_for(int(m)).level for m in p])
    levels = sorted(lv.level for lv in rubric.levels)
    pearson = float(np.corrcoef(y, p)[0, 1]) if np.std(y) and np.std(p) else 0.0
    return {
        "n": len(y),
        "qwk": round(qwk(y, p, list(range(rubric.max_mark + 1))), 4),
        "qwk_level": round(qwk(ly, lp, levels), 4),
        "exact": round(float(np.mean(ly == lp)), 4),
        "adjacent": round(float(np.mean(np.abs(ly - lp) <= 1)), 4),
        "exact_mark": round(float(np.mean(y == p)), 4),
        "mae": round(float(np.mean(np.abs(y - p))), 4),
        "pearson": round(pearson, 4),
        "levels": levels,
        "confusion": confusion_matrix(ly, lp, labels=levels).tolist(),
    }


def spag_agreement(y: Marks, p: Marks, top: int) -> dict[str, Any]:
    y, p = np.asarray(y), np.asarray(p)
    return {
        "n": len(y),
        "qwk": round(qwk(y, p, list(range(top + 1))), 4),
        "exact": round(float(np.mean(y == p)), 4),
        "adjacent": round(float(np.mean(np.abs(y - p) <= 1)), 4),
    }
