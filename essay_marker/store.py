"""Teachers' own models: versioned files in the user's essaymark folder, one active per rubric.

Models live in $ESSAYMARK_HOME or the platform's user data folder (never inside the
installed package), as models/<rubric-id>/v<N>.skops with the model card beside each.
Nothing is overwritten: a new training run adds a version; `active` names the one in use.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from essay_marker.errors import ModelError
from essay_marker.fsutil import dig, read_card

_VERSION = re.compile(r"^v(\d+)$")


def home() -> Path:
    """The essaymark data folder."""
    env = os.environ.get("ESSAYMARK_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("essaymark", appauthor=False)


def rubric_folder(rubric_id: str) -> Path:
    """Where a rubric's teacher models are kept."""
    return home() / "models" / rubric_id


@dataclass(frozen=True)
class Version:
    """One saved teacher model."""

    name: str
    path: Path
    active: bool
    card: dict

    @property
    def qwk(self) -> float | None:
        """Cross-validated QWK from its card, if recorded."""
        qwk = dig(self.card, "cross_validation", "model", "qwk")
        return float(qwk) if isinstance(qwk, int | float) else None

    @property
    def scripts(self) -> int | None:
        """How many marked scripts it was trained on, if recorded."""
        n = dig(self.card, "data", "scripts")
        return n if isinstance(n, int) else None


def active_name(rubric_id: str) -> str | None:
    """The version in use for a rubric, if a teacher has one."""
    marker = rubric_folder(rubric_id) / "active"
    if not marker.is_file():
        return None
    name = marker.read_text(encoding="utf-8").strip()
    return name if (rubric_folder(rubric_id) / f"{name}.skops").is_file() else None


def versions(rubric_id: str) -> list[Version]:
    """Saved versions, oldest first."""
    folder = rubric_folder(rubric_id)
    current = active_name(rubric_id)
    found = []
    for path in folder.glob("v*.skops"):
        m = _VERSION.match(path.stem)
        if not m:
            continue
        card = read_card(path.with_suffix(".json"))
        found.append((int(m.group(1)), Version(path.stem, path, path.stem == current, card)))
    return [v for _, v in sorted(found, key=lambda item: item[0])]


def next_path(rubric_id: str) -> Path:
    """The file for a new version (one more than the highest so far)."""
    numbers = [int(m.group(1)) for v in versions(rubric_id) if (m := _VERSION.match(v.name))]
    return rubric_folder(rubric_id) / f"v{max(numbers, default=0) + 1}.skops"


def active_path(rubric_id: str) -> Path | None:
    """The active teacher model's file, if any."""
    name = active_name(rubric_id)
    return rubric_folder(rubric_id) / f"{name}.skops" if name else None


BUNDLED = "bundled"  # `models use bundled`: back to the model that ships with essaymark


def version_path(rubric_id: str, name: str) -> Path:
    """A saved version's file; the name must be a version (v1, v2…), never a path."""
    if not _VERSION.match(name):
        raise ModelError(
            f"{name!r} is not a model version",
            "give a version from 'essaymark models list', such as v2, or 'bundled'",
        )
    return rubric_folder(rubric_id) / f"{name}.skops"


def use(rubric_id: str, name: str) -> Path | None:
    """Make a saved version the one `check` and `batch` use ('bundled': none of them)."""
    from essay_marker.fsutil import atomic_write

    marker = rubric_folder(rubric_id) / "active"
    if name == BUNDLED:
        marker.unlink(missing_ok=True)
        return None
    path = saved_path(rubric_id, name)
    atomic_write(marker, name + "\n")
    return path


def saved_path(rubric_id: str, name: str) -> Path:
    """A saved version's file; ModelError listing the saved ones when there is no such version."""
    path = version_path(rubric_id, name)
    if not path.is_file():
        known = ", ".join(v.name for v in versions(rubric_id)) or "none yet"
        raise ModelError(f"no model {name} for rubric '{rubric_id}'",
                         f"saved versions: {known} (see 'essaymark models list')")  # fmt: skip
    return path
