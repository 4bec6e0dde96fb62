"""The fast row paths read every generated row exactly as the reference reading does.

BCA KlikBCA Individual, BNIDirect CSV and BRI e-statement CSV each read well-formed rows through
a fast path (values read once per distinct text, no per-field error context) and hand any row it
does not vouch for to the reference reading. For generated files mixing well-formed rows with
near misses (guards, spaces, separators, impossible dates, wrong signs), parsing with the fast
path must give the same statements, value for value and digit for digit, or the same error
message as parsing with the fast path switched off.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from importers import bca_klikbca_individual, bni_bnidirect_csv, bri_estatement_csv
from importers.base import ParseContext
from reconcile.errors import FileRejected
from reconcile.money import _decimal, parse_amount_en, parse_amount_plain

AS_OF = date(2026, 3, 31)
ACCOUNTS = {"0372543386": "bca", "0495227030": "bni", "002901124296507": "bri"}


def _declined(*_args: Any) -> Any:
    raise ValueError("fast path switched off")


def _outcome(parse: Callable[[Path], Any], path: Path) -> str:
    """repr of every statement (Decimal reprs keep the exact digits), or the error message."""
    try:
        return repr(parse(path))
    except FileRejected as exc:
        return f"rejected: {exc}"


def _same_both_ways(
    module: Any, parse: Callable[[Path], Any], name: str, content: str
) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(content, encoding="utf-8")
        fast = _outcome(parse, path)
        with mock.patch.object(module._FastRows, "row", _declined):
            reference = _outcome(parse, path)
    return fast, reference


sen = st.integers(min_value=0, max_value=10**13)


def _plain(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


# ---------------------------------------------------------------------------------------------
# BCA KlikBCA Individual

BCA_DESCRIPTIONS = [
    "TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO",
    "BI-FAST CR TRANSFER   DR 008 SITI RAHAYU       ",
    "BI-FAST CR TANGGAL :07/03 TRANSFER   DR 002 MUHAMMAD RIZKY PRA",
    "KR OTOMATIS LLG-CIMB NIAGA PT MAJU JAYA ABADI  INV 20455",
    "SWITCHING CR TRANSFER  DR 009 DEWI ANGGRAINI  BNI",
    "TRSF E-BANKING CR 3112/FTSCY/WS95031 350000.00hosting, bln maret     AGUS PRASETYO",
    "BIAYA ADM",
    "SETORAN TUNAI",
    "TARIKAN ATM 30/04",
]
bca_date = st.one_of(
    st.dates(date(2024, 1, 1), date(2026, 12, 31)).map(lambda d: f"'{d:%d/%m/%Y}"),
    st.dates(date(2024, 1, 1), date(2026, 12, 31)).map(lambda d: f"'{d:%d/%m}"),
)
well_formed_bca_row = st.tuples(
    bca_date,
    st.sampled_from(BCA_DESCRIPTIONS),
    st.sampled_from(["'0000", "'0938", "'0512"]),
    sen.map(_plain),
    st.sampled_from(["CR", "DB"]),
    sen.map(_plain),
)
# one field replaced by a near miss: (field index, text)
bca_near_miss = st.one_of(
    st.tuples(
        st.just(0),
        st.sampled_from(
            [
                *("'PEND", "PEND", "`02/03/2026", " '02/03/2026", "'31/02/2026", "'29/02", "x"),
                *("02/03/2026", "'2/3", "'02-03-2026", "''02/03", "'00/03/2026"),
            ]
        ),
    ),
    st.tuples(st.just(2), st.sampled_from(["0000", "938", "'12", "abc", " '0000"])),
    st.tuples(
        st.sampled_from([3, 5]),
        st.sampled_from(["'1500.00", "-5.00", "75O.00", ".00", " 20,000 ", "1,500.00", ""]),
    ),
    st.tuples(st.just(4), st.sampled_from(["cr", " DB", "XX", ""])),
)


def _with_near_miss(row: tuple[str, ...], miss: tuple[int, str] | None) -> tuple[str, ...]:
    if miss is None:
        return row
    at, text = miss
    return (*row[:at], text, *row[at + 1 :])


bca_row = st.builds(_with_near_miss, well_formed_bca_row, st.none() | bca_near_miss)


def _bca_file(rows: list[tuple[str, ...]]) -> str:
    head = "Account No.,=,'0372543386\nName,=,RINA WULANDARI\nCurrency,=,IDR\n\n"
    head += "Date,Description,Branch,Amount,,Balance\n"
    body = "".join(",".join(r) + "\n" for r in rows)
    foot = "\nStarting Balance,=,100.00\nCredit,=,0.00\nDebet,=,0.00\nEnding Balance,=,100.00\n"
    return head + body + foot


@settings(max_examples=150, deadline=None)
@given(st.lists(bca_row, min_size=1, max_size=12), st.integers(0, 11))
def test_bca_individual_fast_path_reads_rows_as_the_reference_does(
    rows: list[tuple[str, ...]], repeat: int
) -> None:
    rows = [*rows, rows[repeat % len(rows)]]  # a repeated row exercises the per-text memory
    importer = bca_klikbca_individual.IMPORTER

    def parse(path: Path) -> Any:
        return importer.parse(path, ParseContext(as_of=AS_OF, accounts=ACCOUNTS))

    fast, reference = _same_both_ways(bca_klikbca_individual, parse, "m.csv", _bca_file(rows))
    assert fast == reference


# ---------------------------------------------------------------------------------------------
# BNIDirect CSV

bni_moment = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31, 23, 59, 59)).map(
    lambda m: f"{m:%d/%m/%y %H.%M.%S}"
)
bni_amount = sen.map(lambda n: f"{max(n, 1) // 100:,}.{max(n, 1) % 100:02d}")


def _bni_row(
    post: str, value: str, description: str, amount: str, credit: bool, balance: str
) -> tuple[str, ...]:
    debit, credit_text = (".00", amount) if credit else (amount, ".00")
    return (post, value, "0259", "418273", description, debit, credit_text, balance)


well_formed_bni_row = st.builds(
    _bni_row,
    bni_moment,
    bni_moment,
    st.sampled_from(
        [
            "TRANSFER DARI | PEMINDAHAN DARI 0281234567 Bpk BUDI  SANTOSO | INV20431",
            "TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI 0339876543 | 5264221234567890 | SITI",
            "SETOR TUNAI | HOSTING TOKO | AGUS PRASETYO",
            "BIAYA ADM",
        ]
    ),
    bni_amount,
    st.booleans(),
    bni_amount,
)
bni_near_miss = st.one_of(
    st.tuples(
        st.sampled_from([0, 1]),
        st.sampled_from(
            [
                *("02/03/26", " 02/03/26 08.15.42", "31/02/26 19.40.05", "2/3/26 8.15.42"),
                *("02/03/2026 08:15:42", "02/03/26 24.00.00", "x", "Total Credit :"),
            ]
        ),
    ),
    st.tuples(st.just(4), st.sampled_from(["Total Credit : 3", "Currency : USD", ""])),
    st.tuples(
        st.sampled_from([5, 6, 7]),
        st.sampled_from([".00", "", "1.500.000,00", "-5.00", " 20,000 ", "abc", "1500.00"]),
    ),
)
bni_row = st.builds(_with_near_miss, well_formed_bni_row, st.none() | bni_near_miss)


def _bni_file(rows: list[tuple[str, ...]], balance: bool, extra_cell: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["Post Date", "Value Date", "Branch", "Journal No.", "Description", "Debit", "Credit"]
    writer.writerow([*header, *(["Balance"] if balance else []), ""])
    for i, row in enumerate(rows):
        cells = list(row if balance else row[:-1])
        if extra_cell and i == len(rows) // 2:
            cells.insert(5, "sewa vps")  # an unquoted comma inside the description
        writer.writerow([*cells, ""])
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(st.lists(bni_row, min_size=1, max_size=12), st.booleans(), st.booleans())
def test_bnidirect_fast_path_reads_rows_as_the_reference_does(
    rows: list[tuple[str, ...]], balance: bool, extra_cell: bool
) -> None:
    def parse(path: Path) -> Any:
        return bni_bnidirect_csv.parse_bni_bnidirect_csv(path, ACCOUNTS)

    content = _bni_file([*rows, rows[0]], balance, extra_cell)
    fast, reference = _same_both_ways(bni_bnidirect_csv, parse, "0495227030.CSV", content)
    assert fast == reference


def test_bnidirect_multi_account_rows_switch_sections_as_the_reference_does() -> None:
    header = '"Account No","Post Date","Value Date","Branch","Journal No.","Description",'
    header += '"Debit","Credit","Currency"'
    rows = [
        '"0495227030","02/03/26 08.15.42","02/03/26 08.15.42","0259","1","SETOR TUNAI | A",'
        '".00","1,000.00","IDR"',
        '"0495227030","02/03/26 09.15.42","02/03/26 09.15.42","0259","2","BIAYA ADM",'
        '"5.00",".00","IDR"',
        '"0495227107","02/03/26 10.15.42","02/03/26 10.15.42","0259","3","SETOR TUNAI | B",'
        '".00","7.00","USD"',
        '"0495227030","03/03/26 08.00.00","03/03/26 08.00.00","0259","4","SETOR TUNAI | C",'
        '".00","9.00","IDR"',
    ]
    content = "\n".join([header, *rows]) + "\n"

    def parse(path: Path) -> Any:
        return bni_bnidirect_csv.parse_bni_bnidirect_csv(path, ACCOUNTS)

    fast, reference = _same_both_ways(bni_bnidirect_csv, parse, "TRX_INQ-X-1.csv", content)
    assert fast == reference
    # the USD row opened a section of its own, skipped; the next row opened a third one
    assert "skipped the USD section for account 0495227107 at line 4" in fast
    assert fast.count("Transaction(") == 3


# ---------------------------------------------------------------------------------------------
# BRI e-statement CSV

bri_moment = st.datetimes(datetime(2000, 1, 1)).map(lambda m: f"{m:%Y-%m-%d %H:%M:%S}")


def _bri_row(
    tgl: str, jam: str, desk: str, awal: int, amount: int, credit: bool, custom: str
) -> tuple[Any, ...]:
    moved = _plain(max(amount, 1))
    debet, kredit = (".00", moved) if credit else (moved, ".00")
    sign = "Cr" if credit else "Db"
    return ("002901124296507", tgl, tgl, jam, "3120045", desk, awal, debet, kredit, sign, custom)


well_formed_bri_row = st.builds(
    _bri_row,
    bri_moment,
    st.one_of(st.just(""), st.times().map(lambda t: str(int(f"{t:%H%M%S}")))),
    st.sampled_from(
        [
            "NBMB BUDI SANTOSO TO RINA WULANDARI ESB:NBMB:0001500F:260302812345",
            "IBIZ CV SUMBER REJEK TO RINA WULANDARI ESB:IBIZ:0001500F:260303990812",
            "BFST5764212997 ESB:BFST:0008N",
            "BIAYA ADMIN",
            "ATMSTRPRM 742759 TARIK TUNAI ESB:NBMB:0005T00F:260430742759",
        ]
    ),
    sen,
    sen,
    st.booleans(),
    st.sampled_from(["", "", "Transfer BI-Fast dari BNI - 0517353155 - Bonar Nasution"]),
)
bri_near_miss = st.one_of(
    st.tuples(st.just(0), st.sampled_from(["0029-01-124296-50-7", "002901124296599", ""])),
    st.tuples(
        st.sampled_from([1, 2]),
        st.sampled_from(
            [
                *("2026-03-02", "2026-02-31 10:00:00", " 2026-03-02 08:15:42"),
                *("02/03/2026 19:40:05", "2026-03-02T08:15:42", "2026-03-02 24:00:00"),
            ]
        ),
    ),
    st.tuples(st.just(3), st.sampled_from([" 81542", "246060", "1234567", "x", "0"])),
    st.tuples(st.just(4), st.sampled_from(["", " 7"])),
    st.tuples(st.sampled_from([7, 8]), st.sampled_from([".00", "1,000.00", "-1.00", "x", "5"])),
    st.tuples(st.just(9), st.sampled_from(["CR", " db", "Xx", "Db", "Cr"])),
)
bri_row = st.builds(_with_near_miss, well_formed_bri_row, st.none() | bri_near_miss)


def _bri_file(rows: list[tuple[Any, ...]], remark_custom: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    columns = [*bri_estatement_csv.COLUMNS, *(["REMARK_CUSTOM"] if remark_custom else [])]
    writer.writerow(columns)
    for i, (norek, tgl, eff, jam, seq, desk, awal, debet, kredit, sign, custom) in enumerate(
        rows, start=1
    ):
        awal_text = _plain(awal)
        try:  # a row that adds up, unless a near miss made an amount unreadable
            akhir = _decimal(awal_text, awal_text) - parse_amount_plain(debet)
            akhir_text = f"{akhir + parse_amount_plain(kredit):f}"
        except ValueError:
            akhir_text = "1.00"
        cells = [str(i), norek, tgl, eff, jam, seq, desk, awal_text, debet, kredit, akhir_text]
        cells += [sign, "", "", "", "", "", ""] + ([custom] if remark_custom else [])
        writer.writerow(cells)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(st.lists(bri_row, min_size=1, max_size=12), st.booleans())
def test_bri_estatement_fast_path_reads_rows_as_the_reference_does(
    rows: list[tuple[Any, ...]], remark_custom: bool
) -> None:
    def parse(path: Path) -> Any:
        return bri_estatement_csv.parse_bri_estatement_csv(path)

    content = _bri_file([*rows, rows[-1]], remark_custom)  # a twin: same SEQ, day, DESK_TRAN
    fast, reference = _same_both_ways(bri_estatement_csv, parse, "bri.csv", content)
    assert fast == reference


# ---------------------------------------------------------------------------------------------
# money: the two-places shortcut


@given(sen, st.sampled_from(["", "0", "00"]))
def test_two_place_amount_shortcut_equals_the_general_reading(n: int, zeros: str) -> None:
    text = zeros + _plain(n)
    expected = _decimal(text, text)
    for parse in (parse_amount_en, parse_amount_plain):
        got = parse(text)
        assert (got, str(got)) == (expected, str(expected))


# ---------------------------------------------------------------------------------------------
# the fast paths alone read the formats.md examples: the reference readings are never called

SAMPLES = Path(__file__).parent


def test_bca_individual_example_is_read_by_the_fast_path_alone() -> None:
    sample = SAMPLES / "bca_klikbca_individual/samples/english_march_with_pend.csv"
    with mock.patch.object(bca_klikbca_individual.KlikBcaIndividualImporter, "_row", _declined):
        [statement] = bca_klikbca_individual.IMPORTER.parse(sample, ParseContext(as_of=AS_OF))
    first = statement.transactions[0]
    assert (first.posted_on, first.amount, first.counterparty) == (
        date(2026, 3, 2),
        parse_amount_en("1500000.00"),
        "BUDI SANTOSO",
    )
    assert statement.transactions[-1].pending


def test_bnidirect_example_is_read_by_the_fast_path_alone() -> None:
    sample = SAMPLES / "bni_bnidirect_csv/samples/0495227030.CSV"
    with mock.patch.object(bni_bnidirect_csv, "_read_row", _declined):
        [statement] = bni_bnidirect_csv.parse_bni_bnidirect_csv(sample, ACCOUNTS)
    first = statement.transactions[0]
    assert (first.posted_on, str(first.posted_time), str(first.amount)) == (
        date(2026, 2, 27),
        "09:05:00",
        "2000000.00",
    )
    # the unquoted comma in line 4's description: surplus cells joined back into it
    assert statement.transactions[2].message == "bayar INV20417, INV20418"


def test_bri_example_is_read_by_the_fast_path_alone() -> None:
    sample = SAMPLES / "bri_estatement_csv/samples/estatement_formats_example.csv"
    with mock.patch.object(bri_estatement_csv, "_transaction", _declined):
        [statement] = bri_estatement_csv.parse_bri_estatement_csv(sample)
    first = statement.transactions[0]
    assert (first.posted_on, str(first.posted_time), str(first.amount), first.counterparty) == (
        date(2026, 3, 2),
        "08:15:42",
        "1500000.00",
        "BUDI SANTOSO",
    )


# ---------------------------------------------------------------------------------------------
# a signed amount in a Debit/Credit column: the column gives the direction, so a minus sign
# would silently store a negative credit (or debit); the file is rejected, fast path or not


@settings(max_examples=60, deadline=None)
@given(st.lists(well_formed_bni_row, min_size=1, max_size=8), st.data())
def test_bnidirect_signed_amount_rejects_the_file_naming_line_and_column(
    rows: list[tuple[str, ...]], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    column = "Credit" if rows[at][6] != ".00" else "Debit"
    cell = 6 if column == "Credit" else 5
    signed = f"-{rows[at][cell]}"
    rows[at] = (*rows[at][:cell], signed, *rows[at][cell + 1 :])

    def parse(path: Path) -> Any:
        return bni_bnidirect_csv.parse_bni_bnidirect_csv(path, ACCOUNTS)

    content = _bni_file(rows, balance=False, extra_cell=False)
    fast, reference = _same_both_ways(bni_bnidirect_csv, parse, "0495227030.CSV", content)
    assert (
        fast
        == reference
        == (
            f"rejected: 0495227030.CSV: line {at + 2}, column {column!r}: cannot read {signed!r}; "
            "expected a positive amount"
        )
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(well_formed_bri_row, min_size=1, max_size=8), st.data())
def test_bri_signed_amount_rejects_the_file_naming_line_and_column(
    rows: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    column = "MUTASI_KREDIT" if rows[at][8] != ".00" else "MUTASI_DEBET"
    cell = 8 if column == "MUTASI_KREDIT" else 7
    signed = f"-{rows[at][cell]}"
    rows[at] = (*rows[at][:cell], signed, *rows[at][cell + 1 :])

    def parse(path: Path) -> Any:
        return bri_estatement_csv.parse_bri_estatement_csv(path)

    fast, reference = _same_both_ways(bri_estatement_csv, parse, "bri.csv", _bri_file(rows, False))
    assert (
        fast
        == reference
        == (
            f"rejected: bri.csv: line {at + 2}, column {column!r}: cannot read {signed!r}; "
            "expected a positive amount"
        )
    )
