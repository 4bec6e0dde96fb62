"""The run workbook, opened as an accountant's Excel would be (openpyxl): real values only."""

from __future__ import annotations

import csv
import struct
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from reconcile import workbook, xlsxpack
from reconcile.config import Rules, parse_rules
from reconcile.money import format_amount, from_sen
from reconcile.pipeline import RunOptions, RunResult, run
from reconcile.reports import format_sen
from reconcile.workbook import KEY_HEADER, MONEY_FORMAT, StatementFile, statement_gaps

AS_OF = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 7, 0, 0)

BCA_MARCH = """Account No.,=,'0372543386
Name,=,RINA WULANDARI
Currency,=,IDR

Date,Description,Branch,Amount,,Balance
'02/03/2026,TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO,'0000,1500000.00,CR,11500000.00
'03/03/2026,BI-FAST CR TRANSFER   DR 008 HENDRA WIJAYA,'0000,1243500.00,CR,12743500.00
'03/03/2026,BI-FAST CR TRANSFER   DR 014 =HYPERLINK(1),'0000,990000.00,CR,13733500.00
'04/03/2026,BI-FAST CR TRANSFER   DR 008 SITI RAHAYU,'0000,750000.00,CR,14483500.00
'05/03/2026,BI-FAST CR TRANSFER   DR 009 ANDI,'0000,300000.00,CR,14783500.00
'05/03/2026,BIAYA ADM,'0998,10000.00,DB,14773500.00
'06/03/2026,BI-FAST CR TRANSFER   DR 014 TONI GUNAWAN,'0000,123456.00,CR,14896956.00

Starting Balance,=,10000000.00
Credit,=,4906956.00
Debet,=,10000.00
Ending Balance,=,14896956.00
"""

INVOICES = """invoice_no,client_name,company_name,email,issued_on,due_on,amount,status
20431,Budi Santoso,,budi.santoso@example.com,2026-02-25,2026-03-04,1500000.00,Unpaid
20432,Siti Rahayu,CV Rahayu Grafika,siti@rahayugrafika.example,2026-02-26,2026-03-05,750000,Unpaid
20440,Hendra Wijaya,PT Wijaya Niaga Sentosa,finance@wijayaniaga.example,2026-02-27,2026-03-06,1250000.00,Unpaid
20450,Dewi Lestari,,dewi@example.com,2026-02-27,2026-03-06,300000.00,Unpaid
20451,Agus Prasetyo,,agus@example.com,2026-02-27,2026-03-06,300000.00,Unpaid
20460,Wahyu Hidayat,,wahyu@example.com,2026-02-27,2026-03-06,990000.00,Unpaid
"""


def make_rules(language: str = "id", extra: str = "") -> Rules:
    return parse_rules(
        f"""
accounts:
  - {{bank: bca, account_no: "0372543386", holder: RINA WULANDARI}}
  - {{bank: mandiri, account_no: "1370010136428", holder: RINA WULANDARI}}
language: {language}
{extra}
"""
    )


@dataclass
class Run:
    result: RunResult
    book: Path
    out: Path
    db_url: str


def run_march(tmp_path: Path, language: str = "id", extra_rules: str = "") -> Run:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "bca_march.csv").write_text(BCA_MARCH, encoding="utf-8")
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(INVOICES, encoding="utf-8")
    db_url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    opts = RunOptions(
        rules=make_rules(language, extra_rules),
        inbox=inbox,
        out=tmp_path / "out",
        db_url=db_url,
        as_of=AS_OF,
        invoices=invoices,
        keep_inbox=True,
        clock=lambda: NOW,
    )
    result = run(opts)
    [book] = [p for p in result.reports if p.suffix == ".xlsx"]
    return Run(result, book, opts.out, db_url)


@pytest.fixture(scope="module")
def march(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_march(tmp_path_factory.mktemp("march"))


def column(ws: Worksheet, header: str) -> int:
    heads = [c.value for c in ws[1]]
    return heads.index(header) + 1


def line_ids(ws: Worksheet) -> list[int]:
    col = column(ws, "ID mutasi")
    cells = [r[col - 1] for r in ws.iter_rows(min_row=2, values_only=True)]
    return [int(v) for v in cells if isinstance(v, int | float)]


def find_row(ws: Worksheet, first_cell: str) -> int:
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_cell:
            return int(row[0].row)
    raise AssertionError(f"{first_cell!r} not in column A of {ws.title}")


def test_workbook_is_named_with_the_run_date_and_id(march: Run) -> None:
    assert march.book.name == f"reconcile_2026-03-10_run{march.result.run_id}.xlsx"
    book = load_workbook(march.book)
    assert book.sheetnames == [
        "Ringkasan", "Lunas Otomatis", "Perlu Review", "Kurang-Lebih Bayar", "Split-Gabungan",
        "Duplikat", "Dana Tak Dikenal", "Konfirmasi Tanpa Dana", "Ditolak",
    ]  # fmt: skip


def test_totals_per_account_equal_the_sum_of_the_csv_rows(march: Run) -> None:
    with (march.out / "bank_lines.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["direction"] == "CR"]
    by_status: dict[str, Decimal] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], Decimal("0")) + Decimal(r["amount"])
    ws = load_workbook(march.book)["Ringkasan"]
    row = find_row(ws, "BCA")
    values = [ws.cell(row, c).value for c in range(1, 10)]
    assert values[:3] == ["BCA", "0372543386", 6]
    money = [Decimal(repr(v)).quantize(Decimal("0.01")) for v in values[3:]]
    assert money == [
        sum(by_status.values(), Decimal("0")),
        by_status["MATCHED"],
        Decimal("0.00"),
        by_status["REVIEW"],
        by_status["UNMATCHED"],
        Decimal("0.00"),
    ]
    assert money[:2] == [Decimal("4906956.00"), Decimal("3493500.00")]
    assert money[3:5] == [Decimal("1290000.00"), Decimal("123456.00")]
    mandiri = find_row(ws, "MANDIRI")
    assert [ws.cell(mandiri, c).value for c in (2, 3, 4)] == ["1370010136428", 0, 0]
    assert ws.cell(row, 4).number_format == MONEY_FORMAT


def test_status_and_code_blocks_count_and_sum_the_lines(march: Run) -> None:
    ws = load_workbook(march.book)["Ringkasan"]
    review = find_row(ws, "Perlu review")
    assert (ws.cell(review, 2).value, ws.cell(review, 3).value) == (2, 1290000)
    ignored = find_row(ws, "Diabaikan (debit/biaya)")
    assert (ws.cell(ignored, 2).value, ws.cell(ignored, 3).value) == (1, 10000)
    underpaid = find_row(ws, "Kurang bayar")
    assert [ws.cell(underpaid, c).value for c in (2, 3, 4)] == [1, 1243500, "UNDERPAID"]
    ambiguous = find_row(ws, "Beberapa tagihan cocok")
    assert [ws.cell(ambiguous, c).value for c in (2, 3, 4)] == [1, 300000, "AMBIGUOUS"]


def test_ageing_counts_banking_days_to_the_run_date(march: Run) -> None:
    ws = load_workbook(march.book)["Ringkasan"]
    # line 7 (06/03, Friday) is 2 banking days old; 5 (05/03) is 3; 3 (03/03) is 5
    young, middle = find_row(ws, "0-2"), find_row(ws, "3-7")
    assert (ws.cell(young, 2).value, ws.cell(young, 3).value) == (1, 123456)
    assert (ws.cell(middle, 2).value, ws.cell(middle, 3).value) == (2, 1290000)
    assert ws.cell(find_row(ws, ">30"), 2).value == 0
    unidentified = load_workbook(march.book)["Dana Tak Dikenal"]
    age = column(unidentified, "Umur (hari kerja)")
    assert unidentified.cell(2, age).value == 2


def test_each_category_sheet_holds_exactly_the_expected_lines(march: Run) -> None:
    book = load_workbook(march.book)
    assert line_ids(book["Lunas Otomatis"]) == [1, 2, 4]
    assert line_ids(book["Perlu Review"]) == [3, 5]  # oldest first
    assert line_ids(book["Kurang-Lebih Bayar"]) == [2]
    assert line_ids(book["Dana Tak Dikenal"]) == [7]
    assert line_ids(book["Split-Gabungan"]) == []
    assert book["Duplikat"]["A2"].value == "(tidak ada)"
    assert book["Ditolak"]["A2"].value == "(tidak ada)"


def test_rows_carry_reason_evidence_and_source_line(march: Run) -> None:
    ws = load_workbook(march.book)["Lunas Otomatis"]
    row = [c.value for c in ws[2]]
    heads = [c.value for c in ws[1]]
    record = dict(zip(heads, row, strict=True))
    assert record["Alasan"] == (
        "amount exact; invoice #20431 in description; name 'BUDI SANTOSO' ~ client "
        "'Budi Santoso' 100"
    )
    assert "reference: " in record["Bukti per sinyal"]
    assert "amount: exact" in record["Bukti per sinyal"]
    assert (record["File sumber"], record["Baris"]) == ("bca_march.csv", 6)
    assert record["Tanggal"] == datetime(2026, 3, 2)
    assert record["Tagihan"] == "20431"


def test_amount_cells_are_numbers_in_idr_format_and_dates_are_dates(march: Run) -> None:
    ws = load_workbook(march.book)["Lunas Otomatis"]
    amount = ws.cell(2, column(ws, "Jumlah"))
    posted = ws.cell(2, column(ws, "Tanggal"))
    assert isinstance(amount.value, int | float)
    assert Decimal(repr(amount.value)).quantize(Decimal("0.01")) == Decimal("1500000.00")
    assert amount.number_format == '"Rp" #,##0.00'
    assert posted.is_date and posted.number_format == "dd/mm/yyyy"


def test_header_is_frozen_filtered_and_columns_are_sized(march: Run) -> None:
    ws = load_workbook(march.book)["Perlu Review"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
    reason = column(ws, "Alasan")
    letter = ws.cell(1, reason).column_letter
    assert ws.column_dimensions[letter].width > 50


def test_a_sender_that_looks_like_a_formula_stays_text(march: Run) -> None:
    ws = load_workbook(march.book)["Perlu Review"]
    cell = ws.cell(2, column(ws, "Pengirim"))
    assert cell.value == "=HYPERLINK(1)"
    assert cell.data_type == "s"
    for sheet in load_workbook(march.book).worksheets:
        for row in sheet.iter_rows():
            assert all(c.data_type != "f" for c in row), sheet.title


def test_review_sheet_has_a_decision_drop_down_and_a_hidden_key(march: Run) -> None:
    ws = load_workbook(march.book)["Perlu Review"]
    assert [c.value for c in ws[1]][:4] == [
        "Keputusan", "Alokasikan ke tagihan", "Jumlah dialokasikan", "Catatan",
    ]  # fmt: skip
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1
    assert str(lists[0].sqref) == "A2:A3"
    assert lists[0].formula1 == (
        '"Setujui usulan,Tolak usulan,Alokasikan ke tagihan,Bukan pembayaran pelanggan"'
    )
    key = column(ws, KEY_HEADER)
    letter = ws.cell(1, key).column_letter
    assert ws.column_dimensions[letter].hidden
    keys = [ws.cell(r, key).value for r in (2, 3)]
    assert [k.split(":")[1:] for k in keys] == [
        [str(march.result.run_id), "3"],
        [str(march.result.run_id), "5"],
    ]
    assert all(int(k.split(":")[0]) > 0 for k in keys)


def test_summary_charts_reference_the_summary_tables(march: Run) -> None:
    ws = load_workbook(march.book)["Ringkasan"]
    charts = ws._charts
    assert len(charts) == 2
    status_chart, ageing_chart = charts
    accounts_row = find_row(ws, "BCA")
    refs = [s.val.numRef.f for s in status_chart.series]
    assert refs == [f"Ringkasan!${col}${accounts_row}:${col}${accounts_row + 1}" for col in "EFGH"]
    cat = status_chart.series[0].cat
    assert (cat.strRef or cat.numRef).f == f"Ringkasan!$B${accounts_row}:$B${accounts_row + 1}"
    first_bucket = find_row(ws, "0-2")
    assert ageing_chart.series[0].val.numRef.f == (
        f"Ringkasan!$C${first_bucket}:$C${first_bucket + 3}"
    )


def test_inputs_are_listed_with_their_sha256(march: Run) -> None:
    ws = load_workbook(march.book)["Ringkasan"]
    row = find_row(ws, "bca_march.csv")
    assert ws.cell(row, 2).value == "rekening koran"
    assert ws.cell(row, 3).value == march.result.input_hashes["bca_march.csv"]
    inv = find_row(ws, "invoices.csv")
    assert ws.cell(inv, 2).value == "daftar tagihan"


def test_english_labels_when_rules_say_en(tmp_path: Path) -> None:
    r = run_march(tmp_path, language="en")
    book = load_workbook(r.book)
    assert book.sheetnames[:3] == ["Summary", "Auto-paid", "Review"]
    assert book["Review"]["A1"].value == "Decision"
    assert book["Auto-paid"].cell(2, 2).number_format == "yyyy-mm-dd"


def test_a_category_larger_than_the_row_limit_points_to_the_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "ROW_LIMIT", 2)
    r = run_march(tmp_path)
    ws = load_workbook(r.book)["Lunas Otomatis"]
    assert line_ids(ws) == [1, 2]
    assert ws["A4"].value == "... 1 baris lagi tidak muat di Excel: lihat bank_lines.csv"
    with (r.out / "bank_lines.csv").open(encoding="utf-8") as fh:
        assert sum(1 for row in csv.DictReader(fh) if row["status"] == "MATCHED") == 3


def test_statement_gaps_find_days_no_statement_covers() -> None:
    files = [
        StatementFile("a.csv", "0372543386", "bca", date(2026, 3, 1), date(2026, 3, 4)),
        StatementFile("b.csv", "0372543386", "bca", date(2026, 3, 5), date(2026, 3, 9)),
        StatementFile("c.csv", "0372543386", "bca", date(2026, 3, 12), date(2026, 3, 15)),
        StatementFile("d.csv", "0495227030", "bni", date(2026, 3, 1), date(2026, 3, 31)),
        StatementFile("e.csv", "0495227030", "bni", date(2026, 3, 10), date(2026, 3, 20)),
    ]
    assert statement_gaps(files) == {
        "0372543386": [(date(2026, 3, 10), date(2026, 3, 11))],
        "0495227030": [],
    }


def test_summary_shows_the_statement_period_per_account(march: Run) -> None:
    ws = load_workbook(march.book)["Ringkasan"]
    row = find_row(ws, "0372543386")  # column A holds account numbers only in the proof block
    assert ws.cell(row, 2).value == "BCA"
    assert ws.cell(row, 3).value == 1
    assert ws.cell(row, 4).value == datetime(2026, 3, 2)
    assert ws.cell(row, 5).value == datetime(2026, 3, 6)
    assert ws.cell(row, 6).value == "tidak ada"


def test_a_routine_sheet_is_capped_but_the_summary_and_exceptions_cover_everything(
    tmp_path: Path,
) -> None:
    r = run_march(tmp_path, extra_rules="reports: {max_rows_per_sheet: 1}")
    book = load_workbook(r.book)
    auto = book["Lunas Otomatis"]
    assert line_ids(auto) == [1]
    assert auto["A3"].value == (
        "... 2 baris lagi tidak ditampilkan (batas 1 baris per sheet, "
        "reports.max_rows_per_sheet): lihat bank_lines.csv"
    )
    assert line_ids(book["Perlu Review"]) == [3, 5]  # exceptions are never capped
    summary = book["Ringkasan"]
    row = find_row(summary, "BCA")
    assert Decimal(repr(summary.cell(row, 5).value)).quantize(Decimal("0.01")) == Decimal(
        "3493500.00"
    )


def test_csv_bytes_are_the_stable_interface(march: Run) -> None:
    text = (march.out / "bank_lines.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == (
        "line_id,source_file,source_line,bank,account_no,posted_on,direction,amount,"
        "counterparty,status,invoice_nos,confirmation_ids,codes,score,reason"
    )
    assert lines[6] == (
        "6,bca_march.csv,11,bca,0372543386,2026-03-05,DB,10000.00,,IGNORED,,,,,"
        "bank fee or internal movement"
    )
    invoices = (march.out / "invoices.csv").read_text(encoding="utf-8").split("\n")
    assert invoices[1].startswith("20431,PAID,1500000.00,1500000.00,,1,,")


@given(st.lists(st.integers(min_value=-(10**17), max_value=10**17), max_size=20))
def test_amounts_are_formatted_from_integer_sen_exactly(sen: list[int]) -> None:
    assert format_sen(pd.Series(sen, dtype="Int64")).tolist() == [
        format_amount(from_sen(v)) for v in sen
    ]


def test_cell_text_is_escaped_for_xml_as_excel_expects() -> None:
    assert workbook.xml_texts(["A & B <x>", "bell\x07", "_x0041_ literal", "plain"]) == [
        "A &amp; B &lt;x&gt;",
        "bell_x0007_",
        "_x005F_x0041_ literal",
        "plain",
    ]


@given(st.text(alphabet=st.characters(max_codepoint=0x2FF)) | st.text())
def test_control_characters_are_found_as_the_escape_pattern_finds_them(text: str) -> None:
    assert workbook._has_control(text) == bool(workbook._CONTROL.search(text))


_LEVELS = st.sampled_from(["exact", "within_tolerance", "none", "client", "after_due", "x_1"])
_INTS = st.integers(min_value=-(10**12), max_value=10**12)


_SIGNAL_VALUES = st.tuples(*(_LEVELS if k in (1, 3, 6, 8, 11, 13) else _INTS for k in range(15)))


@given(_SIGNAL_VALUES)
def test_evidence_of_the_matchers_signal_layout_reads_as_the_json_does(values: tuple) -> None:
    from reconcile.matching import _SIGNALS

    signals = _SIGNALS.format(*values)
    assert workbook._SCORED.fullmatch(signals) is not None
    assert workbook.evidence_texts([signals, signals]) == [workbook.evidence_text(signals)] * 2


def test_evidence_of_any_other_signal_text_falls_back_to_the_json_reading() -> None:
    combined = '{"combined": {"identification_weight": 45, "invoices": ["20431", "20432"]}}'
    floats = (
        '{"amount": {"gap_sen": 0, "level": "exact", "weight": 50.5}, '
        '"confirmation": {"level": "none", "weight": 0}, '
        '"date": {"banking_days_after_due": 0, "level": "in_window", "weight": 5}, '
        '"name": {"level": "client", "similarity": 100, "weight": 38}, '
        '"rarity": {"level": "common", "weight": 0}, "reference": {"level": "none", "weight": 0}}'
    )
    assert workbook.evidence_texts([combined, floats, "", "{}", "not json"]) == [
        'combined: identification_weight 45, invoices ["20431", "20432"]',
        "amount: exact [gap_sen 0]; confirmation: none (+0); "
        "date: in_window (+5) [banking_days_after_due 0]; name: client (+38) [similarity 100]; "
        "rarity: common (+0); reference: none (+0)",
        "",
        "",
        "not json",
    ]


def test_code_totals_split_joined_codes_and_keep_their_first_appearance() -> None:
    codes = pd.Series(["", "NAME_MISMATCH;UNDERPAID", "UNDERPAID", None, "NAME_MISMATCH"])
    sen = pd.Series([100, 149_350_000, 29_000_050, 7, 1])
    assert workbook._sum_by_code(codes, sen) == {
        "NAME_MISMATCH": (2, Decimal("1493500.01")),
        "UNDERPAID": (2, Decimal("1783500.50")),
    }


def test_a_code_is_found_only_as_a_whole_code_of_the_field() -> None:
    lines = pd.DataFrame({"codes": ["UNDERPAID", "OVERPAID;NAME_MISMATCH", "", "XUNDERPAID", None]})
    assert workbook._has_code(lines, "UNDERPAID", "OVERPAID").tolist() == [
        True, True, False, False, False,
    ]  # fmt: skip


def entries(book: Path) -> list[tuple[object, ...]]:
    """Every entry of the .xlsx as stored (header fields and deflated bytes), the creation
    time in docProps/core.xml aside."""
    out: list[tuple[object, ...]] = []
    with zipfile.ZipFile(book) as zf, book.open("rb") as fh:
        for info in zf.infolist():
            if info.filename == "docProps/core.xml":
                out.append((info.filename, info.date_time, info.external_attr))
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)
            fh.seek(info.header_offset)
            raw = fh.read(30 + sum(struct.unpack("<2H", local[26:30])) + info.compress_size)
            out.append((info.filename, info.date_time, info.external_attr, info.CRC, raw))
    return out


@pytest.mark.parametrize("extra_rules", ["", "reports: {max_rows_per_sheet: 1}"])
def test_sheets_deflated_as_they_are_written_give_the_workbook_xlsxwriter_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra_rules: str
) -> None:
    (tmp_path / "packed").mkdir()
    (tmp_path / "plain").mkdir()
    packed = run_march(tmp_path / "packed", extra_rules=extra_rules)
    monkeypatch.setattr(xlsxpack.PackingWorkbook, "seal", lambda self, worksheet: None)
    plain = run_march(tmp_path / "plain", extra_rules=extra_rules)
    assert entries(packed.book) == entries(plain.book)
