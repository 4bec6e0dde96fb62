"""The Excel workbook accountants review: one per run, in Bahasa Indonesia or English.

Sheets (labels from ``LABELS[rules.language]``):

* summary: totals per bank account, counts and amounts per status and per discrepancy code,
  the ageing of open items, statement proof per account (periods and gaps), the run's inputs
  with their sha256, and two native charts;
* one sheet per category: auto-paid, review queue, under/overpayments, split/combined payments,
  duplicates, unidentified credits (with banking-day ageing), confirmations without funds,
  rejected files and rows.

Every line row carries the decision's reason, its per-signal evidence and the source file and
line. The review queue and the unidentified credits have input columns (decision drop-down,
invoice number, amount, note) and a hidden key ``decision id:run id:line id`` that
``reconcile review apply`` (reconcile/review.py) reads back.

Money is exact until the cell: integer sen rendered as decimal text (``1500000.50``) in a
number cell (so SUM works), shown in IDR format. Text is always an inline string, never a
formula: a sender called ``=HYPERLINK(...)`` stays text.

Scale: the summary is computed with pandas over every line of the run; the sheets are a view.
Routine sheets that grow with the volume (auto-paid) show at most
``rules.reports.max_rows_per_sheet`` rows, exception sheets are complete up to Excel's row
limit; a cut sheet ends with a row pointing to the CSV. Sheet rows are rendered column-wise
and streamed in order (xlsxwriter constant_memory), not written cell by cell; each finished
sheet is deflated in a background thread while the next is written (reconcile/xlsxpack.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xlsxwriter
from sqlalchemy import Connection, Engine, and_, select
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Format
from xlsxwriter.worksheet import Worksheet

from reconcile import db
from reconcile.calendar import BankingCalendar
from reconcile.money import ZERO, from_sen
from reconcile.reports import (
    Later,
    arrays_by_ids,
    engine_of,
    format_sen,
    in_process,
    positions_of,
    sorted_unique,
    taken,
)
from reconcile.xlsxpack import PackingWorkbook

if TYPE_CHECKING:
    from reconcile.pipeline import Rejection, RunOptions

EXCEL_MAX_ROWS = 1_048_576
ROW_LIMIT = EXCEL_MAX_ROWS - 2  # data rows per sheet: header + one closing "see the CSV" row
MONEY_FORMAT = '"Rp" #,##0.00'
COUNT_FORMAT = "#,##0"
DATE_FORMATS = {"id": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
KEY_HEADER = "review_key"  # hidden column, same in both languages
AGEING_BUCKETS = ((0, 2, "0-2"), (3, 7, "3-7"), (8, 30, "8-30"), (31, None, ">30"))
OPEN_STATUSES = ("REVIEW", "UNMATCHED")
STATUS_ORDER = ("MATCHED", "REVIEW", "UNMATCHED", "IGNORED", "DUPLICATE")
CODE_ORDER = (
    "UNDERPAID", "OVERPAID", "SPLIT_PAYMENT", "COMBINED_PAYMENT", "DUPLICATE_PAYMENT",
    "PAYMENT_ON_CLOSED_INVOICE", "NAME_MISMATCH", "WRONG_ACCOUNT", "CONFIRMATION_AMOUNT_MISMATCH",
    "CONFIRMATION_WITHOUT_FUNDS", "UNIDENTIFIED_CREDIT", "AMBIGUOUS", "PAID_AFTER_DUE",
)  # fmt: skip

# Review actions: the key is what review.py stores; labels are what the drop-down shows.
ACTIONS = ("approve", "reject", "assign", "not_payment")

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "sheet.summary": "Ringkasan",
        "sheet.auto": "Lunas Otomatis",
        "sheet.review": "Perlu Review",
        "sheet.mismatch": "Kurang-Lebih Bayar",
        "sheet.split": "Split-Gabungan",
        "sheet.duplicates": "Duplikat",
        "sheet.unidentified": "Dana Tak Dikenal",
        "sheet.no_funds": "Konfirmasi Tanpa Dana",
        "sheet.rejected": "Ditolak",
        "title": "Rekonsiliasi bank, run {run_id}, per {as_of}",
        "subtitle": "Jumlah dalam rupiah. Umur = hari kerja bank sejak tanggal mutasi.",
        "block.accounts": "Total per rekening (kredit)",
        "block.status": "Per status",
        "block.codes": "Per kode selisih",
        "block.ageing": "Umur item terbuka (review + tak dikenal)",
        "block.proof": "Bukti rekening koran per rekening",
        "block.inputs": "Input run ini",
        "col.bank": "Bank",
        "col.account_no": "Rekening",
        "col.credits_n": "Kredit (baris)",
        "col.credits_in": "Kredit masuk",
        "col.auto": "Lunas otomatis",
        "col.by_reviewer": "Diputuskan reviewer",
        "col.review": "Perlu review",
        "col.unidentified": "Tak dikenal",
        "col.ignored": "Diabaikan",
        "col.status": "Status",
        "col.code": "Kode",
        "col.meaning": "Arti",
        "col.count": "Jumlah baris",
        "col.amount_total": "Nilai",
        "col.bucket": "Umur (hari kerja)",
        "col.files": "File",
        "col.period_start": "Periode dari",
        "col.period_end": "Periode sampai",
        "col.gaps": "Celah (hari tanpa rekening koran)",
        "col.file": "File",
        "col.sha256": "SHA-256",
        "col.kind": "Jenis",
        "col.line_id": "ID mutasi",
        "col.posted_on": "Tanggal",
        "col.amount": "Jumlah",
        "col.counterparty": "Pengirim",
        "col.message": "Berita / keterangan",
        "col.invoice_nos": "Tagihan",
        "col.candidates": "Kandidat",
        "col.confirmation_ids": "Konfirmasi",
        "col.codes": "Kode",
        "col.score": "Skor",
        "col.rule": "Aturan",
        "col.reason": "Alasan",
        "col.evidence": "Bukti per sinyal",
        "col.source_file": "File sumber",
        "col.source_line": "Baris",
        "col.age": "Umur (hari kerja)",
        "col.ticket_id": "Tiket",
        "col.confirmed_amount": "Jumlah dikonfirmasi",
        "col.transfer_date": "Tanggal transfer",
        "col.name": "Nama",
        "col.line": "Baris",
        "col.decision": "Keputusan",
        "col.assign_invoice": "Alokasikan ke tagihan",
        "col.assign_amount": "Jumlah dialokasikan",
        "col.note": "Catatan",
        "action.approve": "Setujui usulan",
        "action.reject": "Tolak usulan",
        "action.assign": "Alokasikan ke tagihan",
        "action.not_payment": "Bukan pembayaran pelanggan",
        "gaps.none": "tidak ada",
        "gaps.days": "{start} s.d. {end} ({n} hari)",
        "total": "Total",
        "more_rows": "... {n} baris lagi tidak muat di Excel: lihat {csv}",
        "more_rows_capped": "... {n} baris lagi tidak ditampilkan (batas {cap} baris per sheet, "
        "reports.max_rows_per_sheet): lihat {csv}",
        "empty": "(tidak ada)",
        "chart.status": "Nilai kredit per status per rekening",
        "chart.ageing": "Umur item terbuka (nilai)",
        "input.statement": "rekening koran",
        "input.invoices": "daftar tagihan",
        "input.confirmations": "konfirmasi",
        "input.other": "input",
        "decision_help": "Isi kolom Keputusan (dan tagihan bila dialokasikan), lalu jalankan "
        "'reconcile review apply <file ini>'.",
        "status.MATCHED": "Cocok",
        "status.REVIEW": "Perlu review",
        "status.UNMATCHED": "Tak dikenal",
        "status.IGNORED": "Diabaikan (debit/biaya)",
        "status.DUPLICATE": "Duplikat baris",
        "code.UNDERPAID": "Kurang bayar",
        "code.OVERPAID": "Lebih bayar",
        "code.SPLIT_PAYMENT": "Dibayar bertahap",
        "code.COMBINED_PAYMENT": "Satu transfer untuk beberapa tagihan",
        "code.DUPLICATE_PAYMENT": "Tagihan sudah lunas",
        "code.PAYMENT_ON_CLOSED_INVOICE": "Tagihan dibatalkan",
        "code.NAME_MISMATCH": "Nama berbeda",
        "code.WRONG_ACCOUNT": "Rekening tujuan berbeda",
        "code.CONFIRMATION_AMOUNT_MISMATCH": "Jumlah konfirmasi berbeda",
        "code.CONFIRMATION_WITHOUT_FUNDS": "Konfirmasi tanpa dana",
        "code.UNIDENTIFIED_CREDIT": "Dana tak dikenal",
        "code.AMBIGUOUS": "Beberapa tagihan cocok",
        "code.PAID_AFTER_DUE": "Dibayar setelah jatuh tempo",
    },
    "en": {
        "sheet.summary": "Summary",
        "sheet.auto": "Auto-paid",
        "sheet.review": "Review",
        "sheet.mismatch": "Under-Overpaid",
        "sheet.split": "Split-Combined",
        "sheet.duplicates": "Duplicates",
        "sheet.unidentified": "Unidentified",
        "sheet.no_funds": "Confirmations no funds",
        "sheet.rejected": "Rejected",
        "title": "Bank reconciliation, run {run_id}, as of {as_of}",
        "subtitle": "Amounts in rupiah. Age = banking days since the posting date.",
        "block.accounts": "Totals per account (credits)",
        "block.status": "Per status",
        "block.codes": "Per discrepancy code",
        "block.ageing": "Ageing of open items (review + unidentified)",
        "block.proof": "Statement proof per account",
        "block.inputs": "This run's inputs",
        "col.bank": "Bank",
        "col.account_no": "Account",
        "col.credits_n": "Credits (lines)",
        "col.credits_in": "Credits in",
        "col.auto": "Paid automatically",
        "col.by_reviewer": "Decided by reviewer",
        "col.review": "In review",
        "col.unidentified": "Unidentified",
        "col.ignored": "Ignored",
        "col.status": "Status",
        "col.code": "Code",
        "col.meaning": "Meaning",
        "col.count": "Lines",
        "col.amount_total": "Amount",
        "col.bucket": "Age (banking days)",
        "col.files": "Files",
        "col.period_start": "Period from",
        "col.period_end": "Period to",
        "col.gaps": "Gaps (days without a statement)",
        "col.file": "File",
        "col.sha256": "SHA-256",
        "col.kind": "Kind",
        "col.line_id": "Line ID",
        "col.posted_on": "Date",
        "col.amount": "Amount",
        "col.counterparty": "Sender",
        "col.message": "Message / description",
        "col.invoice_nos": "Invoices",
        "col.candidates": "Candidates",
        "col.confirmation_ids": "Confirmations",
        "col.codes": "Codes",
        "col.score": "Score",
        "col.rule": "Rule",
        "col.reason": "Reason",
        "col.evidence": "Evidence per signal",
        "col.source_file": "Source file",
        "col.source_line": "Line",
        "col.age": "Age (banking days)",
        "col.ticket_id": "Ticket",
        "col.confirmed_amount": "Confirmed amount",
        "col.transfer_date": "Transfer date",
        "col.name": "Name",
        "col.line": "Line",
        "col.decision": "Decision",
        "col.assign_invoice": "Assign to invoice",
        "col.assign_amount": "Amount to allocate",
        "col.note": "Note",
        "action.approve": "Approve proposed match",
        "action.reject": "Reject proposed match",
        "action.assign": "Assign to invoice",
        "action.not_payment": "Not a customer payment",
        "gaps.none": "none",
        "gaps.days": "{start} to {end} ({n} days)",
        "total": "Total",
        "more_rows": "... {n} more rows do not fit in Excel: see {csv}",
        "more_rows_capped": "... {n} more rows not shown (at most {cap} rows per sheet, "
        "reports.max_rows_per_sheet): see {csv}",
        "empty": "(none)",
        "chart.status": "Credit amounts by status per account",
        "chart.ageing": "Ageing of open items (amount)",
        "input.statement": "statement",
        "input.invoices": "invoice list",
        "input.confirmations": "confirmations",
        "input.other": "input",
        "decision_help": "Fill in Decision (and the invoice when assigning), then run "
        "'reconcile review apply <this file>'.",
        "status.MATCHED": "Matched",
        "status.REVIEW": "In review",
        "status.UNMATCHED": "Unidentified",
        "status.IGNORED": "Ignored (debit/fee)",
        "status.DUPLICATE": "Repeated line",
        "code.UNDERPAID": "Underpaid",
        "code.OVERPAID": "Overpaid",
        "code.SPLIT_PAYMENT": "Paid in instalments",
        "code.COMBINED_PAYMENT": "One transfer for several invoices",
        "code.DUPLICATE_PAYMENT": "Invoice already paid",
        "code.PAYMENT_ON_CLOSED_INVOICE": "Invoice cancelled",
        "code.NAME_MISMATCH": "Name differs",
        "code.WRONG_ACCOUNT": "Different destination account",
        "code.CONFIRMATION_AMOUNT_MISMATCH": "Confirmed amount differs",
        "code.CONFIRMATION_WITHOUT_FUNDS": "Confirmation without funds",
        "code.UNIDENTIFIED_CREDIT": "Unidentified money",
        "code.AMBIGUOUS": "Several invoices fit",
        "code.PAID_AFTER_DUE": "Paid after due date",
    },
}


def action_labels(language: str) -> dict[str, str]:
    """Drop-down label -> action key for one language."""
    return {LABELS[language][f"action.{a}"]: a for a in ACTIONS}


def all_action_labels() -> dict[str, str]:
    """Labels of both languages (a workbook may be reviewed after a language switch)."""
    out: dict[str, str] = {}
    for language in LABELS:
        out |= action_labels(language)
    return out


def header_labels(key: str) -> set[str]:
    return {LABELS[language][key] for language in LABELS}


# ---------------------------------------------------------------------------------------------
# data gathered before writing


@dataclass
class StatementFile:
    file_name: str
    account_no: str
    bank: str
    period_start: date | None
    period_end: date | None


@dataclass
class BookData:
    """Everything the workbook shows. ``lines`` is reports.line_frame (every line of the run)
    with ``age`` added; the summary is computed from all of it, the sheets show a view."""

    lines: pd.DataFrame
    confirmations: pd.DataFrame
    rejections: pd.DataFrame
    statements: list[StatementFile]
    inputs: list[tuple[str, str, str]]  # kind, file, sha256
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (bank, account_no)


def _statement_files(conn: Connection) -> list[StatementFile]:
    s = db.statement_files.c
    out: list[StatementFile] = []
    for row in conn.execute(
        select(db.statement_files).where(s.status == "IMPORTED").order_by(s.period_start, s.id)
    ):
        for account in (row.account_no or "").split(";"):
            if account:
                out.append(
                    StatementFile(
                        row.file_name, account, row.bank or "", row.period_start, row.period_end
                    )
                )
    return out


def _inputs(conn: Connection, opts: RunOptions, run_id: int) -> list[tuple[str, str, str]]:
    from importers.base import sha256_file

    found: dict[str, tuple[str, str]] = {}
    run = conn.execute(select(db.runs.c.input_hashes).where(db.runs.c.id == run_id)).first()
    if run is not None and run.input_hashes:
        for name, sha in json.loads(run.input_hashes).items():
            found[name] = ("input.other", sha)
    s = db.statement_files.c
    for row in conn.execute(select(s.file_name, s.sha256).where(s.run_id == run_id).order_by(s.id)):
        found[row.file_name] = ("input.statement", row.sha256)
    for kind, path in (
        ("input.invoices", opts.invoices),
        ("input.confirmations", opts.confirmations),
    ):
        if path is not None and path.is_file():
            found[path.name] = (kind, sha256_file(path))
    return [(kind, name, sha) for name, (kind, sha) in found.items()]


def _ages(lines: pd.DataFrame, calendar: BankingCalendar, as_of: date) -> pd.Series:
    """Banking days since posting for open credits (REVIEW, UNMATCHED); missing otherwise. A
    pending line (no posting date yet) arrived today: age 0."""
    ages = pd.Series(pd.NA, index=lines.index, dtype="Int64")
    open_rows = (lines["status"].isin(OPEN_STATUSES) & (lines["direction"] == "CR")).to_numpy()
    if open_rows.any():
        posted = lines.loc[open_rows, "posted_on"]
        starts = posted.where(posted != "", as_of.isoformat())
        ends = pd.Series([as_of] * len(starts))
        days = calendar.distances(starts.reset_index(drop=True), ends)
        ages[open_rows] = np.maximum(days, 0)
    return ages


def gather(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: pd.DataFrame,
    confirmations: pd.DataFrame,
    rejections: Sequence[Rejection],
) -> BookData:
    calendar = BankingCalendar(opts.rules.matching.extra_holidays)
    with engine.connect() as conn:
        statements = _statement_files(conn)
        inputs = _inputs(conn, opts, run_id)
    book_lines = lines.copy(deep=False)
    book_lines["age"] = _ages(lines, calendar, opts.as_of).to_numpy()
    return BookData(
        lines=book_lines,
        confirmations=confirmations,
        rejections=pd.DataFrame(
            {
                "file": [r.file for r in rejections],
                "line": pd.array([r.line for r in rejections], dtype="Int64"),
                "reason": [r.reason for r in rejections],
            }
        ),
        statements=statements,
        inputs=inputs,
        accounts=[(str(a.bank), a.account_no) for a in opts.rules.accounts],
    )


# ---------------------------------------------------------------------------------------------
# summary figures, over every line of the run (never over a capped sheet)


@dataclass
class AccountTotal:
    bank: str
    account_no: str
    credits: int = 0
    amounts: list[Decimal] = field(default_factory=lambda: [ZERO] * 6)

    # amounts: credits in, auto-paid, by reviewer, in review, unidentified, ignored


def _human(lines: pd.DataFrame) -> pd.Series:
    """Decided by a person (review apply), not by the matcher."""
    return ~lines["decided_by"].isin(("", "auto"))


def account_totals(data: BookData) -> list[AccountTotal]:
    """Per account: credits (lines, amount), auto-paid, by reviewer, review, unidentified,
    ignored. Credits are this run's CR lines that are not repeats of stored lines. Summed
    in integer sen over the columns it needs (selecting the credits' rows of the whole frame
    copied every column)."""
    per = {acc: AccountTotal(bank, acc) for bank, acc in data.accounts}
    lines = data.lines
    status = lines["status"].to_numpy(dtype=object)
    cr = (lines["direction"].to_numpy(dtype=object) == "CR") & (status != "DUPLICATE")
    status = status[cr]
    human = _human(lines).to_numpy()[cr]
    kind = np.select(
        [(status == "MATCHED") & ~human, (status == "MATCHED") & human, status == "REVIEW",
         status == "UNMATCHED"],
        [1, 2, 3, 4],
        5,
    )  # fmt: skip
    accounts, distinct = pd.factorize(lines["account_no"].to_numpy(dtype=object)[cr])
    banks = lines["bank"].to_numpy(dtype=object)[cr]
    sen = lines["amount_sen"].to_numpy(dtype=np.int64)[cr]
    sums = np.zeros((len(distinct), 6), dtype=np.int64)  # column 0: every credit
    np.add.at(sums, (accounts, 0), sen)
    np.add.at(sums, (accounts, kind), sen)
    counts = np.bincount(accounts, minlength=len(distinct))
    first = np.full(len(distinct), len(accounts), dtype=np.intp)
    np.minimum.at(first, accounts, np.arange(len(accounts)))
    for k, acc in enumerate(distinct.tolist()):
        t = per.setdefault(acc, AccountTotal(str(banks[first[k]]), acc))
        t.credits = int(counts[k])
        t.amounts = [from_sen(int(v)) for v in sums[k].tolist()]
    return list(per.values())


def _sum_by(keys: pd.Series, sen: pd.Series) -> list[tuple[str, int, Decimal]]:
    """(key, lines, amount) per key, in order of first appearance."""
    grouped = pd.DataFrame({"key": keys.to_numpy(), "sen": sen.to_numpy()}).groupby(
        "key", sort=False
    )["sen"]
    counts, sums = grouped.size(), grouped.sum(min_count=0)
    return [(str(k), int(counts[k]), from_sen(int(sums[k]))) for k in counts.index]


def status_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    found = {k: (n, amount) for k, n, amount in _sum_by(data.lines["status"],
                                                        data.lines["amount_sen"])}  # fmt: skip
    order = list(STATUS_ORDER) + [k for k in found if k not in STATUS_ORDER]
    return [(s, *found.get(s, (0, ZERO))) for s in order]


def _explode_codes(codes: pd.Series, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """One (code, value) per code of a ``;``-joined codes field."""
    exploded = pd.DataFrame({"code": codes.fillna("").str.split(";").to_numpy(),
                             "value": values.to_numpy()}).explode("code")  # fmt: skip
    exploded = exploded[exploded["code"].notna() & (exploded["code"] != "")]
    return exploded["code"], exploded["value"]


def _sum_by_code(codes: pd.Series, sen: pd.Series) -> dict[str, tuple[int, Decimal]]:
    """(lines, amount) per code of a ``;``-joined codes field, codes in order of first
    appearance: summed per distinct field value first (a few dozen), then split."""
    per = (
        pd.DataFrame({"codes": codes.fillna("").to_numpy(dtype=object), "sen": sen.to_numpy()})
        .groupby("codes", sort=False)["sen"]
        .agg(["size", "sum"])
    )
    found: dict[str, list[int]] = {}
    for text, n, total in zip(per.index, per["size"].tolist(), per["sum"].tolist(), strict=True):
        for code in str(text).split(";"):
            if code:
                count_sum = found.setdefault(code, [0, 0])
                count_sum[0] += int(n)
                count_sum[1] += int(total)
    return {code: (n, from_sen(total)) for code, (n, total) in found.items()}


def code_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    totals = _sum_by_code(data.lines["codes"], data.lines["amount_sen"])
    conf = data.confirmations
    if len(conf):
        c_codes, c_sen = _explode_codes(conf["codes"], conf["amount_sen"])
        wanted = c_codes == "CONFIRMATION_WITHOUT_FUNDS"
        if wanted.any():
            amounts = pd.to_numeric(c_sen[wanted]).dropna()
            n, amount = totals.get("CONFIRMATION_WITHOUT_FUNDS", (0, ZERO))
            totals["CONFIRMATION_WITHOUT_FUNDS"] = (
                n + int(wanted.sum()),
                amount + from_sen(int(amounts.sum())),
            )
    order = {c: i for i, c in enumerate(CODE_ORDER)}
    return [(c, v[0], v[1]) for c, v in sorted(totals.items(), key=lambda kv: order.get(kv[0], 99))]


def ageing_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    lines = data.lines
    aged = lines[lines["age"].notna()]
    ages = aged["age"].astype(np.int64).to_numpy()
    out = []
    for low, high, label in AGEING_BUCKETS:
        inside = (ages >= low) & (ages <= (high if high is not None else np.iinfo(np.int64).max))
        out.append((label, int(inside.sum()), from_sen(int(aged["amount_sen"][inside].sum()))))
    return out


def bucket_of(age: int) -> str:
    for low, high, label in AGEING_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    raise ValueError(f"negative age {age}")


def statement_gaps(files: Sequence[StatementFile]) -> dict[str, list[tuple[date, date]]]:
    """Per account, the calendar days no imported statement covers between its first and last."""
    out: dict[str, list[tuple[date, date]]] = {}
    per: dict[str, list[StatementFile]] = {}
    for f in files:
        if f.period_start and f.period_end:
            per.setdefault(f.account_no, []).append(f)
    for account, fs in per.items():
        fs.sort(key=lambda f: (f.period_start, f.period_end))
        gaps: list[tuple[date, date]] = []
        covered_to = fs[0].period_end
        assert covered_to is not None
        for f in fs[1:]:
            assert f.period_start is not None and f.period_end is not None
            if f.period_start > covered_to + timedelta(days=1):
                gaps.append((covered_to + timedelta(days=1), f.period_start - timedelta(days=1)))
            covered_to = max(covered_to, f.period_end)
        out[account] = gaps
    return out


def evidence_text(signals: str) -> str:
    """The per-signal breakdown, one ``name: level (+weight)`` per signal."""
    if not signals or signals in ("{}", "[]"):
        return ""
    try:
        data = json.loads(signals)
    except json.JSONDecodeError:
        return signals
    if not isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False)
    parts: list[str] = []
    for name in sorted(data):
        v = data[name]
        if isinstance(v, dict) and "level" in v:
            extra = ", ".join(f"{k} {v[k]}" for k in sorted(v) if k not in ("level", "weight"))
            weight = v.get("weight")
            text = f"{name}: {v['level']}"
            if isinstance(weight, int):
                text += f" ({weight:+d})"
            parts.append(text + (f" [{extra}]" if extra else ""))
        elif isinstance(v, dict):
            inner = ", ".join(f"{k} {json.dumps(v[k], ensure_ascii=False)}" for k in sorted(v))
            parts.append(f"{name}: {inner}")
        else:
            parts.append(f"{name}: {v}")
    return "; ".join(parts)


_INT = "(0|-?[1-9][0-9]*)"
_LEVEL = "([A-Za-z_][A-Za-z0-9_]*)"
_SCORED = re.compile(
    (
        '{"amount": {"gap_sen": I, "level": "L", "weight": I}, '
        '"confirmation": {"level": "L", "weight": I}, '
        '"date": {"banking_days_after_due": I, "level": "L", "weight": I}, '
        '"name": {"level": "L", "similarity": I, "weight": I}, '
        '"rarity": {"level": "L", "weight": I}, "reference": {"level": "L", "weight": I}}'
    )
    .replace("{", r"\{")
    .replace("}", r"\}")
    .replace("I", _INT)
    .replace('"L"', f'"{_LEVEL}"')
)  # the layout matching._SIGNALS writes: integers and identifier levels only
_SCORED_TEXT = (
    "amount: {1} ({2}) [gap_sen {0}]; confirmation: {3} ({4}); "
    "date: {6} ({7}) [banking_days_after_due {5}]; name: {8} ({10}) [similarity {9}]; "
    "rarity: {11} ({12}); reference: {13} ({14})"
)
_WEIGHTS = (2, 4, 7, 10, 12, 14)


def evidence_texts(signals: Sequence[str]) -> list[str]:
    """``evidence_text`` of each value. The matcher's own layout (``matching._SIGNALS``) is
    read by one regular expression instead of a JSON parse; the text is the same (a test
    compares both); anything else goes through ``evidence_text``, each distinct value once
    (the matcher's values are nearly all distinct: looking them up first cost more than it
    saved)."""
    memo: dict[str, str] = {}
    out: list[str] = []
    match = _SCORED.fullmatch
    template = _SCORED_TEXT.format
    for value in signals:
        found = match(value)
        if found is None:
            text = memo.get(value)
            if text is None:
                text = memo[value] = evidence_text(value)
            out.append(text)
            continue
        parts = list(found.groups())
        for k in _WEIGHTS:
            if parts[k][0] != "-":
                parts[k] = "+" + parts[k]
        out.append(template(*parts))
    return out


# ---------------------------------------------------------------------------------------------
# writing


@dataclass
class Formats:
    header: Format
    title: Format
    subtitle: Format
    block: Format
    money: Format
    money_bold: Format
    count: Format
    count_bold: Format
    date: Format
    text: Format
    bold: Format
    warn: Format
    input: Format
    input_money: Format
    more: Format


def _formats(wb: xlsxwriter.Workbook, language: str) -> Formats:
    return Formats(
        header=wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        title=wb.add_format({"bold": True, "font_size": 14}),
        subtitle=wb.add_format({"italic": True, "font_color": "#595959"}),
        block=wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"}),
        money=wb.add_format({"num_format": MONEY_FORMAT}),
        money_bold=wb.add_format({"num_format": MONEY_FORMAT, "bold": True, "top": 1}),
        count=wb.add_format({"num_format": COUNT_FORMAT}),
        count_bold=wb.add_format({"num_format": COUNT_FORMAT, "bold": True, "top": 1}),
        date=wb.add_format({"num_format": DATE_FORMATS[language], "align": "center"}),
        text=wb.add_format({}),
        bold=wb.add_format({"bold": True, "top": 1}),
        warn=wb.add_format({"font_color": "#C00000", "bold": True}),
        input=wb.add_format({"bg_color": "#FFF2CC", "border": 1, "border_color": "#BFBFBF"}),
        input_money=wb.add_format(
            {
                "bg_color": "#FFF2CC",
                "border": 1,
                "border_color": "#BFBFBF",
                "num_format": MONEY_FORMAT,
            }
        ),
        more=wb.add_format({"italic": True, "font_color": "#C00000"}),
    )


def _page_setup(ws: Worksheet, header_row: int | None) -> None:
    """Printing/PDF: landscape A4, all columns on one page width, header on every page."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None:
        ws.repeat_rows(header_row)


def _cell_text(ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
    """Text is always a string cell, never a formula (formula injection)."""
    ws.write_string(row, col, "" if value is None else str(value), fmt)


def _cell_money(ws: Worksheet, row: int, col: int, value: Decimal, fmt: Format) -> None:
    ws.write_number(row, col, float(value), fmt)  # the cell is a number; Decimal until here


def _cell_date(ws: Worksheet, row: int, col: int, value: date | None, fmt: Format) -> None:
    if value is None:
        ws.write_blank(row, col, None)
    else:
        ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmt)


# ---------------------------------------------------------------------------------------------
# sheet data: whole columns rendered to cell XML at once, rows streamed in order

STREAM_CHUNK = 50_000  # rows rendered at a time: memory stays flat however big the sheet
WRITE_ROWS = 5_000  # rendered rows joined and written at a time
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
MAX_TEXT = 32_767  # Excel's limit per cell
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ESCAPE_LIKE = re.compile(r"_x[0-9a-fA-F]{4}_")


@dataclass(frozen=True)
class Column:
    """A sheet column: label key, kind (text|money|date|int|input|input_money|key), width,
    and the frame column it shows (text: str; money: integer sen; date: ISO text; int)."""

    label: str
    kind: str
    width: float
    source: str = ""


def _escape_control(text: str) -> str:
    text = _ESCAPE_LIKE.sub(lambda m: "_x005F" + m.group(0), text)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def xml_texts(values: Sequence[str]) -> list[str]:
    """Cell text escaped for XML, the whole column at once: one scan of the joined column
    decides which (rare) escapes are needed at all."""
    texts = list(values)
    blob = "".join(texts)
    if len(blob) > MAX_TEXT and max(map(len, texts)) > MAX_TEXT:
        texts = [t[:MAX_TEXT] for t in texts]
    if "&" in blob:
        texts = [t.replace("&", "&amp;") for t in texts]
    if "<" in blob or ">" in blob:
        texts = [t.replace("<", "&lt;").replace(">", "&gt;") for t in texts]
    if _has_control(blob) or ("_x" in blob and _ESCAPE_LIKE.search(blob)):
        texts = [_escape_control(t) for t in texts]
    return texts


def _has_control(text: str) -> bool:
    """Whether ``text`` holds a character _CONTROL matches: a byte below 0x20 other than tab
    and line feed in its UTF-8 form (vectorised: a regular expression scan of every sheet's
    text took most of a second at 1M lines)."""
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return bool(((codes < 0x20) & (codes != 0x09) & (codes != 0x0A)).any())


def _text_values(col: pd.Series) -> list[str]:
    """The column as cell text, missing as ``""``: a text column as it is (one mask, no test
    per value; none when it holds text only), anything else through ``str``."""
    values = col.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        texts: list[str] = values.tolist()
        return texts
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        missing = col.isna().to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = ""
        texts = values.tolist()
        return texts
    return ["" if v is None or v is pd.NA or v != v else str(v) for v in values.tolist()]


def _cell_values(col: Column, values: pd.Series) -> list[str]:
    """One column's cell contents as text (``""``: no value): escaped text, decimal sen, a
    date's Excel serial, an integer."""
    kind = col.kind
    if kind in ("text", "key"):
        return xml_texts(_text_values(values))
    if kind == "money":
        numbers: list[str] = format_sen(values).tolist()
        return numbers
    if kind == "date":
        codes, distinct = pd.factorize(values.replace("", None).to_numpy(dtype=object))
        days = pd.to_datetime(pd.Series(distinct, dtype=object)).to_numpy(dtype="datetime64[D]")
        serial = (days - EXCEL_EPOCH).astype("timedelta64[D]").astype(np.int64)
        texts = np.array([*map(str, serial.tolist()), ""], dtype=object)
        texts[:-1][np.isnat(days)] = ""
        numbers = texts[codes].tolist()  # code -1 (missing): the appended ""
        return numbers
    ints = pd.array(values, dtype="Int64")
    numbers = list(map(str, ints.to_numpy(dtype=np.int64, na_value=0).tolist()))
    for k in np.flatnonzero(ints.isna()).tolist():
        numbers[k] = ""
    return numbers


def _cell_forms(col: Column, letter: str, arg: str, f: Formats) -> tuple[str, str]:
    """A column's ``<c>`` element as f-string source (``{n}``: the row number, ``{arg}``: the
    value), without a value and with one. Text is always an inline string, never a formula:
    a sender called ``=HYPERLINK(...)`` stays text. An empty text, date or integer cell is
    left out; an empty money cell keeps its format."""
    kind = col.kind
    ref = f'r="{letter}{{n}}"'
    if kind in ("input", "input_money"):
        style = (f.input if kind == "input" else f.input_money)._get_xf_index()
        return f'<c {ref} s="{style}"/>', f'<c {ref} s="{style}"/>'
    if kind in ("text", "key"):
        return "", f'<c {ref} t="inlineStr"><is><t xml:space="preserve">{{{arg}}}</t></is></c>'
    style = {"money": f.money, "date": f.date}.get(kind, f.count)._get_xf_index()
    full = f'<c {ref} s="{style}"><v>{{{arg}}}</v></c>'
    return (f'<c {ref} s="{style}"/>' if kind == "money" else ""), full


_MARKUP = re.compile(r'[<>/="A-Za-z0-9_: ]*')  # what row markup is made of: no quote or brace
_PLACEHOLDER = re.compile(r"\{(n|a[0-9]+)\}")


def _row_renderer(cells: Sequence[str], values: int) -> Callable[..., str]:
    """A function of (shape, row number, value 0, value 1, ...) returning the row's
    ``<row>`` element: the cells' markup compiled once into an f-string (about 2.5 times
    faster per row than str.format of the same template). Only our own markup, checked
    character by character, is compiled; the values are arguments, never code."""
    markup = f'<row r="{{n}}">{"".join(cells)}</row>'
    if not _MARKUP.fullmatch(_PLACEHOLDER.sub("", markup)):
        raise ValueError(f"unexpected characters in row markup {markup!r}")
    params = ", ".join(["_", "n", *(f"a{k}" for k in range(values))])
    renderer: Callable[..., str] = eval(f"lambda {params}: f'{markup}'")
    return renderer


def _stream_rows(
    ws: Worksheet, f: Formats, columns: Sequence[Column], rows: pd.DataFrame, first_row: int
) -> None:
    """Write ``rows`` at ``first_row`` (0-based) onwards, in STREAM_CHUNK blocks.

    Each column's values are rendered at once; a row is then one call of a row renderer
    chosen by which of its cells are empty (a handful of shapes per sheet), instead of one
    string per cell. Uses xlsxwriter's constant_memory row stream: the pending row is
    flushed, the rendered ``<row>`` elements are appended to the worksheet's row file, and
    the sheet's dimensions and current row are advanced as xlsxwriter's own writers would."""
    if not ws.constant_memory:
        raise RuntimeError("rows are streamed only in constant_memory mode")
    if len(rows) == 0:
        return
    ws._write_single_row(first_row)
    valued = [j for j, col in enumerate(columns) if col.kind not in ("input", "input_money")]
    bit = {j: b for b, j in enumerate(valued)}  # the value of column j is argument a<bit>
    forms = [
        _cell_forms(col, xl_col_to_name(j), f"a{bit.get(j, 0)}", f) for j, col in enumerate(columns)
    ]
    renderers: dict[int, Callable[..., str]] = {}
    for start in range(0, len(rows), STREAM_CHUNK):
        part = rows.iloc[start : start + STREAM_CHUNK]
        first = first_row + start + 1
        numbers = list(map(str, range(first, first + len(part))))
        values = [
            _cell_values(
                columns[j],
                part[columns[j].source] if columns[j].source else pd.Series([""] * len(part)),
            )
            for j in valued
        ]
        # which of a row's cells have a value, as bits: the row's renderer
        shape = np.zeros(len(part), dtype=np.int64)
        for b, texts in enumerate(values):
            if all(texts):  # most columns: a value in every row, told without an array
                shape |= 1 << b
            else:
                shape |= np.fromiter(map(bool, texts), bool, len(texts)).astype(np.int64) << b
        for code in np.unique(shape).tolist():
            if code not in renderers:
                cells = [
                    form[1] if j not in bit or (code >> bit[j]) & 1 else form[0]
                    for j, form in enumerate(forms)
                ]
                renderers[code] = _row_renderer(cells, len(valued))
        rendered = [renderers[t[0]](*t) for t in zip(shape.tolist(), numbers, *values, strict=True)]
        for at in range(0, len(rendered), WRITE_ROWS):  # pieces of a few MB, not one of 70
            ws.fh.write("".join(rendered[at : at + WRITE_ROWS]))
    last = first_row + len(rows) - 1
    ws.previous_row = last
    ws.dim_rowmax = max(ws.dim_rowmax or 0, last)
    ws.dim_colmax = max(ws.dim_colmax or 0, len(columns) - 1)
    ws.dim_colmin = 0 if ws.dim_colmin is None else min(ws.dim_colmin, 0)


def _write_table(
    ws: Worksheet,
    f: Formats,
    labels: dict[str, str],
    columns: Sequence[Column],
    rows: pd.DataFrame,
    *,
    csv_name: str,
    cap: int | None = None,
    first_row: int = 0,
    total: int | None = None,
) -> int:
    """Header, rows, frozen header, filter, widths. ``cap``: show at most that many rows (the
    rest is in the CSV); Excel's row limit applies to every sheet. ``total``: the rows of the
    category when ``rows`` holds only those to show. Returns the rows written."""
    header_row = first_row
    _page_setup(ws, header_row)
    ws.set_row(header_row, 30)
    for j, col in enumerate(columns):
        hidden = col.kind == "key"
        ws.set_column(j, j, col.width, None, {"hidden": True} if hidden else None)
        _cell_text(ws, header_row, j, KEY_HEADER if hidden else labels[col.label], f.header)
    limit = ROW_LIMIT if cap is None else min(cap, ROW_LIMIT)
    written = rows.iloc[:limit]
    _stream_rows(ws, f, columns, written, header_row + 1)
    last = header_row + len(written)
    left = (len(rows) if total is None else total) - len(written)
    if left:
        note = (
            labels["more_rows"].format(n=left, csv=csv_name)
            if len(written) == ROW_LIMIT
            else labels["more_rows_capped"].format(n=left, cap=limit, csv=csv_name)
        )
        _cell_text(ws, last + 1, 0, note, f.more)
    elif len(rows) == 0:
        _cell_text(ws, header_row + 1, 0, labels["empty"], f.subtitle)
    ws.freeze_panes(header_row + 1, 0)
    ws.autofilter(header_row, 0, max(last, header_row + 1), len(columns) - 1)
    return len(written)


# ---------------------------------------------------------------------------------------------
# the line sheets


# the line sheets (auto-paid, review) whose details the workbook reads itself; a worker reads the
# other sheets' meanwhile (at 1M lines about 140k lines here, 300k there)
DETAILS_HERE = 2


def line_details(engine_or_url: Engine | str, line_ids: npt.NDArray[np.int64]) -> pd.DataFrame:
    """_line_details; a URL: with an engine of its own (a worker process)."""
    with engine_of(engine_or_url) as engine:
        return _line_details(engine, line_ids)


def _line_details(engine: Engine, line_ids: Sequence[int] | npt.NDArray[np.int64]) -> pd.DataFrame:
    """Rule, candidates, evidence and message of the lines a sheet shows (only those),
    indexed by line id."""
    d, bl = db.decisions.c, db.bank_lines.c
    ids = sorted_unique(np.asarray(line_ids, dtype=np.int64))
    with engine.connect() as conn:
        decisions = arrays_by_ids(
            conn,
            lambda cond: select(d.bank_line_id, d.id, d.rule, d.candidates, d.signals).where(
                and_(cond, d.active.is_(True))
            ),
            ids,
            ("line_id", "decision_id", "rule", "candidates", "evidence"),
            d.bank_line_id,
            shared=("rule",),
            integers=("line_id", "decision_id"),
            # the per-signal JSON read into its text as it is fetched: it is never kept
            convert={
                "evidence": lambda signals: np.array(
                    evidence_texts(_blank(signals).tolist()), dtype=object
                )
            },
        )
        texts = arrays_by_ids(
            conn,
            lambda cond: select(bl.id, bl.message, bl.description).where(cond),
            ids,
            ("line_id", "message", "description"),
            bl.id,
            integers=("line_id",),
        )
    # the latest active decision of each line
    dec_line = decisions["line_id"].astype(np.int64)
    order = np.lexsort((decisions["decision_id"].astype(np.int64), dec_line))
    last = order[np.r_[dec_line[order][1:] != dec_line[order][:-1], True]] if len(order) else order
    at = positions_of(dec_line[last], ids)
    at = np.where(at >= 0, last[np.maximum(at, 0)] if len(last) else at, -1)
    out = pd.DataFrame(index=pd.Index(ids, name="line_id"))
    out["rule"] = pd.Series(_blank(taken(decisions["rule"], at)), index=out.index, dtype=object)
    out["candidates"] = pd.Series(
        _blank(taken(decisions["candidates"], at)), index=out.index, dtype=object
    )
    out["evidence"] = pd.Series(
        _blank(taken(decisions["evidence"], at)), index=out.index, dtype=object
    )
    del decisions
    tat = positions_of(texts["line_id"].astype(np.int64), ids)
    message = _blank(taken(texts["message"], tat))
    empty = message == ""
    message[empty] = _blank(taken(texts["description"], tat))[empty]
    out["message"] = pd.Series(message, index=out.index, dtype=object)
    return out


def _blank(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Text values with None (SQL NULL, no row) as ``""``."""
    out = np.array(values, dtype=object)
    out[pd.isna(out)] = ""
    return out


def _line_columns(*, age: bool = False, candidates: bool = False) -> list[Column]:
    cols = [
        Column("col.line_id", "int", 9, "line_id"),
        Column("col.posted_on", "date", 11, "posted_on"),
        Column("col.bank", "text", 8, "bank_upper"),
        Column("col.account_no", "text", 16, "account_no"),
        Column("col.amount", "money", 17, "amount_sen"),
        Column("col.counterparty", "text", 26, "counterparty"),
    ]
    if age:
        cols.append(Column("col.age", "int", 10, "age"))
    cols.append(Column("col.invoice_nos", "text", 14, "invoice_nos"))
    if candidates:
        cols.append(Column("col.candidates", "text", 16, "candidates"))
    cols += [
        Column("col.codes", "text", 22, "codes"),
        Column("col.reason", "text", 60, "reason"),
        Column("col.evidence", "text", 60, "evidence"),
        Column("col.score", "int", 7, "score_int"),
        Column("col.rule", "text", 12, "rule"),
        Column("col.status", "text", 11, "status"),
        Column("col.confirmation_ids", "text", 12, "confirmation_ids"),
        Column("col.message", "text", 40, "message"),
        Column("col.source_file", "text", 30, "source_file"),
        Column("col.source_line", "int", 7, "source_line"),
    ]
    return cols


DECISION_COLUMNS = [
    Column("col.decision", "input", 26),
    Column("col.assign_invoice", "input", 14),
    Column("col.assign_amount", "input_money", 15),
    Column("col.note", "input", 24),
]


def review_keys(rows: pd.DataFrame, run_id: int) -> pd.Series:
    """The hidden ``decision id:run id:line id`` of each review row (0: no decision yet)."""
    decision = rows["decision_id"].astype("Int64").fillna(0).astype(str)
    return decision + f":{run_id}:" + rows["line_id"].astype(str)


def _write_line_sheet(
    wb: xlsxwriter.Workbook,
    f: Formats,
    labels: dict[str, str],
    name_key: str,
    rows: pd.DataFrame,
    *,
    run_id: int,
    language: str,
    cap: int | None = None,
    total: int | None = None,
    age: bool = False,
    decisions: bool = False,
    candidates: bool = False,
) -> Worksheet:
    """``rows``: the rows to show; ``total``: how many the category holds (default: all
    shown), the rest is pointed to in bank_lines.csv."""
    ws = wb.add_worksheet(labels[name_key])
    columns = _line_columns(age=age, candidates=candidates)
    if decisions:
        rows = rows.assign(review_key=review_keys(rows, run_id).to_numpy())
        columns = [*DECISION_COLUMNS, *columns, Column("key", "key", 20, "review_key")]
    n = _write_table(ws, f, labels, columns, rows, csv_name="bank_lines.csv", cap=cap, total=total)
    if decisions:
        _add_decision_inputs(ws, labels, n, language)
    return ws


def _has_code(lines: pd.DataFrame, *codes: str) -> pd.Series:
    """Whether each line's codes hold one of ``codes``, decided once per distinct value."""
    wanted = set(codes)
    keys, distinct = pd.factorize(lines["codes"].to_numpy(dtype=object))
    hit = np.array([not wanted.isdisjoint(str(v).split(";")) for v in distinct] + [False])
    return pd.Series(hit[keys], index=lines.index)  # key -1 (missing): the appended False


def _no_funds_rows(data: BookData) -> pd.DataFrame:
    conf = data.confirmations
    if len(conf) == 0:
        return conf
    wanted = (conf["status"] == "NO_FUNDS") | conf["codes"].str.contains(
        "CONFIRMATION_WITHOUT_FUNDS", regex=False
    )
    rows = conf[wanted.to_numpy()].copy()
    account_name = rows["account_name"].fillna("")
    rows["payer"] = account_name.where(account_name != "", rows["name"].fillna(""))
    return rows


def _add_decision_inputs(ws: Worksheet, labels: dict[str, str], n_rows: int, language: str) -> None:
    if n_rows == 0:
        return
    options = [labels[f"action.{a}"] for a in ACTIONS]
    ws.data_validation(
        1,
        0,
        n_rows,
        0,
        {
            "validate": "list",
            "source": options,
            "input_title": labels["col.decision"],
            "input_message": labels["decision_help"][:255],
            "error_title": labels["col.decision"],
            "error_message": " / ".join(options)[:255],
        },
    )
    ws.data_validation(
        1,
        2,
        n_rows,
        2,
        {"validate": "decimal", "criteria": ">", "value": 0, "ignore_blank": True},
    )


def _write_summary(
    wb: xlsxwriter.Workbook,
    f: Formats,
    labels: dict[str, str],
    data: BookData,
    run_id: int,
    as_of: date,
    language: str,
) -> Worksheet:
    ws = wb.add_worksheet(labels["sheet.summary"])
    sheet = labels["sheet.summary"]
    _page_setup(ws, None)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 9, 17)
    ws.set_column(10, 10, 4)
    as_of_text = as_of.strftime("%d/%m/%Y" if language == "id" else "%Y-%m-%d")
    _cell_text(ws, 0, 0, labels["title"].format(run_id=run_id, as_of=as_of_text), f.title)
    _cell_text(ws, 1, 0, labels["subtitle"], f.subtitle)
    row = 3

    # totals per account
    _cell_text(ws, row, 0, labels["block.accounts"], f.block)
    row += 1
    heads = ["col.bank", "col.account_no", "col.credits_n", "col.credits_in", "col.auto",
             "col.by_reviewer", "col.review", "col.unidentified", "col.ignored"]  # fmt: skip
    ws.set_row(row, 30)
    for j, h in enumerate(heads):
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    totals = account_totals(data)
    first_data = row
    sums = [ZERO] * 6
    for t in totals:
        _cell_text(ws, row, 0, t.bank.upper())
        _cell_text(ws, row, 1, t.account_no)
        ws.write_number(row, 2, t.credits, f.count)
        for k, amount in enumerate(t.amounts):
            _cell_money(ws, row, 3 + k, amount, f.money)
            sums[k] += amount
        row += 1
    last_data = row - 1
    _cell_text(ws, row, 0, labels["total"], f.bold)
    _cell_text(ws, row, 1, "", f.bold)
    ws.write_number(row, 2, sum(t.credits for t in totals), f.count_bold)
    for k, amount in enumerate(sums):
        _cell_money(ws, row, 3 + k, amount, f.money_bold)
    row += 2
    if totals:
        chart = wb.add_chart({"type": "column"})
        for j, key in ((4, "col.auto"), (5, "col.by_reviewer"), (6, "col.review"),
                       (7, "col.unidentified")):  # fmt: skip
            chart.add_series(
                {
                    "name": [sheet, first_data - 1, j],
                    "categories": [sheet, first_data, 1, last_data, 1],
                    "values": [sheet, first_data, j, last_data, j],
                }
            )
            _ = key
        chart.set_title({"name": labels["chart.status"]})
        chart.set_y_axis({"num_format": "#,##0"})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 620, "height": 300})
        ws.insert_chart(row, 5, chart)
    chart_anchor = row

    # per status
    _cell_text(ws, row, 0, labels["block.status"], f.block)
    row += 1
    for j, h in enumerate(("col.status", "col.count", "col.amount_total")):
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    for status, n, amount in status_totals(data):
        _cell_text(ws, row, 0, labels.get(f"status.{status}", status))
        ws.write_number(row, 1, n, f.count)
        _cell_money(ws, row, 2, amount, f.money)
        row += 1
    row += 1

    # per code
    _cell_text(ws, row, 0, labels["block.codes"], f.block)
    row += 1
    for j, h in enumerate(("col.meaning", "col.count", "col.amount_total", "col.code")):
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    codes = code_totals(data)
    for code, n, amount in codes:
        _cell_text(ws, row, 0, labels.get(f"code.{code}", code))
        ws.write_number(row, 1, n, f.count)
        _cell_money(ws, row, 2, amount, f.money)
        _cell_text(ws, row, 3, code)
        row += 1
    if not codes:
        _cell_text(ws, row, 0, labels["empty"], f.subtitle)
        row += 1
    row = max(row + 1, chart_anchor + 16)

    # ageing
    _cell_text(ws, row, 0, labels["block.ageing"], f.block)
    row += 1
    for j, h in enumerate(("col.bucket", "col.count", "col.amount_total")):
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    age_first = row
    for label, n, amount in ageing_totals(data):
        _cell_text(ws, row, 0, label)
        ws.write_number(row, 1, n, f.count)
        _cell_money(ws, row, 2, amount, f.money)
        row += 1
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": [sheet, age_first - 1, 2],
            "categories": [sheet, age_first, 0, row - 1, 0],
            "values": [sheet, age_first, 2, row - 1, 2],
            "fill": {"color": "#C55A11"},
        }
    )
    chart.set_title({"name": labels["chart.ageing"]})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 260})
    ws.insert_chart(age_first - 2, 5, chart)
    row = max(row + 1, age_first + 13)

    # statement proof
    _cell_text(ws, row, 0, labels["block.proof"], f.block)
    row += 1
    ws.set_row(row, 30)
    for j, h in enumerate(("col.account_no", "col.bank", "col.files", "col.period_start",
                           "col.period_end", "col.gaps")):  # fmt: skip
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    gaps = statement_gaps(data.statements)
    banks = dict((acc, bank) for bank, acc in data.accounts)
    for account in [acc for _, acc in data.accounts] + sorted(
        {s.account_no for s in data.statements} - {acc for _, acc in data.accounts}
    ):
        files = [s for s in data.statements if s.account_no == account]
        starts = [s.period_start for s in files if s.period_start]
        ends = [s.period_end for s in files if s.period_end]
        _cell_text(ws, row, 0, account)
        _cell_text(ws, row, 1, banks.get(account, files[0].bank if files else "").upper())
        ws.write_number(row, 2, len(files), f.count)
        _cell_date(ws, row, 3, min(starts) if starts else None, f.date)
        _cell_date(ws, row, 4, max(ends) if ends else None, f.date)
        account_gaps = gaps.get(account, [])
        if account_gaps:
            fmt_day = "%d/%m/%Y" if language == "id" else "%Y-%m-%d"
            text = "; ".join(
                labels["gaps.days"].format(
                    start=a.strftime(fmt_day), end=b.strftime(fmt_day), n=(b - a).days + 1
                )
                for a, b in account_gaps
            )
            _cell_text(ws, row, 5, text, f.warn)
        else:
            _cell_text(ws, row, 5, labels["gaps.none"] if files else labels["empty"])
        row += 1
    row += 1

    # inputs
    _cell_text(ws, row, 0, labels["block.inputs"], f.block)
    row += 1
    for j, h in enumerate(("col.file", "col.kind", "col.sha256")):
        _cell_text(ws, row, j, labels[h], f.header)
    row += 1
    for kind, name, sha in data.inputs:
        _cell_text(ws, row, 0, name)
        _cell_text(ws, row, 1, labels[kind])
        _cell_text(ws, row, 2, sha)
        row += 1
    if not data.inputs:
        _cell_text(ws, row, 0, labels["empty"], f.subtitle)
    ws.activate()
    return ws


def write_workbook(
    path: Path,
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: pd.DataFrame,
    invoices: pd.DataFrame | None,
    confirmations: pd.DataFrame,
    rejections: Sequence[Rejection],
) -> Path:
    """Write the run's workbook atomically (temporary name, then rename). ``lines`` and
    ``confirmations`` are reports.line_frame / confirmation_frame; ``invoices`` is accepted for
    the caller's symmetry (invoice detail lives in invoices.csv)."""
    return build_workbook(
        path,
        engine,
        opts,
        run_id,
        lines=lines,
        invoices=invoices,
        confirmations=confirmations,
        rejections=rejections,
    ).close()


@dataclass
class PendingWorkbook:
    """A workbook whose sheets are written but not yet packaged: ``close`` compresses the
    sheets into the .xlsx (zlib, which releases the GIL, so another thread can write the CSVs
    meanwhile) and renames it into place."""

    workbook: xlsxwriter.Workbook
    tmp: Path
    path: Path

    def close(self) -> Path:
        self.workbook.close()
        os.replace(self.tmp, self.path)
        return self.path


def build_workbook(
    path: Path,
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: pd.DataFrame,
    invoices: pd.DataFrame | None,
    confirmations: pd.DataFrame,
    rejections: Sequence[Rejection],
    later: Later | None = None,
) -> PendingWorkbook:
    """Every sheet of the run's workbook, written to a temporary name; see write_workbook.
    ``later`` (reports._report_worker): where the details of the lines most sheets show are
    read while the first sheets are written (default: here, when they are needed)."""
    _ = invoices
    language = opts.rules.language
    labels = LABELS[language]
    cap = opts.rules.reports.max_rows_per_sheet
    data = gather(
        engine, opts, run_id, lines=lines, confirmations=confirmations, rejections=rejections
    )
    every = data.lines
    line_id = every["line_id"].to_numpy()
    status = every["status"].to_numpy()
    credit = (every["direction"] == "CR").to_numpy()
    age = every["age"].fillna(0).astype(np.int64).to_numpy()

    def oldest_first(positions: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        return positions[np.lexsort((line_id[positions], -age[positions]))]

    # each sheet as positions into ``every``: only the rows a sheet shows are ever copied
    sheets: list[tuple[str, npt.NDArray[np.intp], dict[str, Any]]] = [
        ("sheet.auto",
         np.flatnonzero(credit & (status == "MATCHED") & ~_human(every).to_numpy()),
         {"cap": cap}),
        ("sheet.review", oldest_first(np.flatnonzero(credit & (status == "REVIEW"))),
         {"age": True, "decisions": True, "candidates": True}),
        ("sheet.mismatch",
         np.flatnonzero(credit & _has_code(every, "UNDERPAID", "OVERPAID").to_numpy()), {}),
        ("sheet.split",
         np.flatnonzero(credit & _has_code(every, "SPLIT_PAYMENT", "COMBINED_PAYMENT").to_numpy()),
         {}),
        ("sheet.duplicates",
         np.flatnonzero((status == "DUPLICATE") | _has_code(every, "DUPLICATE_PAYMENT").to_numpy()),
         {}),
        ("sheet.unidentified", oldest_first(np.flatnonzero(credit & (status == "UNMATCHED"))),
         {"age": True, "decisions": True}),
    ]  # fmt: skip
    shown = [rows[: min(ROW_LIMIT, kw.get("cap") or ROW_LIMIT)] for _, rows, kw in sheets]
    # the details of the lines shown: those of the first sheets read here, the others' started
    # at once where ``later`` runs them (a worker process, in a big run) and taken when the
    # first sheet needing them comes
    ids = [line_id[r].astype(np.int64) for r in shown]
    here = sorted_unique(np.concatenate(ids[:DETAILS_HERE]))
    rest = sorted_unique(np.concatenate(ids[DETAILS_HERE:]))
    rest_details = (later or in_process(engine))(line_details, rest[positions_of(here, rest) < 0])
    details = _line_details(engine, here)

    def with_details(rows: pd.DataFrame) -> pd.DataFrame:
        """The shown rows with their details (rows beyond them are counted, not rendered)."""
        out = rows.join(details, on="line_id")
        out["bank_upper"] = out["bank"].str.upper()
        out["score_int"] = pd.to_numeric(out["score"].replace("", None)).astype("Int64")
        return out

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb = PackingWorkbook(
        str(tmp),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,
            "default_date_format": DATE_FORMATS[language],
        },
    )
    f = _formats(wb, language)
    _write_summary(wb, f, labels, data, run_id, opts.as_of, language)
    common: dict[str, Any] = {"run_id": run_id, "language": language}
    for k, ((name_key, rows, kw), head) in enumerate(zip(sheets, shown, strict=True)):
        if k == DETAILS_HERE:
            details = pd.concat([details, rest_details()])
        rendered = with_details(every.iloc[head])
        wb.seal(
            _write_line_sheet(wb, f, labels, name_key, rendered, total=len(rows), **common, **kw)
        )

    ws = wb.add_worksheet(labels["sheet.no_funds"])
    _write_table(
        ws, f, labels,
        [
            Column("col.ticket_id", "text", 12, "ticket_id"),
            Column("col.invoice_nos", "text", 14, "invoice_no"),
            Column("col.name", "text", 26, "payer"),
            Column("col.confirmed_amount", "money", 17, "amount_sen"),
            Column("col.transfer_date", "date", 12, "transfer_date"),
            Column("col.account_no", "text", 22, "destination"),
            Column("col.codes", "text", 28, "codes"),
            Column("col.reason", "text", 60, "reason"),
        ],
        _no_funds_rows(data),
        csv_name="confirmations.csv",
    )  # fmt: skip
    wb.seal(ws)
    ws = wb.add_worksheet(labels["sheet.rejected"])
    _write_table(
        ws, f, labels,
        [
            Column("col.file", "text", 36, "file"),
            Column("col.line", "int", 7, "line"),
            Column("col.reason", "text", 100, "reason"),
        ],
        data.rejections,
        csv_name="rejections.csv",
    )  # fmt: skip
    wb.seal(ws)
    return PendingWorkbook(wb, tmp, path)
