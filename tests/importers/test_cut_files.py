"""A CSV cut (or still being written) inside its last row is rejected whole, never read short.

Python's csv reader closes a quoted field left open at the end of the data without a word:
``…,.00,"450`` would import a credit of Rp 450 instead of Rp 450,000.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from importers import ParseContext, read_statement_file
from importers.base import csv_records
from importers.billing import load_invoices
from reconcile.errors import FileRejected
from tests.importers.test_billing import INVOICE_HEADER, RULES

ACCOUNTS = {"0495227030": "bni", "1370010136428": "mandiri"}
CTX = ParseContext(as_of=date(2026, 3, 31))
BNI = (
    "Post Date,Value Date,Branch,Journal No.,Description,Debit,Credit,\n"
    "03/03/26 09.12.40,03/03/26 09.12.40,0259,418273,TRANSFER DARI | INV 20440,.00,"
    '"1,500,000.00",\n'
    "04/03/26 13.05.11,04/03/26 13.05.11,0259,419002,TRANSFER DARI | INV 20410,.00,"
    '"450,000.00",\n'
)
CUT = (
    "line 3: the file ends inside a quoted field (no closing '\"'); expected a complete last "
    "row: the file is cut short or still being written, export it again"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_whole_bnidirect_file_reads_both_credits(tmp_path: Path) -> None:
    _, [st] = read_statement_file(_write(tmp_path, "0495227030.CSV", BNI), CTX, ACCOUNTS)
    assert [t.amount for t in st.transactions] == [Decimal("1500000.00"), Decimal("450000.00")]


@pytest.mark.parametrize("cut_at", ['"450', '"450,0', '"450,000.00'])
def test_bnidirect_file_cut_inside_the_last_amount_is_rejected(tmp_path: Path, cut_at: str) -> None:
    text = BNI[: BNI.index('"450,000.00"')] + cut_at
    with pytest.raises(FileRejected) as info:
        read_statement_file(_write(tmp_path, "0495227030.CSV", text), CTX, ACCOUNTS)
    assert str(info.value) == f"0495227030.CSV: {CUT}"


def test_bnidirect_file_cut_after_the_last_comma_is_rejected(tmp_path: Path) -> None:
    text = BNI[: BNI.index('"450,000.00"')] + "45"
    with pytest.raises(FileRejected) as info:
        read_statement_file(_write(tmp_path, "0495227030.CSV", text), CTX, ACCOUNTS)
    assert str(info.value).startswith(
        "0495227030.CSV: line 3: the last row does not end with the comma that ends the header"
    )


def test_mcm_file_cut_inside_the_last_amount_is_rejected(tmp_path: Path) -> None:
    text = (
        "Account No,Date,Val. Date,Transaction Code,Description,Description,Reference No.,"
        "Debit,Credit,\n"
        "1370010136428,02/03/26,02/03/26,7820,MCM InhouseTrf,INV 20431 ,,.00,"
        '"1,500,000.00",\n'
        '1370010136428,02/03/26,02/03/26,2315,SA OB CA,PEMBAYARAN HOSTING ,,.00,"750'
    )
    with pytest.raises(FileRejected) as info:
        read_statement_file(_write(tmp_path, "mcm.csv", text), CTX, ACCOUNTS)
    assert str(info.value) == f"mcm.csv: {CUT}"


def test_invoice_list_cut_inside_the_last_amount_is_rejected(tmp_path: Path) -> None:
    text = (
        INVOICE_HEADER
        + '20431,Budi Santoso,,budi@example.com,2026-02-25,2026-03-04,"1,500,000.00",Unpaid\n'
        + '20432,Siti Rahayu,,siti@example.com,2026-02-26,2026-03-05,"750'
    )
    with pytest.raises(FileRejected) as info:
        load_invoices(_write(tmp_path, "invoices.csv", text), RULES)
    assert str(info.value) == f"invoices.csv: {CUT}"


def test_quoted_line_breaks_and_doubled_quotes_are_not_a_cut() -> None:
    text = 'a,"b\nc",d\n"say ""hi""",x,"y"\n'
    assert list(csv_records("f.csv", text)) == [
        (1, ["a", "b\nc", "d"]),
        (3, ['say "hi"', "x", "y"]),
    ]


def test_a_cut_in_a_multi_line_last_record_names_the_line_it_starts_on() -> None:
    with pytest.raises(FileRejected) as info:
        list(csv_records("f.csv", 'a,b\nc,"d\ne,f'))
    assert str(info.value) == f"f.csv: {CUT.replace('line 3', 'line 2')}"
