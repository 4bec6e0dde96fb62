"""KlikBCA Bisnis statement downloaded as ".xls" that is really HTML (formats.md §3.4, §11A).

Layout (upper-case tags; as saved, the whole document may be one line)::

    <HTML><HEAD><TITLE>Informasi Rekening - Mutasi Rekening</TITLE></HEAD><BODY>
    <TABLE><TR><TD><B>No. rekening</B></TD><TD>: 0372543386</TD></TR>...</TABLE>
    <TABLE><TR><TD>Tanggal Transaksi</TD><TD>Keterangan</TD><TD>Cabang</TD><TD>Jumlah</TD><TD>Saldo</TD></TR>
    <TR><TD>PEND</TD><TD>BI-FAST CR TANGGAL :03/03 TRANSFER   DR 009 YUSUF HIDAYAT     </TD>
        <TD>0000</TD><TD>600,000.00 CR</TD><TD>46,049,000.00</TD></TR></TABLE>
    <TABLE><TR><TD>Saldo Awal</TD><TD>40,000,000.00</TD></TR>
           <TR><TD>Mutasi Debet</TD><TD>0.00</TD><TD>&nbsp;0</TD></TR>...</TABLE>

Read with the standard library's lenient ``html.parser`` (unclosed cells and rows are closed
by the next one). Cell text keeps its spaces (runs separate description sub-fields); entities
are unescaped and ``&nbsp;`` becomes a space. Values wrapped in ``<FONT><B>`` read the same.
Source line: the 1-based ``<TR>`` index over the whole document, account block included.
The cell values then follow the Bisnis CSV rules (:mod:`importers.bca_klikbca_bisnis_csv`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from importers.base import FileSniff, ParseContext, read_text
from importers.bca_common import BANK, parse_bisnis_rows
from reconcile.model import Statement

NAME = "bca_klikbca_bisnis_html"
_TITLE = re.compile(r"<title>\s*informasi rekening\s*-\s*mutasi rekening\s*</title>", re.I)


class _TableRows(HTMLParser):
    """Collects (``<tr>`` index, [cell text, ...]) for every row of the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[tuple[int, list[str]]] = []
        self._tr_count = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._close_row()
            self._tr_count += 1
            self._row = []
            self.rows.append((self._tr_count, self._row))
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is None:  # a cell outside any row: give it a row of its own
                self._tr_count += 1
                self._row = []
                self.rows.append((self._tr_count, self._row))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._close_cell()
        elif tag in ("tr", "table"):
            self._close_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).replace("\u00a0", " "))
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        self._row = None

    def close(self) -> None:
        super().close()
        self._close_row()


def table_rows(html: str) -> list[tuple[int, list[str]]]:
    parser = _TableRows()
    parser.feed(html)
    parser.close()
    return parser.rows


class KlikBcaBisnisHtmlImporter:
    name = NAME
    bank = BANK
    title = "BCA KlikBCA Bisnis .xls (HTML) statement"

    def identify(self, sniff: FileSniff) -> bool:
        return sniff.kind == "html" and _TITLE.search(sniff.text) is not None

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        return parse_bisnis_rows(file, NAME, table_rows(read_text(path)))


IMPORTER = KlikBcaBisnisHtmlImporter()
