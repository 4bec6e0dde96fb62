"""A Livin' e-Statement is told by its content: saved or renamed as .xls, .csv or with no
extension it reads exactly as the .xlsx does (formats.md §12.1), never "openpyxl does not
support the old .xls file format"."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from importers import ParseContext, read_statement_file
from tests.importers.golden import dump_statements

SAMPLE = Path(__file__).parent / "mandiri_livin_xlsx" / "samples" / "march_first_half.xlsx"
ACCOUNTS = {"1370010136428": "mandiri"}


@pytest.mark.parametrize("name", ["e-Statement.xls", "e-Statement.csv", "e-Statement", "x.XLSX"])
def test_livin_statement_under_another_name_reads_as_the_xlsx(tmp_path: Path, name: str) -> None:
    renamed = tmp_path / name
    shutil.copy(SAMPLE, renamed)
    importer, statements = read_statement_file(
        renamed, ParseContext(as_of=date(2026, 3, 31)), ACCOUNTS
    )
    assert importer.name == "mandiri_livin_xlsx"
    expected = json.loads(SAMPLE.with_name(SAMPLE.name + ".expected.json").read_text("utf-8"))
    assert json.loads(dump_statements(statements)) == expected
    [st] = statements
    assert st.account_no == "1370010136428"
    assert [(t.direction.value, str(t.amount)) for t in st.transactions][-1] == ("DB", "12500.00")
