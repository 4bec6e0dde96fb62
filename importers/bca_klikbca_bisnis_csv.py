"""KlikBCA Bisnis "Informasi Rekening - Mutasi Rekening" CSV (formats.md §3.3).

Layout::

    "Informasi Rekening - Mutasi Rekening"," "," "," "," ",

    "No. rekening : 0372543386"
    "Nama : RINA WULANDARI"
    "Periode : 02/03/2026 - 03/03/2026"
    "Kode Mata Uang : Rp"
    "Tanggal Transaksi","Keterangan","Cabang","Jumlah","Saldo"
    "02/03/2026","BI-FAST CR TRANSFER   DR 002 NUR AINI          ","0000","899,000.00 CR","42,149,000.00"
    "PEND","BI-FAST CR TANGGAL :03/03 TRANSFER   DR 009 YUSUF HIDAYAT     ","0000","600,000.00 CR","46,049,000.00"
    "Saldo Awal : 40,000,000.00"
    "Mutasi Debet : 0.00","0"
    "Mutasi Kredit : 6,049,000.00","4"
    "Saldo Akhir : 46,049,000.00"

Quoted (partly unquoted copies exist), so a real CSV reader; columns by position (one copy had a
four-name header over five-value rows); older files have a separate ``DB``/``CR`` cell.
Year-less ``DD/MM`` dates take their year from ``Periode``. Source line: the physical line where
the record starts. The footer (balances and row counts) is required.
"""

from __future__ import annotations

from pathlib import Path

from importers.base import FileSniff, ParseContext, csv_records, read_text
from importers.bca_common import BANK, parse_bisnis_rows
from reconcile.model import Statement

NAME = "bca_klikbca_bisnis_csv"
TITLE = "informasi rekening - mutasi rekening"


class KlikBcaBisnisCsvImporter:
    name = NAME
    bank = BANK
    title = "BCA KlikBCA Bisnis CSV (Informasi Rekening - Mutasi Rekening)"

    def identify(self, sniff: FileSniff) -> bool:
        if sniff.kind != "text":
            return False
        lines = sniff.first_lines(12)
        return (
            bool(lines)
            and lines[0].startswith(TITLE)
            and any(s.startswith("tanggal transaksi") for s in lines)
        )

    def parse(self, path: Path, ctx: ParseContext) -> list[Statement]:
        file = path.name
        return parse_bisnis_rows(file, NAME, csv_records(file, read_text(path), strict=True))


IMPORTER = KlikBcaBisnisCsvImporter()
