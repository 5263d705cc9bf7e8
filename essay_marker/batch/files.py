"""A class folder's files: what to mark, what cannot be read, and each script's slip name."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from essay_marker.readers import SUPPORTED

_SLUG = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Found:
    """An entry of the class folder to mark, or to list with why it cannot be read."""

    path: Path
    relative: str
    problem: str = ""


def _pattern(glob: str) -> re.Pattern[str]:
    """A --glob pattern ('**/*', '*.docx', 'set2/**/*') as a regex on relative paths."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            close = glob.index("]", i + 2)
            out.append("[" + glob[i + 1 : close].replace("\\", "\\\\").replace("!", "^", 1) + "]")
            i = close + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _link_problem(path: Path, rel: str, inside: Path) -> str | None:
    """Why a symbolic link is not followed; "" for a link to an essay inside the folder, and
    None for a link to a folder inside it (its files are found where they really are)."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return f"{rel} is a link that loops back on itself"
    except OSError:
        return f"{rel} is a link to a file that does not exist"
    kind = "folder" if target.is_dir() else "file"
    if not target.is_relative_to(inside):
        return (
            f"{rel} is a link to a {kind} outside the class folder, so it was not read "
            f"(copy the {kind} into the folder)"
        )
    if kind == "folder":
        return None
    if not target.is_file():
        return f"{rel} is a link to something that is not a file"
    return ""


def discover(folder: Path, pattern: str = "**/*", exclude: Path | None = None) -> list[Found]:
    """Essay files under folder, sorted, and the entries that cannot be read, with why.

    Hidden files, Word lock files (~$…) and files of other types are skipped. Nothing
    outside the folder is read: links out of it, links that loop or lead nowhere, and pipes
    or devices become entries with a problem instead of stopping the batch.
    """
    inside = folder.resolve()
    skip = exclude.resolve() if exclude else None
    wanted = _pattern(pattern)
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for name in [*dirs, *files]:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith((".", "~$")) or not wanted.match(rel):
                continue
            if skip and path.absolute().is_relative_to(skip):
                continue
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue  # gone since it was listed
            if stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode):
                problem = _link_problem(path, rel, inside)
                if problem or (problem == "" and path.suffix.lower() in SUPPORTED):
                    found.append(Found(path, rel, problem))
            elif not stat.S_ISREG(mode):
                found.append(Found(path, rel, f"{rel} is not a regular file (a pipe or a device)"))
            elif path.suffix.lower() in SUPPORTED:
                found.append(Found(path, rel))
    return sorted(found, key=lambda f: f.relative)


# Names Windows will not use for a file, whatever the extension.
_RESERVED = frozenset(
    [
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    ]
)


_SLIP_CHARS = 100  # a slip name stays well inside every file system's name limit


def slip_name(relative: str) -> str:
    """A readable, file-name-safe slip name from a relative path (set2/Zoë B.docx -> set2__Zoë_B).

    Letters of every script are kept; anything else that is not a digit, '.', '-' or '_'
    becomes '_'.
    """
    relative = unicodedata.normalize("NFC", relative)
    stem = relative.rsplit(".", 1)[0] if "." in Path(relative).name else relative
    parts = []
    for part in stem.split("/"):
        part = _SLUG.sub("_", part).strip("_.") or "script"
        parts.append(part + "_" if part.casefold() in _RESERVED else part)
    return "__".join(parts)[:_SLIP_CHARS]


def slip_names(relatives: list[str]) -> dict[str, str]:
    """A slip name for every script, no two the same even on a file system that ignores case.

    A name that would repeat an earlier one gets the file's extension ('Bob-docx'), then a
    number ('Cara_Jones-2'), so one student's slip never replaces another's.
    """
    out: dict[str, str] = {}
    taken: dict[str, str] = {}  # name (case-folded) -> extension of the file that has it
    for rel in sorted(relatives):
        base = slip_name(rel)
        ext = Path(rel).suffix.lstrip(".").lower()
        name = base
        if name.casefold() in taken:
            # The extension tells Bob.txt from Bob.docx; a number tells the rest apart.
            if ext and taken[name.casefold()] != ext:
                name = f"{base}-{ext}"
            n = 2
            while name.casefold() in taken:
                name = f"{base}-{n}"
                n += 1
        taken[name.casefold()] = ext
        out[rel] = name
    return out
