"""The run's workbook packaged while it is written, not after.

xlsxwriter packages a workbook when it is closed: every sheet's XML is deflated then, one
part after another, once the last sheet is written (at 1M bank lines 680 MB of sheet XML, about
4 s of zlib that nothing else overlapped but the CSVs). Here a finished sheet is *sealed*: its
XML (head and tail written by xlsxwriter itself, the rows in between read from the row file of
constant_memory mode) is deflated at once in a background thread, which runs on the other core
while the next sheet is rendered (zlib releases the GIL; the data goes in 8 MB pieces, so the
thread seldom needs the GIL back). On close xlsxwriter packages the workbook as always, but with
each sealed sheet as an empty part; the file is then put together from that package with the
sealed sheets' deflated XML in their places.

The file is the one xlsxwriter writes alone, byte for byte: the same zlib stream (deflate's
output does not depend on how its input is cut), the same entries with their times and
attributes, the same central directory (tests compare both ways of writing).
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileSizeError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

CHUNK = 1 << 23  # bytes read and deflated at a time: each call releases the GIL for ~50 ms
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_CENTRAL_DIR = struct.Struct("<4s4B4HL2L5H2L")  # zipfile.structCentralDir
_END_RECORD = struct.Struct("<4s4H2LH")  # zipfile.structEndArchive
# what gives a worksheet relationships or parts the packager numbers on close
_PREPARED_ON_CLOSE = (
    "charts", "images", "shapes", "tables", "header_images", "footer_images", "background_image",
    "has_comments", "comments_list", "buttons_list", "has_vml", "has_header_vml", "hlink_count",
    "sparklines",
)  # fmt: skip


@dataclass
class Deflated:
    """A part's raw deflate stream (in ``data``) with its CRC-32 and sizes."""

    data: IO[bytes]
    crc: int
    size: int
    compressed: int


class SealedWorksheet(Worksheet):
    """A constant_memory worksheet that can be finished before the workbook is closed:
    ``seal`` gives its XML in three pieces (head, the file holding its rows, tail) and from
    then on xlsxwriter's packager writes it as an empty part."""

    sealed = False
    _sealing = False
    _rows_at: int | None = None

    def formats_to_write(self) -> list[Format]:
        """The formats sealing would write into the XML now: the pending row's (cells and
        row) and the columns'."""
        row = self.previous_row
        formats = [getattr(cell, "format", None) for cell in self.table.get(row, {}).values()]
        info = self.row_info.get(row)
        formats.append(info.row_format if info is not None else None)
        formats += [info.column_format for info in self.col_info.values()]
        return [f for f in formats if f is not None]

    def seal(self) -> tuple[bytes, str | None, bytes]:
        """What the packager does for this sheet on close, now: write the pending row,
        close the row file, assemble the XML (here in memory, the rows left in their file)."""
        if self.sealed or not self.constant_memory:
            raise RuntimeError("only an unsealed constant_memory worksheet can be sealed")
        # cells not yet flushed to the row file: the pending row only (constant_memory)
        self._write_single_row()
        self._opt_close()
        xml = io.StringIO()
        self._set_xml_writer(xml)
        self._sealing = True
        try:
            self._assemble_xml_file()
        finally:
            self._sealing = False
        self.sealed = True
        text = xml.getvalue()
        if self._rows_at is None:  # no rows: <sheetData/>
            os.unlink(self.row_data_filename)
            return text.encode("utf-8"), None, b""
        at = self._rows_at
        return text[:at].encode("utf-8"), self.row_data_filename, text[at:].encode("utf-8")

    def _write_optimized_sheet_data(self) -> None:
        if not self._sealing:
            super()._write_optimized_sheet_data()
            return
        if self.dim_rowmin is None:
            self._rows_at = None
            self._xml_empty_tag("sheetData")
        else:
            self._xml_start_tag("sheetData")
            self._rows_at = self.fh.tell()  # the rows go here (read from their file)
            self._xml_end_tag("sheetData")

    # once sealed, the packager's calls for this sheet write an empty part
    def _opt_reopen(self) -> None:
        if not self.sealed:
            super()._opt_reopen()

    def _write_single_row(self, current_row_num: int = 0) -> None:
        if not self.sealed:
            super()._write_single_row(current_row_num)

    def _assemble_xml_file(self) -> None:
        if self.sealed:
            self._xml_close()
        else:
            super()._assemble_xml_file()


def deflate(pieces: list[bytes | str], tmpdir: str | None = None) -> Deflated:
    """The raw deflate stream zipfile writes for a part made of ``pieces`` (bytes, or the path
    of a file whose bytes come there, deleted once read): the same compressor (zlib's
    default level, raw), fed 8 MB at a time."""
    out = tempfile.TemporaryFile(dir=tmpdir)  # noqa: SIM115 (handed on open, or closed)
    try:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        crc = size = 0
        for piece in pieces:
            if isinstance(piece, bytes):
                crc = zlib.crc32(piece, crc)
                size += len(piece)
                out.write(compressor.compress(piece))
                continue
            with open(piece, "rb") as fh:
                while data := fh.read(CHUNK):
                    crc = zlib.crc32(data, crc)
                    size += len(data)
                    out.write(compressor.compress(data))
            os.unlink(piece)
        out.write(compressor.flush())
        return Deflated(out, crc, size, out.tell())
    except BaseException:
        out.close()
        raise


class PackingWorkbook(xlsxwriter.Workbook):
    """An xlsxwriter workbook (constant_memory) whose sheets can be sealed as they are
    finished (``seal``); ``close`` then writes the same file as xlsxwriter alone."""

    worksheet_class = SealedWorksheet

    def __init__(self, filename: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(filename, options)
        self._deflating = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-deflate")
        self._parts: dict[str, Future[Deflated]] = {}

    def seal(self, worksheet: Worksheet) -> None:
        """Deflate ``worksheet`` (finished: nothing is written to it any more) in the
        background."""
        if not self._sealable(worksheet):
            return
        # xlsxwriter numbers formats in the order it first writes them into the XML: a format
        # this sheet would be the first to write (say, that of a closing "see the CSV" row)
        # gets its number on close, so the sheet waits for close as well
        numbered = self.xf_format_indices
        if any(
            f.xf_index is None and f._get_format_key() not in numbered
            for f in worksheet.formats_to_write()
        ):
            return
        count = len(numbered)
        head, rows, tail = worksheet.seal()
        if len(numbered) != count:
            raise RuntimeError(f"sealing {worksheet.name} numbered a format before its turn")
        pieces: list[bytes | str] = [head] if rows is None else [head, rows, tail]
        self._parts[self._part_name(worksheet)] = self._deflating.submit(
            deflate, pieces, self.tmpdir
        )

    def _sealable(self, worksheet: Worksheet) -> bool:
        """Whether nothing the packager prepares on close changes ``worksheet``'s XML: not the
        first or the active sheet (selected and activated on close), nothing that gets a
        relationship (charts, images, comments, tables, links), no VBA; a constant_memory sheet
        of a workbook written to a path."""
        return (
            isinstance(worksheet, SealedWorksheet)
            and worksheet.constant_memory
            and isinstance(self.filename, str)  # not a file object: written to a path
            and not worksheet.sealed
            and not worksheet.is_chartsheet
            and worksheet.index not in (0, self.worksheet_meta.activesheet)
            and not self.vba_project
            and not self.allow_zip64  # xlsxwriter's default: entries without ZIP64 fields
            and not any(getattr(worksheet, name) for name in _PREPARED_ON_CLOSE)
        )

    def _part_name(self, worksheet: Worksheet) -> str:
        """The part xlsxwriter's packager writes the sheet to (sheets numbered from 1 in
        order, chartsheets apart)."""
        sheets = [ws for ws in self.worksheets() if not ws.is_chartsheet]
        return f"xl/worksheets/sheet{sheets.index(worksheet) + 1}.xml"

    def close(self) -> None:
        """xlsxwriter's package (sealed sheets empty) written to a temporary name, then the
        file put together from it and the sealed sheets' deflated XML."""
        target = str(self.filename)  # type: ignore[has-type]  # a path when a sheet was sealed
        package = f"{target}.package"
        try:
            if not self._parts:
                super().close()
                return
            self.filename = package
            try:
                super().close()
            finally:
                self.filename = target
            parts = {name: part.result() for name, part in self._parts.items()}
            _assemble(Path(package), Path(target), parts)
        finally:
            self._deflating.shutdown(wait=True)
            for part in self._parts.values():
                if part.exception() is None:
                    part.result().data.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(package)


def _assemble(package: Path, target: Path, parts: dict[str, Deflated]) -> None:
    """``target``: the zip ``package`` with the entries named in ``parts`` holding those
    deflated streams; every other entry copied as it is. Local headers, central directory and
    end record as zipfile writes them (no ZIP64: xlsxwriter's default, where zipfile refuses
    what would need it)."""
    entries: list[zipfile.ZipInfo] = []
    with zipfile.ZipFile(package) as zf, open(package, "rb") as src, open(target, "wb") as dst:
        for info in zf.infolist():
            part = parts.get(info.filename)
            entry = copy.copy(info)
            if part is not None:
                if info.compress_type != zipfile.ZIP_DEFLATED:
                    raise zipfile.BadZipFile(f"{info.filename}: not a deflated entry")
                entry.CRC, entry.file_size, entry.compress_size = (
                    part.crc,
                    part.size,
                    part.compressed,
                )
            if max(entry.file_size, entry.compress_size, dst.tell()) > zipfile.ZIP64_LIMIT:
                raise FileSizeError(
                    "Filesize would require ZIP64 extensions. Use workbook.use_zip64()."
                )
            entry.header_offset = dst.tell()
            dst.write(entry.FileHeader(False))
            if part is not None:
                part.data.seek(0)
                shutil.copyfileobj(part.data, dst, CHUNK)
            else:
                src.seek(info.header_offset)
                fixed = src.read(_LOCAL_HEADER.size)
                name_length, extra_length = struct.unpack("<2H", fixed[26:30])
                src.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
                _copy_bytes(src, dst, info.compress_size)
            entries.append(entry)
        start = dst.tell()
        for entry in entries:
            name = entry.filename.encode("ascii")  # xlsx part names are ASCII
            dt = entry.date_time
            dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
            dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
            record = _CENTRAL_DIR.pack(
                b"PK\001\002", entry.create_version, entry.create_system, entry.extract_version,
                entry.reserved, entry.flag_bits, entry.compress_type, dostime, dosdate, entry.CRC,
                entry.compress_size, entry.file_size, len(name), len(entry.extra),
                len(entry.comment), 0, entry.internal_attr, entry.external_attr,
                entry.header_offset,
            )  # fmt: skip
            dst.write(record)
            dst.write(name + entry.extra + entry.comment)
        size = dst.tell() - start
        if start > zipfile.ZIP64_LIMIT or size > zipfile.ZIP64_LIMIT or len(entries) > 0xFFFF:
            raise FileSizeError(
                "Filesize would require ZIP64 extensions. Use workbook.use_zip64()."
            )
        count = len(entries)
        dst.write(_END_RECORD.pack(b"PK\005\006", 0, 0, count, count, size, start, len(zf.comment)))
        dst.write(zf.comment)


def _copy_bytes(src: IO[bytes], dst: IO[bytes], n: int) -> None:
    while n > 0:
        data = src.read(min(n, CHUNK))
        if not data:
            raise zipfile.BadZipFile("truncated entry")
        dst.write(data)
        n -= len(data)
