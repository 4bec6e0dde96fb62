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

Money stays ``Decimal`` until the cell; cells hold numbers (so SUM works) shown in IDR format.
Text is always written with ``write_string``: a sender called ``=HYPERLINK(...)`` stays text.
A category larger than Excel's row limit is cut with a closing row pointing to the CSVs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import xlsxwriter
from sqlalchemy import Connection, Engine, and_, select
from xlsxwriter.workbook import Format
from xlsxwriter.worksheet import Worksheet

from reconcile import db
from reconcile.calendar import BankingCalendar
from reconcile.money import ZERO

if TYPE_CHECKING:
    from reconcile.pipeline import Rejection, RunOptions

EXCEL_MAX_ROWS = 1_048_576
ROW_LIMIT = EXCEL_MAX_ROWS - 2  # data rows per sheet: header + one closing "see the CSV" row
CHUNK = 1000
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
class LineExtra:
    decision_id: int | None
    decision_run_id: int | None
    decided_by: str
    rule: str
    candidates: str
    signals: str
    message: str


@dataclass
class StatementFile:
    file_name: str
    account_no: str
    bank: str
    period_start: date | None
    period_end: date | None


@dataclass
class BookData:
    lines: list[dict[str, Any]]
    extras: dict[int, LineExtra]
    ages: dict[int, int]
    confirmations: list[dict[str, Any]]
    confirmation_details: dict[str, Any]
    rejections: list[dict[str, Any]]
    statements: list[StatementFile]
    inputs: list[tuple[str, str, str]]  # kind, file, sha256
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (bank, account_no)


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _line_extras(conn: Connection, line_ids: Sequence[int]) -> dict[int, LineExtra]:
    d, bl = db.decisions.c, db.bank_lines.c
    out: dict[int, LineExtra] = {}
    messages: dict[int, str] = {}
    for chunk in _chunks(line_ids):
        for row in conn.execute(select(bl.id, bl.message, bl.description).where(bl.id.in_(chunk))):
            messages[row.id] = row.message or row.description or ""
        for row in conn.execute(
            select(db.decisions)
            .where(and_(d.bank_line_id.in_(chunk), d.active.is_(True)))
            .order_by(d.id)
        ):
            out[row.bank_line_id] = LineExtra(
                decision_id=row.id,
                decision_run_id=row.run_id,
                decided_by=row.decided_by,
                rule=row.rule,
                candidates=row.candidates,
                signals=row.signals,
                message="",
            )
    for line_id in line_ids:
        extra = out.setdefault(line_id, LineExtra(None, None, "", "", "", "", ""))
        extra.message = messages.get(line_id, "")
    return out


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


def _ages(
    lines: Sequence[dict[str, Any]], calendar: BankingCalendar, as_of: date
) -> dict[int, int]:
    open_rows = [r for r in lines if r["status"] in OPEN_STATUSES and r["direction"] == "CR"]
    if not open_rows:
        return {}
    # a pending line (no posting date yet) arrived today: age 0
    starts = pd.Series(
        [date.fromisoformat(r["posted_on"]) if r["posted_on"] else as_of for r in open_rows]
    )
    ends = pd.Series([as_of] * len(open_rows))
    days = calendar.distances(starts, ends)
    return {int(r["line_id"]): max(0, int(n)) for r, n in zip(open_rows, days, strict=True)}


def bucket_of(age: int) -> str:
    for low, high, label in AGEING_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    raise ValueError(f"negative age {age}")


def gather(
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: Sequence[dict[str, Any]],
    confirmations: Sequence[dict[str, Any]],
    rejections: Sequence[Rejection],
) -> BookData:
    calendar = BankingCalendar(opts.rules.matching.extra_holidays)
    line_ids = sorted({int(r["line_id"]) for r in lines})
    tickets = [str(r["ticket_id"]) for r in confirmations]
    details: dict[str, Any] = {}
    with engine.connect() as conn:
        extras = _line_extras(conn, line_ids)
        statements = _statement_files(conn)
        inputs = _inputs(conn, opts, run_id)
        c = db.confirmations.c
        for chunk in _chunks(tickets):
            for row in conn.execute(select(db.confirmations).where(c.ticket_id.in_(chunk))):
                details[row.ticket_id] = row
    accounts = [(str(a.bank), a.account_no) for a in opts.rules.accounts]
    return BookData(
        lines=list(lines),
        extras=extras,
        ages=_ages(lines, calendar, opts.as_of),
        confirmations=list(confirmations),
        confirmation_details=details,
        rejections=[{"file": r.file, "line": r.line, "reason": r.reason} for r in rejections],
        statements=statements,
        inputs=inputs,
        accounts=accounts,
    )


# ---------------------------------------------------------------------------------------------
# summary figures (pure; the tests compare them with the CSV rows)


def amount_of(row: dict[str, Any]) -> Decimal:
    return Decimal(str(row["amount"]))


@dataclass
class AccountTotal:
    bank: str
    account_no: str
    credits: int = 0
    amounts: list[Decimal] = field(default_factory=lambda: [ZERO] * 6)

    # amounts: credits in, auto-paid, by reviewer, in review, unidentified, ignored


def account_totals(data: BookData) -> list[AccountTotal]:
    """Per account: credits (lines, amount), auto-paid, by reviewer, review, unidentified,
    ignored. Credits are this run's CR lines that are not repeats of stored lines."""
    per = {acc: AccountTotal(bank, acc) for bank, acc in data.accounts}
    for r in data.lines:
        if r["direction"] != "CR" or r["status"] == "DUPLICATE":
            continue
        acc = r["account_no"]
        t = per.setdefault(acc, AccountTotal(r["bank"], acc))
        amount = amount_of(r)
        t.credits += 1
        t.amounts[0] += amount
        status = r["status"]
        extra = data.extras.get(int(r["line_id"]))
        human = extra is not None and extra.decided_by not in ("", "auto")
        if status == "MATCHED":
            t.amounts[2 if human else 1] += amount
        elif status == "REVIEW":
            t.amounts[3] += amount
        elif status == "UNMATCHED":
            t.amounts[4] += amount
        else:
            t.amounts[5] += amount
    return list(per.values())


def status_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    counts: dict[str, list[Any]] = {s: [0, ZERO] for s in STATUS_ORDER}
    for r in data.lines:
        t = counts.setdefault(r["status"], [0, ZERO])
        t[0] += 1
        t[1] += amount_of(r)
    return [(s, v[0], v[1]) for s, v in counts.items()]


def code_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    counts: dict[str, list[Any]] = {}
    for r in data.lines:
        for code in filter(None, str(r["codes"]).split(";")):
            t = counts.setdefault(code, [0, ZERO])
            t[0] += 1
            t[1] += amount_of(r)
    for r in data.confirmations:
        for code in filter(None, str(r["codes"]).split(";")):
            if code == "CONFIRMATION_WITHOUT_FUNDS":
                t = counts.setdefault(code, [0, ZERO])
                t[0] += 1
                detail = data.confirmation_details.get(str(r["ticket_id"]))
                if detail is not None and detail.amount is not None:
                    t[1] += detail.amount
    order = {c: i for i, c in enumerate(CODE_ORDER)}
    return [(c, v[0], v[1]) for c, v in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))]


def ageing_totals(data: BookData) -> list[tuple[str, int, Decimal]]:
    buckets: dict[str, list[Any]] = {label: [0, ZERO] for _, _, label in AGEING_BUCKETS}
    by_id = {int(r["line_id"]): r for r in data.lines if r["status"] in OPEN_STATUSES}
    for line_id, age in data.ages.items():
        t = buckets[bucket_of(age)]
        t[0] += 1
        t[1] += amount_of(by_id[line_id])
    return [(label, v[0], v[1]) for label, v in buckets.items()]


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


# A column: label key, kind (text|money|date|int|input|input_money|key), width, value getter.
Getter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Column:
    label: str
    kind: str
    width: float
    get: Getter


def _iso_date(v: Any) -> date | None:
    if v in (None, ""):
        return None
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _write_table(
    ws: Worksheet,
    f: Formats,
    labels: dict[str, str],
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    *,
    csv_name: str,
    first_row: int = 0,
) -> int:
    """Header, rows, frozen header, filter, widths. Returns the number of data rows written."""
    header_row = first_row
    _page_setup(ws, header_row)
    ws.set_row(header_row, 30)
    for j, col in enumerate(columns):
        hidden = col.kind == "key"
        ws.set_column(j, j, col.width, None, {"hidden": True} if hidden else None)
        _cell_text(ws, header_row, j, KEY_HEADER if hidden else labels[col.label], f.header)
    written = rows[:ROW_LIMIT]
    for i, r in enumerate(written, start=header_row + 1):
        for j, col in enumerate(columns):
            v = col.get(r)
            kind = col.kind
            if kind in ("money", "input_money"):
                fmt = f.money if kind == "money" else f.input_money
                if v is None or v == "":
                    ws.write_blank(i, j, None, fmt)
                else:
                    _cell_money(ws, i, j, Decimal(str(v)), fmt)
            elif kind == "date":
                _cell_date(ws, i, j, _iso_date(v), f.date)
            elif kind == "int":
                if v is None or v == "":
                    ws.write_blank(i, j, None)
                else:
                    ws.write_number(i, j, int(v), f.count)
            elif kind == "input":
                _cell_text(ws, i, j, v, f.input)
            else:
                _cell_text(ws, i, j, v)
    last = header_row + len(written)
    if len(rows) > len(written):
        _cell_text(
            ws,
            last + 1,
            0,
            labels["more_rows"].format(n=len(rows) - len(written), csv=csv_name),
            f.more,
        )
    elif not rows:
        _cell_text(ws, header_row + 1, 0, labels["empty"], f.subtitle)
    ws.freeze_panes(header_row + 1, 0)
    ws.autofilter(header_row, 0, max(last, header_row + 1), len(columns) - 1)
    return len(written)


def _line_columns(data: BookData, *, age: bool = False, candidates: bool = False) -> list[Column]:
    def extra(r: dict[str, Any]) -> LineExtra:
        return data.extras[int(r["line_id"])]

    cols = [
        Column("col.line_id", "int", 9, lambda r: r["line_id"]),
        Column("col.posted_on", "date", 11, lambda r: r["posted_on"]),
        Column("col.bank", "text", 8, lambda r: str(r["bank"]).upper()),
        Column("col.account_no", "text", 16, lambda r: r["account_no"]),
        Column("col.amount", "money", 17, lambda r: r["amount"]),
        Column("col.counterparty", "text", 26, lambda r: r["counterparty"]),
    ]
    if age:
        cols.append(Column("col.age", "int", 10, lambda r: data.ages.get(int(r["line_id"]))))
    cols += [
        Column("col.invoice_nos", "text", 14, lambda r: r["invoice_nos"]),
    ]
    if candidates:
        cols.append(Column("col.candidates", "text", 16, lambda r: extra(r).candidates))
    cols += [
        Column("col.codes", "text", 22, lambda r: r["codes"]),
        Column("col.reason", "text", 60, lambda r: r["reason"]),
        Column("col.evidence", "text", 60, lambda r: evidence_text(extra(r).signals)),
        Column("col.score", "int", 7, lambda r: r["score"]),
        Column("col.rule", "text", 12, lambda r: extra(r).rule),
        Column("col.status", "text", 11, lambda r: r["status"]),
        Column("col.confirmation_ids", "text", 12, lambda r: r["confirmation_ids"]),
        Column("col.message", "text", 40, lambda r: extra(r).message),
        Column("col.source_file", "text", 30, lambda r: r["source_file"]),
        Column("col.source_line", "int", 7, lambda r: r["source_line"]),
    ]
    return cols


def review_key(extra: LineExtra, line_id: int, run_id: int) -> str:
    return f"{extra.decision_id or 0}:{run_id}:{line_id}"


def _decision_columns(data: BookData, run_id: int) -> list[Column]:
    return [
        Column("col.decision", "input", 26, lambda r: ""),
        Column("col.assign_invoice", "input", 14, lambda r: ""),
        Column("col.assign_amount", "input_money", 15, lambda r: ""),
        Column("col.note", "input", 24, lambda r: ""),
    ]


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


def _write_line_sheet(
    wb: xlsxwriter.Workbook,
    f: Formats,
    labels: dict[str, str],
    name_key: str,
    data: BookData,
    rows: Sequence[dict[str, Any]],
    *,
    run_id: int,
    language: str,
    age: bool = False,
    decisions: bool = False,
    candidates: bool = False,
) -> Worksheet:
    ws = wb.add_worksheet(labels[name_key])
    columns = _line_columns(data, age=age, candidates=candidates)
    if decisions:
        key = Column(
            "key",
            "key",
            20,
            lambda r: review_key(data.extras[int(r["line_id"])], int(r["line_id"]), run_id),
        )
        columns = [*_decision_columns(data, run_id), *columns, key]
    n = _write_table(ws, f, labels, columns, rows, csv_name="bank_lines.csv")
    if decisions:
        _add_decision_inputs(ws, labels, n, language)
    return ws


def _has_code(r: dict[str, Any], *codes: str) -> bool:
    return bool(set(str(r["codes"]).split(";")) & set(codes))


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


def _confirmation_rows(data: BookData) -> list[dict[str, Any]]:
    out = []
    for r in data.confirmations:
        if r["status"] != "NO_FUNDS" and "CONFIRMATION_WITHOUT_FUNDS" not in str(r["codes"]):
            continue
        d = data.confirmation_details.get(str(r["ticket_id"]))
        out.append(
            {
                **r,
                "name": (d.account_name or d.name) if d is not None else "",
                "confirmed_amount": d.amount if d is not None else None,
                "transfer_date": d.transfer_date if d is not None else None,
                "destination": (d.bank_destination_raw or "") if d is not None else "",
            }
        )
    return out


def write_workbook(
    path: Path,
    engine: Engine,
    opts: RunOptions,
    run_id: int,
    *,
    lines: Sequence[dict[str, Any]],
    invoices: Sequence[dict[str, Any]],
    confirmations: Sequence[dict[str, Any]],
    rejections: Sequence[Rejection],
) -> Path:
    """Write the run's workbook atomically (temporary name, then rename). ``invoices`` is
    accepted for the caller's symmetry; invoice detail lives in invoices.csv."""
    _ = invoices
    language = opts.rules.language
    labels = LABELS[language]
    data = gather(
        engine, opts, run_id, lines=lines, confirmations=confirmations, rejections=rejections
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    wb = xlsxwriter.Workbook(
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

    credits = [r for r in data.lines if r["direction"] == "CR"]
    matched = [r for r in credits if r["status"] == "MATCHED"]
    auto = [r for r in matched if data.extras[int(r["line_id"])].decided_by in ("", "auto")]
    review = [r for r in credits if r["status"] == "REVIEW"]
    review.sort(key=lambda r: (-data.ages.get(int(r["line_id"]), 0), int(r["line_id"])))
    common: dict[str, Any] = {"run_id": run_id, "language": language}
    _write_line_sheet(wb, f, labels, "sheet.auto", data, auto, **common)
    _write_line_sheet(
        wb, f, labels, "sheet.review", data, review, age=True, decisions=True, candidates=True,
        **common,
    )  # fmt: skip
    _write_line_sheet(
        wb, f, labels, "sheet.mismatch", data,
        [r for r in credits if _has_code(r, "UNDERPAID", "OVERPAID")], **common,
    )  # fmt: skip
    _write_line_sheet(
        wb, f, labels, "sheet.split", data,
        [r for r in credits if _has_code(r, "SPLIT_PAYMENT", "COMBINED_PAYMENT")], **common,
    )  # fmt: skip
    _write_line_sheet(
        wb, f, labels, "sheet.duplicates", data,
        [r for r in data.lines if r["status"] == "DUPLICATE" or _has_code(r, "DUPLICATE_PAYMENT")],
        **common,
    )  # fmt: skip
    unidentified = [r for r in credits if r["status"] == "UNMATCHED"]
    unidentified.sort(key=lambda r: (-data.ages.get(int(r["line_id"]), 0), int(r["line_id"])))
    _write_line_sheet(
        wb, f, labels, "sheet.unidentified", data, unidentified, age=True, decisions=True,
        **common,
    )  # fmt: skip

    ws = wb.add_worksheet(labels["sheet.no_funds"])
    _write_table(
        ws, f, labels,
        [
            Column("col.ticket_id", "text", 12, lambda r: r["ticket_id"]),
            Column("col.invoice_nos", "text", 14, lambda r: r["invoice_no"]),
            Column("col.name", "text", 26, lambda r: r["name"]),
            Column("col.confirmed_amount", "money", 17, lambda r: r["confirmed_amount"]),
            Column("col.transfer_date", "date", 12, lambda r: r["transfer_date"]),
            Column("col.account_no", "text", 22, lambda r: r["destination"]),
            Column("col.codes", "text", 28, lambda r: r["codes"]),
            Column("col.reason", "text", 60, lambda r: r["reason"]),
        ],
        _confirmation_rows(data),
        csv_name="confirmations.csv",
    )  # fmt: skip
    ws = wb.add_worksheet(labels["sheet.rejected"])
    _write_table(
        ws, f, labels,
        [
            Column("col.file", "text", 36, lambda r: r["file"]),
            Column("col.line", "int", 7, lambda r: r["line"]),
            Column("col.reason", "text", 100, lambda r: r["reason"]),
        ],
        data.rejections,
        csv_name="rejections.csv",
    )  # fmt: skip
    wb.close()
    os.replace(tmp, path)
    return path
