"""File utilities below every stage: atomic writes, and user text made safe for spreadsheets."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, may); file names and messages come from users, so they are guarded.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PID_END = "~"  # ends the process id in a temporary file's name
_TEMP = re.compile(r"^\..+\.(\d+)~[^/]*\.tmp$")


def text_cell(value: str) -> str:
    """Text for a CSV cell that a spreadsheet shows as text: a leading ' before =, +, -, @."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def cell_text(value: str) -> str:
    """The text a text_cell() guarded (the guard taken off again)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


@contextmanager
def atomic_file(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file beside path that is renamed over it when the block ends without error.

    durable also flushes to disk before the rename (the markbook); slips, which a rerun
    rewrites, skip that cost.
    """
    # The process id in the name lets a later run tell a dead run's leftovers from a live one's.
    prefix = f".{path.name}.{os.getpid()}{_PID_END}"
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except FileNotFoundError:  # the folder is made once, not asked for before every slip
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        # mkstemp makes the file readable by its owner only; outputs follow the umask, as
        # any other program's would (README: "Student data").
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: str | bytes, durable: bool = True) -> None:
    """Write to a temporary file beside path, then rename over it (see atomic_file)."""
    with atomic_file(path, durable) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


@cache
def _file_mode() -> int:
    """The mode a new file gets under this process's umask (read once)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o666 & ~mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clean_stale_temps(folder: Path) -> int:
    """Remove temporary files that a run which has since died left in folder; return how many.

    A run killed before it could rename its files (SIGKILL, a power cut) leaves them; a
    file whose process is still running is left alone.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMP.match(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


def read_card(path: Path) -> dict[str, Any]:
    """A model card (JSON) as a dict: {} when missing, {"damaged": True} when unreadable.

    A card only describes a model; a damaged one must not stop the model being listed or used.
    """
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {"damaged": True}
    return card if isinstance(card, dict) else {"damaged": True}


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]… or None where a level is missing or not a table (cards are user files)."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
