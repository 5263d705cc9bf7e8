"""The few exceptions essaymark raises; the CLI turns each into one line and an exit code."""

from __future__ import annotations


class EssaymarkError(Exception):
    """Base class: a problem the user can fix, described in one line with a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class RubricError(EssaymarkError):
    """A rubric file is missing, unreadable or invalid; names the file and the key."""

    def __init__(self, path: str, key: str, problem: str, hint: str = "") -> None:
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}", hint)
        self.path = path
        self.key = key


class InputError(EssaymarkError):
    """An essay file cannot be read as text (missing, a folder, binary, empty, corrupt)."""


class ModelError(EssaymarkError):
    """A model file cannot be used (wrong format, wrong rubric, untrusted contents)."""


class DataError(EssaymarkError):
    """Marked scripts for training are missing, inconsistent or too few."""


class ClusterError(EssaymarkError):
    """The Dask backend is not installed, or its cluster cannot be reached or used."""
