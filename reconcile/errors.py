"""Typed errors. Each says where (file, line, column) and what was expected.

No fallback values anywhere: a value that cannot be read raises one of these, and the
pipeline turns it into a rejected file with a ``.reason.txt`` beside it.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """Base class of every error the project raises on purpose."""


class ConfigError(ReconcileError):
    """rules.yaml (or a flag) is wrong. ``problems`` lists every problem, each by key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class ValueFormatError(ReconcileError, ValueError):
    """A single value does not have the expected syntax (raised by the pure parsers).

    Importers catch it and re-raise it as :class:`RowError` with file, line and column.
    """

    def __init__(self, value: str, expected: str) -> None:
        self.value = value
        self.expected = expected
        super().__init__(f"cannot read {value!r}; expected {expected}")


class FileRejected(ReconcileError):
    """The whole file is refused; nothing of it is imported."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


class RowError(FileRejected):
    """One row of a file cannot be read; the file is rejected whole."""

    def __init__(self, file: str, line: int, column: str, value: str, expected: str) -> None:
        self.line = line
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(
            file,
            f"line {line}, column {column!r}: cannot read {value!r}; expected {expected}",
        )


class LockBusy(ReconcileError):
    """Another run holds the lock."""
