"""The one small interface every bank importer implements, and the helpers they share.

An importer answers two questions (beangulp style):

* ``identify(sniff)``: is this file mine?  Decided from content only (formats.md §2);
* ``parse(path, ctx)``: the statements in it, as canonical :class:`Statement` objects.

A value that cannot be read raises :class:`RowError` (file, line, column, value, expected);
a file that cannot be a statement raises :class:`FileRejected`. Nothing else escapes.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Protocol

from reconcile.errors import FileRejected, RowError, ValueFormatError
from reconcile.model import Statement

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 65536


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser may know besides the file: the run's as-of date (for year-less dates) and
    the company's accounts from rules.yaml (account number -> bank), for layouts whose content
    does not name the account (BNIDirect CSV) or the bank (MT940)."""

    as_of: date
    accounts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FileSniff:
    """The first bytes of a file, classified once (formats.md §2), shared by every identify()."""

    path: Path
    head: bytes  # first HEAD_BYTES raw bytes
    kind: str  # "empty" | "ole2" | "zip" | "html" | "json" | "pdf" | "text"
    text: str  # decoded head for text-like kinds ("" otherwise), BOM dropped, NBSP -> space

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def first_lines(self, n: int = 20) -> list[str]:
        """First n non-empty lines, with quotes and surrounding spaces dropped, lower-cased."""
        out: list[str] = []
        for raw in self.text.splitlines():
            s = raw.replace('"', "").strip()
            if s:
                out.append(s.lower())
            if len(out) >= n:
                break
        return out


class Importer(Protocol):
    name: str  # "bca_klikbca_individual": also the layout recorded on every row
    bank: str  # "bca" | "mandiri" | "bni" | "bri" | "" (MT940: from the account)
    title: str  # human name shown in "layouts tried" messages

    def identify(self, sniff: FileSniff) -> bool: ...

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]: ...


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # little-, big-endian


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM dropped), falling back to cp1252; U+00A0 becomes a plain space.

    UTF-16 with a byte-order mark (what Excel writes as "Unicode text") is decoded as such:
    read as cp1252 it would be 'ÿþi\x00n\x00v…', which no importer or header recognises.
    """
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16").replace("\u00a0", " ")  # the BOM sets the byte order
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="strict") if _cp1252_ok(data) else ""
        if not text:
            raise
    return text.replace("\u00a0", " ")


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def read_text(path: Path) -> str:
    """The whole file decoded as :func:`decode_text` does, or FileRejected naming the encoding."""
    data = path.read_bytes()
    try:
        return decode_text(data)
    except UnicodeDecodeError as exc:
        raise FileRejected(
            path.name,
            f"cannot decode byte {data[exc.start]:#04x} at offset {exc.start} ({exc.reason}); "
            "expected UTF-8, UTF-16 with a byte-order mark or Windows-1252 text",
        ) from exc


def csv_records(
    file: str, text: str, *, delimiter: str = ",", strict: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """(1-based physical line where the record starts, fields) for every CSV record.

    Python's csv reader silently closes a quoted field left open at the end of the data, so a
    file cut (or still being written) inside ``"1,500,000.00"`` would read as ``"1,5``: a
    shrunken amount. A last record that ends inside quotes rejects the file instead, naming the
    line where that record starts. ``strict`` also refuses a character after a closing quote.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    start = 1
    held: tuple[int, list[str]] | None = None  # the last record is checked before it is given
    try:
        for cells in reader:
            if held is not None:
                yield held
            held, start = (start, cells), reader.line_num + 1
    except csv.Error as exc:
        if str(exc) == "unexpected end of data":
            raise _cut_inside_quotes(file, start) from exc
        raise FileRejected(file, f"line {reader.line_num}: not valid CSV ({exc})") from exc
    if held is not None:
        tail = "".join(itertools.islice(io.StringIO(text, newline=""), held[0] - 1, None))
        if _ends_inside_quotes(tail, delimiter):
            raise _cut_inside_quotes(file, held[0])
        yield held


def _cut_inside_quotes(file: str, line: int) -> FileRejected:
    return FileRejected(
        file,
        f"line {line}: the file ends inside a quoted field (no closing '\"'); "
        "expected a complete last row: the file is cut short or still being written, "
        "export it again",
    )


def _ends_inside_quotes(record: str, delimiter: str) -> bool:
    """Whether the csv reader (non-strict, double quotes) ends ``record`` in an open quote."""
    state = 0  # 0 start of a field, 1 unquoted field, 2 quoted field, 3 quote in a quoted field
    breaks = (delimiter, "\r", "\n")
    for ch in record:
        if state == 2:
            if ch == '"':
                state = 3
        elif state == 3:
            state = 2 if ch == '"' else 0 if ch in breaks else 1
        elif ch in breaks:
            state = 0
        elif state == 0 and ch == '"':
            state = 2
        else:
            state = 1
    return state == 2


def sniff(path: Path) -> FileSniff:
    """Classify a file by its bytes (formats.md §2, steps 1 and 2)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith(UTF16_BOMS):
        return _sniff_utf16(path, head)
    stripped = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    stripped = stripped.lstrip()
    if not stripped:
        kind = "empty"
    elif head.startswith(OLE2_MAGIC):
        kind = "ole2"
    elif head.startswith(ZIP_MAGIC):
        kind = "zip"
    elif stripped.startswith(b"%PDF"):
        kind = "pdf"
    elif stripped.startswith(b"<"):
        kind = "html"
    elif stripped.startswith(b"{"):
        kind = "json"
    else:
        kind = "text"
    text = ""
    if kind in ("text", "html", "json"):
        # the head may end inside a multi-byte character: decode leniently for sniffing only
        try:
            text = decode_text(head)
        except UnicodeDecodeError:
            text = head.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\u00a0", " ")
    return FileSniff(path=path, head=head, kind=kind, text=text)


def _sniff_utf16(path: Path, head: bytes) -> FileSniff:
    """A UTF-16 text file classified by its characters (the head may end inside one)."""
    text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace").replace("\u00a0", " ")
    stripped = text.lstrip()
    if not stripped:
        kind = "empty"
    elif stripped.startswith("<"):
        kind = "html"
    elif stripped.startswith("{"):
        kind = "json"
    else:
        kind = "text"
    return FileSniff(path=path, head=head, kind=kind, text="" if kind == "empty" else text)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def row_context(file: str, line: int, column: str) -> Iterator[None]:
    """Turn a pure parser's ValueFormatError into a RowError naming file, line and column."""
    try:
        yield
    except ValueFormatError as exc:
        raise RowError(file, line, column, exc.value, exc.expected) from exc


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds its rows.

    A 100k-line statement allocates hundreds of thousands of objects and no reference cycles;
    every collection the allocations trigger re-scans all rows built so far (about a sixth of
    the parse time). Collection resumes afterwards if it was on; nested use is harmless.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def digits_only(text: str) -> str:
    """'037-254-3386' -> '0372543386'; the apostrophe/backtick guards are dropped too."""
    return "".join(ch for ch in text if ch.isdigit())


class MemoisedMoments:
    """Reads ``'<date> hh?mm?ss'`` texts of one fixed, strict layout, each distinct date and time
    of day once (fast paths: a statement repeats them thousands of times).

    A text that is not in the strict layout goes to ``fallback`` (the layout's full parser,
    which also accepts its other forms and raises the project's error on garbage). An impossible
    strict date raises ``ValueError`` from :class:`datetime.date`, which fast paths treat as
    "decline this row".
    """

    __slots__ = ("_date_width", "_days", "_fallback", "_read_date", "_strict", "_times")

    def __init__(
        self,
        strict: re.Pattern[str],
        date_width: int,
        read_date: Callable[[str], date],
        fallback: Callable[[str], datetime],
    ) -> None:
        self._strict = strict
        self._date_width = date_width
        self._read_date = read_date
        self._fallback = fallback
        self._days: dict[str, date] = {}
        self._times: dict[str, time] = {}

    def __call__(self, text: str) -> tuple[date, time]:
        w = self._date_width
        day = self._days.get(text[:w])
        clock = self._times.get(text[w + 1 :])
        # keys come from strict texts only, so two hits on a text of the strict length mean it
        # is strict
        if day is not None and clock is not None and len(text) == w + 9 and text[w] == " ":
            return day, clock
        if not self._strict.fullmatch(text):
            moment = self._fallback(text)
            return moment.date(), moment.time()
        if day is None:
            day = self._days[text[:w]] = self._read_date(text[:w])
        if clock is None:
            hms = text[w + 1 :]
            clock = self._times[hms] = time(int(hms[0:2]), int(hms[3:5]), int(hms[6:8]))
        return day, clock
