"""Text exports in UTF-16 with a byte-order mark (Excel's "Unicode text", FF FE or FE FF) are
decoded as UTF-16, then read like any other export; read as cp1252 they were garbage that no
importer recognised ('ÿþi\\x00n\\x00v…' as the invoice list's first header)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importers.base import decode_text, read_text, sniff
from importers.billing import load_invoices
from reconcile.errors import FileRejected
from tests.importers.test_billing import FORMATS_INVOICES, RULES, SAMPLES

BOMS = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


@given(st.text(st.characters(exclude_categories=["Cs"])), st.sampled_from(sorted(BOMS)))
def test_utf16_with_a_bom_decodes_to_the_text(text: str, encoding: str) -> None:
    assert decode_text(BOMS[encoding] + text.encode(encoding)) == text.replace("\u00a0", " ")


@pytest.mark.parametrize("encoding", sorted(BOMS))
def test_utf16_invoice_list_gives_the_exact_frame(tmp_path: Path, encoding: str) -> None:
    text = (SAMPLES / "invoices_formats_9_1.csv").read_text(encoding="utf-8")
    path = tmp_path / "invoices.csv"
    path.write_bytes(BOMS[encoding] + text.replace("\n", "\r\n").encode(encoding))
    assert sniff(path).kind == "text"
    result = load_invoices(path, RULES)
    assert result.rejected_rows == []
    pd.testing.assert_frame_equal(result.frame, FORMATS_INVOICES)
    assert result.frame["amount_sen"].tolist() == [
        150000000,
        75000000,
        125000000,
        25000000,
        45000000,
    ]


def test_utf16_html_and_blank_files_are_classified_by_their_characters(tmp_path: Path) -> None:
    html, blank = tmp_path / "mutasi.xls", tmp_path / "blank.csv"
    html.write_bytes(b"\xff\xfe" + "  <html><table></table></html>".encode("utf-16-le"))
    blank.write_bytes(b"\xfe\xff" + " \r\n".encode("utf-16-be"))
    assert sniff(html).kind == "html"
    assert sniff(blank).kind == "empty"


def test_utf16_cut_in_the_middle_of_a_character_is_rejected_naming_the_encodings(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mutasi.csv"
    path.write_bytes(b"\xff\xfe" + "Account No.,=,'0372543386".encode("utf-16-le")[:-1])
    with pytest.raises(FileRejected) as info:
        read_text(path)
    assert str(info.value) == (
        "mutasi.csv: cannot decode byte 0x36 at offset 50 (truncated data); "
        "expected UTF-8, UTF-16 with a byte-order mark or Windows-1252 text"
    )
