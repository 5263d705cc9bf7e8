"""The trained marker: its pipelines, thresholds, figures, and saving and loading (skops only).

The mark is an ordinal treatment of a ridge regression: the regression's continuous
output is cut into marks by thresholds tuned for quadratic weighted kappa on
out-of-fold predictions of the training data. A sentence-level factor model finds
factors written in the student's own words, on top of the rubric's cue phrases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from essay_marker.errors import ModelError
from essay_marker.fsutil import read_card
from essay_marker.model.ordinal import OrdinalRegressor
from essay_marker.model.sentence import SentenceModel
from essay_marker.model.status import StatusModel
from essay_marker.model.trained import TrainedModel
from essay_marker.rubric import Rubric, bundled_dirs

FORMAT_VERSION = 1
# Types a model file may contain; skops refuses anything else. Never taken from input.
ALLOWED_TYPES = (
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._polynomial.PolynomialFeatures",
    "sklearn.utils._bunch.Bunch",
)


# --------------------------------------------------------------------------- files


def _types_in(path: Path) -> set[str]:
    """Every type named in a skops file's schema, read without loading anything."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node and "__class__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def save_model(model: TrainedModel, path: str | Path) -> Path:
    """Write the model with skops and its card as JSON beside it (same stem, .json)."""
    import json
    import zipfile

    import skops.io as sio

    path = Path(path)
    bundle = {
        "format_version": FORMAT_VERSION,
        "name": model.name,
        "rubric_id": model.rubric_id,
        "rubric_sha256": model.rubric_sha256,
        "columns": model.columns,
        # One string, not a list: thousands of skops list items make loading slow.
        "familiar": "\n".join(sorted(model.familiar)),
        "credited": "\n".join(sorted(model.credited)),
        "mark": model.mark.to_dict(),
        "spag": model.spag.to_dict() if model.spag else {},
        "sentence": (
            {
                "pipeline": model.sentence.pipeline,
                "factors": model.sentence.factors,
                "threshold": model.sentence.threshold,
                "role_pipeline": model.sentence.role_pipeline,
                "status": [
                    {"pipeline": s.pipeline, "factors": s.factors, "threshold": s.threshold}
                    for s in model.sentence.status
                ],
            }
            if model.sentence
            else {}
        ),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sio.dump(bundle, tmp, compression=zipfile.ZIP_DEFLATED)
    tmp.replace(path)
    card_path = path.with_suffix(".json")
    card_tmp = card_path.with_name(card_path.name + ".tmp")
    card_tmp.write_text(json.dumps(model.card, indent=2) + "\n", encoding="utf-8")
    card_tmp.replace(card_path)
    return path


_SKOPS_DEFAULTS = "skops.io._trusted_types"


def _no_default_types(name: str) -> list[str]:
    if name.endswith("_TYPE_NAMES"):
        return []
    raise AttributeError(name)


def skip_skops_default_trust() -> None:
    """Let this process import skops.io without building skops' default trust lists.

    At import, skops.io lists every scikit-learn estimator (importing all of scikit-learn)
    and every SciPy and NumPy ufunc, to trust them by default: about 0.6 s, a quarter of
    `essaymark check`. load_model never relies on those defaults: it checks every type in
    a file against ALLOWED_TYPES and passes that list to skops, so with empty defaults
    skops trusts less, not more. For processes essaymark owns (the CLI): other code there
    that loads skops files without naming the types it trusts would find them refused.
    Does nothing once skops.io is imported.
    """
    import sys
    import types

    if "skops.io" in sys.modules or _SKOPS_DEFAULTS in sys.modules:
        return
    defaults = types.ModuleType(_SKOPS_DEFAULTS, "Empty default trust lists (essaymark).")
    defaults.__getattr__ = _no_default_types  # type: ignore[method-assign]
    defaults.essaymark_stand_in = True  # type: ignore[attr-defined]
    sys.modules[_SKOPS_DEFAULTS] = defaults


def _skops_io() -> Any:
    """skops.io; imported in full if a newer skops needs more than the empty trust lists."""
    import sys

    try:
        import skops.io as sio
    except ImportError:
        if not getattr(sys.modules.get(_SKOPS_DEFAULTS), "essaymark_stand_in", False):
            raise
        for name in [m for m in sys.modules if m == "skops.io" or m.startswith("skops.io.")]:
            del sys.modules[name]
        import skops.io as sio
    return sio


def load_model(path: str | Path, rubric: Rubric | None) -> TrainedModel:
    """Load a skops model file for this rubric, refusing unknown types and other rubrics.

    rubric None checks the file alone (`models use` when the rubric is given by id only).
    """
    import zipfile

    sio = _skops_io()
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path} does not exist", "train one with 'essaymark train'")
    try:
        found = _types_in(path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RecursionError) as exc:
        raise ModelError(
            f"{path} is not a skops model file ({exc.__class__.__name__})",
            "essaymark only loads models saved by 'essaymark train'",
        ) from None
    refused = sorted(found - set(ALLOWED_TYPES))
    if refused:
        raise ModelError(
            f"{path} contains types essaymark does not trust: {', '.join(refused[:3])}",
            "only load models saved by 'essaymark train'",
        )
    try:
        bundle = sio.load(path, trusted=list(ALLOWED_TYPES))
    except Exception as exc:  # skops raises many kinds on a damaged file
        raise ModelError(
            f"{path} could not be loaded ({exc.__class__.__name__})",
            "train the model again with 'essaymark train'",
        ) from None
    if not isinstance(bundle, dict) or bundle.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} is not an essaymark model of format {FORMAT_VERSION}",
            "train the model again with 'essaymark train'",
        )
    damaged = ModelError(
        f"{path} is damaged (a part of it has the wrong type or is missing)",
        "train the model again with 'essaymark train'",
    )
    if not all(isinstance(bundle.get(k), str) for k in ("name", "rubric_id", "rubric_sha256")):
        raise damaged
    if rubric and (bundle["rubric_id"] != rubric.id or bundle["rubric_sha256"] != rubric.sha256):
        raise ModelError(
            f"{path} was trained for rubric '{bundle['rubric_id']}' "
            f"(sha256 {bundle['rubric_sha256'][:12]}), not this version of '{rubric.id}' "
            f"({rubric.sha256[:12]})",
            "retrain with 'essaymark train' after changing a rubric",
        )
    try:
        sentence = dict(bundle["sentence"])
        # Files saved before the status models have no "status"; before there could be
        # several, one (a dict, empty for none).
        status = sentence.pop("status", [])
        if sentence:
            status = [status] if isinstance(status, dict) and status else status or []
            sentence["status"] = [StatusModel(**part) for part in status]
        trained = TrainedModel(
            name=bundle["name"],
            rubric_id=bundle["rubric_id"],
            rubric_sha256=bundle["rubric_sha256"],
            columns=[str(c) for c in bundle["columns"]],
            mark=OrdinalRegressor.from_dict(bundle["mark"]),
            spag=OrdinalRegressor.from_dict(bundle["spag"]) if bundle["spag"] else None,
            sentence=SentenceModel(**sentence) if sentence else None,
            card=read_card(path.with_suffix(".json")),
            familiar=_stored_pairs(bundle.get("familiar", "")),
            # Files saved before this set existed judge everyday things by the familiar pairs.
            credited=_stored_pairs(bundle.get("credited", bundle.get("familiar")) or ""),
        )
        trained.check()
    except (KeyError, TypeError, ValueError, AttributeError):
        raise damaged from None
    return trained


def _stored_pairs(stored: str | list[str]) -> frozenset[str]:
    """Word pairs as saved: one newline-separated string (older files: a list)."""
    pairs = stored.split("\n") if isinstance(stored, str) else stored
    return frozenset(p for p in pairs if p)


def model_dirs() -> list[Path]:
    """Where bundled models live."""
    return bundled_dirs("models")


def bundled_model_path(rubric: Rubric) -> Path | None:
    """The file of the model shipped for this rubric, if there is one."""
    for d in model_dirs():
        path = d / f"{rubric.id}.skops"
        if path.is_file():
            return path
    return None


def bundled_model(rubric: Rubric) -> TrainedModel | None:
    """The model shipped for this rubric, or None when there is none."""
    path = bundled_model_path(rubric)
    return load_model(path, rubric) if path else None
