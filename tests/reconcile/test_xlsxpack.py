"""A workbook whose sheets are deflated as they are finished is the file xlsxwriter writes."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from reconcile import xlsxpack
from reconcile.xlsxpack import PackingWorkbook

CREATED = datetime(2026, 3, 10, 7, 0, 0)


def write_book(path: Path, *, seal: bool) -> PackingWorkbook:
    """Sheets of the kinds the run workbook has: a summary with a chart (never sealed), rows
    written cell by cell and a closing row in a format no sheet wrote before (left to close),
    input columns with a drop-down and a hidden key, an empty table, text needing escapes."""
    wb = PackingWorkbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    wb.set_properties({"created": CREATED})
    header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    money = wb.add_format({"num_format": '"Rp" #,##0.00'})
    late = wb.add_format({"italic": True, "font_color": "#C00000"})
    inputs = wb.add_format({"bg_color": "#FFF2CC", "border": 1})
    summary = wb.add_worksheet("Summary")
    for row in range(4):
        summary.write_string(row, 0, f"account {row}", header if row == 0 else None)
        summary.write_number(row, 1, row * 1500.5, money)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": ["Summary", 1, 1, 3, 1], "categories": ["Summary", 1, 0, 3, 0]})
    summary.insert_chart(5, 3, chart)
    summary.activate()
    wb.seal(summary)  # the first sheet, with a chart: both prepared on close, so never sealed

    capped = wb.add_worksheet("Auto-paid")
    capped.set_row(0, 30)
    for j, name in enumerate(("line", "amount", "sender")):
        capped.set_column(j, j, 12 + j)
        capped.write_string(0, j, name, header)
    for row in range(1, 500):
        capped.write_number(row, 0, row)
        capped.write_number(row, 1, row * 100.25, money)
        capped.write_string(row, 2, f"SENDER {row} & <co> \u00e9t\u00e9 =HYPERLINK({row})")
    capped.write_string(500, 0, "... 10 more rows: see bank_lines.csv", late)
    capped.freeze_panes(1, 0)
    capped.autofilter(0, 0, 499, 2)
    if seal:
        wb.seal(capped)

    review = wb.add_worksheet("Review")
    review.set_column(0, 0, 26, None)
    review.set_column(3, 3, 20, None, {"hidden": True})
    for j, name in enumerate(("decision", "line", "amount", "key")):
        review.write_string(0, j, name, header)
    for row in range(1, 300):
        review.write_blank(row, 0, None, inputs)  # first written after the auto-paid sheet
        review.write_number(row, 1, row)
        review.write_number(row, 2, row * 7.5, money)
        review.write_string(row, 3, f"{row}:1:{row}")
    review.write_string(300, 0, "... 3 more rows: see bank_lines.csv", header)
    review.data_validation(1, 0, 299, 0, {"validate": "list", "source": ["approve", "reject"]})
    review.freeze_panes(1, 0)
    review.autofilter(0, 0, 299, 3)
    if seal:
        wb.seal(review)

    empty = wb.add_worksheet("Rejected")
    empty.write_string(0, 0, "file", header)
    empty.write_string(1, 0, "(none)")
    if seal:
        wb.seal(empty)
    blank = wb.add_worksheet("Blank")
    if seal:
        wb.seal(blank)
    return wb


def test_sealed_sheets_give_the_bytes_xlsxwriter_writes(tmp_path: Path) -> None:
    plain = write_book(tmp_path / "plain.xlsx", seal=False)
    plain.close()
    packed = write_book(tmp_path / "packed.xlsx", seal=True)
    # not the summary (first, with a chart), nor the auto-paid sheet, whose closing row has a
    # format no sheet wrote before: xlsxwriter numbers it on close
    assert sorted(packed._parts) == [
        "xl/worksheets/sheet3.xml",
        "xl/worksheets/sheet4.xml",
        "xl/worksheets/sheet5.xml",
    ]
    packed.close()
    assert (tmp_path / "packed.xlsx").read_bytes() == (tmp_path / "plain.xlsx").read_bytes()
    assert not (tmp_path / "packed.xlsx.package").exists()
    with zipfile.ZipFile(tmp_path / "packed.xlsx") as zf:
        assert zf.testzip() is None


def test_a_workbook_with_no_sheet_sealed_is_written_by_xlsxwriter_alone(tmp_path: Path) -> None:
    wb = PackingWorkbook(str(tmp_path / "a.xlsx"), {"constant_memory": True})
    wb.set_properties({"created": CREATED})
    wb.add_worksheet("One").write_string(0, 0, "x")
    wb.close()
    ref = xlsxwriter.Workbook(str(tmp_path / "b.xlsx"), {"constant_memory": True})
    ref.set_properties({"created": CREATED})
    ref.add_worksheet("One").write_string(0, 0, "x")
    ref.close()
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_a_part_is_deflated_as_zipfile_deflates_it_however_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tmp_path / "rows"
    body = b"".join(b'<row r="%d"><c><v>%d</v></c></row>' % (i, i * i) for i in range(20_000))
    rows.write_bytes(body)
    monkeypatch.setattr(xlsxpack, "CHUNK", 1000)  # many small reads
    part = xlsxpack.deflate([b"<head>", str(rows), b"</tail>"])
    assert not rows.exists()
    with zipfile.ZipFile(tmp_path / "ref.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("part.xml", b"<head>" + body + b"</tail>")
    with zipfile.ZipFile(tmp_path / "ref.zip") as zf:
        info = zf.getinfo("part.xml")
        with open(tmp_path / "ref.zip", "rb") as fh:
            fh.seek(info.header_offset + 30 + len("part.xml"))
            expected = fh.read(info.compress_size)
    part.data.seek(0)
    assert part.data.read() == expected
    assert (part.crc, part.size, part.compressed) == (
        info.CRC,
        info.file_size,
        info.compress_size,
    )
