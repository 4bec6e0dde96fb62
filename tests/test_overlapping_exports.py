"""One account exported in two shapes for overlapping days (formats.md §12 item 21): the
texts differ, so the keys do; each transaction is still stored once."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from reconcile import db, store
from reconcile.pipeline import RunOptions, run
from tests.test_incremental import _options

# the sample's BNIDirect CSV, exported again with its optional Balance column
BNI_WITH_BALANCE = """\
Post Date,Value Date,Branch,Journal No.,Description,Debit,Credit,Balance,
03/03/26 09.12.40,03/03/26 09.12.40,0259,418273,TRANSFER DARI | PEMINDAHAN DARI 0281234567 PT WIJAYA NIAGA SENTOSA | INV 20440 20442,.00,"1,500,000.00","9,700,000.00",
04/03/26 13.05.11,04/03/26 13.05.11,0259,419002,TRANSFER DARI | PEMINDAHAN DARI 0287654321 Ibu DEWI ANGGRAINI | INV 20410,.00,"450,000.00","10,150,000.00",
05/03/26 23.59.00,05/03/26 23.59.00,0259,421002,BIAYA ADM,"11,000.00",.00,"10,139,000.00",
"""

# 4 and 5 March of the sample's Mandiri Kopra export, as MCM classic prints them; and a
# transfer of the same amount on 4 March from someone else
MCM_CLASSIC = """\
Account No,Date,Val. Date,Transaction Code,Description,Description,Reference No.,Debit,Credit,
1370010136428,04/03/26,04/03/26,7820,Trf Inw CN BANK DANAMON,CV SUMBER REJEKI ABADI J,,.00,"3,300,000.00",
1370010136428,04/03/26,04/03/26,7820,Trf Inw CN BANK BCA,HENDRA GUNAWAN,,.00,"3,300,000.00",
1370010136428,05/03/26,05/03/26,9999,Biaya Adm,Biaya Administrasi,,"12,500.00",.00,
"""


def _imports(tmp_path: Path, db_url: str) -> RunOptions:
    opts = _options(tmp_path)
    return replace(opts, db_url=db_url, command="import", load_sources=False, match=False,
                   write_reports=False)  # fmt: skip


def _only(opts: RunOptions, name: str, text: str) -> None:
    for old in opts.inbox.iterdir():
        old.unlink()
    (opts.inbox / name).write_text(text, encoding="utf-8")


def _lines(opts: RunOptions, account: str) -> list[tuple[date, str, Decimal, str]]:
    engine = store.make_engine(opts.db_url)
    with engine.connect() as conn:
        b = db.bank_lines.c
        rows = conn.execute(
            select(b.posted_on, b.direction, b.amount, b.layout)
            .where(b.account_no == account)
            .order_by(b.id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_bnidirect_export_with_its_balance_column_repeats_the_one_without(
    tmp_path: Path, db_url: str
) -> None:
    opts = _imports(tmp_path, db_url)
    first = run(opts)
    _only(opts, "0495227030_saldo.CSV", BNI_WITH_BALANCE)

    again = run(opts)

    assert first.counts["lines_new"] == 17
    assert (again.counts["lines_new"], again.counts["lines_duplicate"]) == (0, 3)
    assert [(d, x, a) for d, x, a, _ in _lines(opts, "0495227030")] == [
        (date(2026, 3, 3), "CR", Decimal("1500000.00")),
        (date(2026, 3, 4), "CR", Decimal("450000.00")),
        (date(2026, 3, 5), "DB", Decimal("11000.00")),
    ]


def test_mcm_classic_export_repeats_the_kopra_lines_of_its_days_and_adds_the_new_one(
    tmp_path: Path, db_url: str
) -> None:
    """CV Sumber Rejeki's Rp 3.300.000 and the Rp 12.500 fee are Kopra's lines; Hendra
    Gunawan's Rp 3.300.000 the same day is another transfer (its sender is not Kopra's)."""
    opts = _imports(tmp_path, db_url)
    run(opts)
    kopra = _lines(opts, "1370010136428")
    _only(opts, "mcm_1370010136428.csv", MCM_CLASSIC)

    again = run(opts)

    assert (again.counts["lines_new"], again.counts["lines_duplicate"]) == (1, 2)
    assert _lines(opts, "1370010136428") == [
        *kopra, (date(2026, 3, 4), "CR", Decimal("3300000.00"), "mandiri_mcm_csv")]  # fmt: skip


def test_the_same_export_in_the_other_order_of_shapes_adds_nothing_either(
    tmp_path: Path, db_url: str
) -> None:
    """MCM classic first, then the Kopra export of the whole week: its 4 and 5 March lines
    are MCM's; the other days' lines are new."""
    opts = _imports(tmp_path, db_url)
    kopra = next(opts.inbox.glob("Acc_Statement_*"))
    shutil.copy(kopra, tmp_path / "kopra.csv")
    _only(opts, "mcm_1370010136428.csv", MCM_CLASSIC)
    first = run(opts)
    _only(opts, kopra.name, (tmp_path / "kopra.csv").read_text(encoding="utf-8"))

    again = run(opts)

    assert first.counts["lines_new"] == 3
    assert (again.counts["lines_new"], again.counts["lines_duplicate"]) == (2, 2)
