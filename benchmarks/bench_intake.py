"""Invoice-list and confirmation intake speed (importers/billing.py), on generated files.

    /work/venv/bin/python -m benchmarks.bench_intake --invoices 550000 --confirmations 100000

writes ``invoices.csv`` and ``confirmations.csv`` (deterministic for a given ``--seed``) into
``--out`` (a temporary directory by default), loads each with ``load_invoices`` /
``load_confirmations`` and prints seconds and rows per second. ``--profile`` prints the
cProfile top functions of each load instead of timing it alone.

Typing is as messy as formats.md §9.1 and §10.2-10.5 describe: most values take the common
clean forms, a few percent are the odd ones (``1,5 jt``, ``12 Maret jam 21:30``, ``kemarin``,
``Rp 1.500.000 + 2.500``, foreign banks, impossible dates, repeated invoice numbers).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from importers.billing import load_confirmations, load_invoices
from reconcile.config import Rules, parse_rules

AS_OF = date(2026, 5, 1)
FIRST_INVOICE_NO = 200001
FIRST_TICKET_ID = 480001
RULES_YAML = """
accounts:
  - {bank: mandiri, account_no: "1370010136428", holder: RINA WULANDARI}
  - {bank: bca, account_no: "0372543386", holder: RINA WULANDARI}
  - {bank: bni, account_no: "0495227030", holder: RINA WULANDARI}
  - {bank: bri, account_no: "002901124296507", holder: RINA WULANDARI}
"""
FIRST_NAMES = [
    "Budi",
    "Siti",
    "Hendra",
    "Dewi",
    "Agus",
    "Maya",
    "Rudi",
    "Tono",
    "Citra",
    "Dedi",
    "Eka",
    "Fajar",
    "Gita",
    "Hana",
    "Indra",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nur",
    "Oki",
    "Putu",
    "Rina",
    "Sari",
    "Teguh",
    "Umar",
    "Vina",
    "Wahyu",
    "Yanti",
    "Zainal",
]
LAST_NAMES = [
    "Santoso",
    "Rahayu",
    "Wijaya",
    "Anggraini",
    "Salim",
    "Putri",
    "Hartono",
    "Lestari",
    "Saputra",
    "Kusuma",
    "Nugroho",
    "Pratama",
    "Hidayat",
    "Setiawan",
    "Purnama",
    "Gunawan",
    "Halim",
    "Sihombing",
    "Siregar",
    "Wibowo",
]
COMPANIES = ("", "", "", "CV Maju Jaya", "PT Niaga Sentosa", "PT Awan Data", "CV Sinar Grafika")
# hosting prices repeat by the tens of thousands: a few dominate
PRICES = np.array([165000, 99000, 250000, 450000, 750000, 1250000, 1500000, 2400000, 35000])
PRICE_WEIGHTS = np.array([15, 12, 12, 10, 10, 8, 8, 5, 5], dtype=float)
MONTHS_ID = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
DESTINATIONS = (
    "bca", "BCA", "Bank Central Asia", "klikbca", "0372543386", "037 254 3386",
    "mandiri", "Bank Mandiri", "livin", "Mandiri 1370010136428", "137-00-1013642-8",
    "bni", "BNI 46", "Bank Negara Indonesia", "0495227030",
    "bri", "Bank Rakyat Indonesia", "brimo", "BRI 0029-01-124296-50-7",
)  # fmt: skip
ODD_DESTINATIONS = ("BSI", "transfer", "bca / mandiri", "tf dr bri ke mandiri", "", "1234567890")
MESSAGES = ("Sudah transfer ya min, mohon diproses", "mohon dicek", "", "tks", "sudah tf")


def _amount_sen(rng: np.random.Generator, n: int) -> np.ndarray:
    prices = rng.choice(PRICES, n, p=PRICE_WEIGHTS / PRICE_WEIGHTS.sum())
    irregular = rng.random(n) < 0.2  # prorated upgrades: thousands of distinct amounts
    prices = np.where(
        irregular, rng.integers(20, 5000, n) * 1000 + rng.integers(0, 2, n) * 500, prices
    )
    return prices.astype(np.int64) * 100


def _invoice_amount(sen: int, u: float) -> str:
    rupiah, cents = divmod(sen, 100)
    if u < 0.90:
        return f"{rupiah}.{cents:02d}"
    if u < 0.96:
        return str(rupiah)
    if u < 0.98:
        return f"{rupiah:,}.{cents:02d}"
    if u < 0.995:
        return "Rp " + f"{rupiah:,}".replace(",", ".")
    return "tujuh ratus"


def write_invoices(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    amounts = _amount_sen(rng, n)
    u = rng.random((n, 6))
    client = rng.integers(0, len(FIRST_NAMES) * len(LAST_NAMES) * 7, n)
    issued = rng.integers(0, 120, n)
    start = date(2026, 1, 5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            ["invoice_no", "client_name", "company_name", "email", "issued_on", "due_on",
             "amount", "status"]
        )  # fmt: skip
        for i in range(n):
            c = int(client[i])
            first, last = FIRST_NAMES[c % len(FIRST_NAMES)], LAST_NAMES[c // 31 % len(LAST_NAMES)]
            company = COMPANIES[c % len(COMPANIES)]
            email = f"{first}.{last}{c % 97}@example.com"
            if u[i, 0] < 0.05:
                email = email.title()
            on = start + timedelta(days=int(issued[i]))
            due = on + timedelta(days=7)
            issued_text = on.isoformat() if u[i, 1] < 0.97 else on.strftime("%d/%m/%Y")
            due_text = due.isoformat() if u[i, 2] < 0.99 else ""
            if u[i, 2] > 0.9995:
                due_text = "2026-02-30"
            number = str(FIRST_INVOICE_NO + i)
            if u[i, 3] < 0.001:
                number = str(FIRST_INVOICE_NO + max(0, i - 5))  # repeated number
            status = "Unpaid" if u[i, 4] < 0.85 else ("Paid" if u[i, 4] < 0.97 else "Cancelled")
            if u[i, 5] < 0.01:
                status = status.upper()
            out.writerow(
                [number, f"{first} {last}", company, email, issued_text, due_text,
                 _invoice_amount(int(amounts[i]), float(u[i, 5])), status]
            )  # fmt: skip


def _typed_amount(sen: int, form: int) -> str:
    r = sen // 100
    dotted = f"{r:,}".replace(",", ".")
    forms = {
        0: f"Rp {dotted}",
        1: f"{dotted},00",
        2: f"Rp{r:,}.-",
        3: f"Rp. {dotted}",
        4: f"IDR {dotted}",
        5: str(r),
        6: dotted,
    }
    if form in forms:
        return forms[form]
    if form == 7 and r % 100_000 == 0 and r >= 1_000_000:
        return f"{r // 1_000_000},{r // 100_000 % 10} jt"
    if form == 8 and r % 1000 == 0 and r < 1_000_000:
        return f"{r // 1000}rb"
    odd = ("1,5M", "satu juta", f"Rp {dotted} + 2.500 (biaya)", "", f"{r // 1000} ribu")
    return odd[form % len(odd)]


def _typed_date(d: datetime, form: int) -> str:
    forms = {
        0: f"{d.day:02d}/{d.month:02d}/{d.year}",
        1: f"{d.day}.{d.month}.{d.year % 100:02d}",
        2: f"{d.day} {MONTHS_ID.split()[d.month - 1]} {d.year}",
        3: d.date().isoformat(),
        4: f"{d.day}-{d.month}-{d.year % 100:02d}",
        5: f"{d.day:02d}/{d.month:02d}/{d.year}",
    }
    if form in forms:
        return forms[form]
    odd = (
        "kemarin",
        f"{d.day} {MONTHS_ID.split()[d.month - 1]} jam {d.hour:02d}:{d.minute:02d}",
        f"{d.day:02d}/{d.month:02d}",
        f"{d.month:02d}/25/{d.year}",
        "",
        f"Senin, {d.day} {MONTHS_ID.split()[d.month - 1][:3]} {d.year}",
    )
    return odd[form % len(odd)]


def _typed_invoice(number: str, other: str, form: int) -> str:
    forms = (
        f"#{number}", f"INV {number}", f"inv-{number}", f"Invoice #{number}", number,
        f"No. Inv: {number}", f"#{number}, #{other}", f"{number} & {other}", "", "99",
    )  # fmt: skip
    return forms[form % len(forms)]


def write_confirmations(path: Path, n: int, invoices: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    amounts = _amount_sen(rng, n)
    inv = rng.integers(0, max(1, invoices), n) + FIRST_INVOICE_NO
    common = rng.random((n, 5)) < 0.95  # the clean forms
    forms = rng.integers(0, 60, (n, 6))
    sent_minutes = rng.integers(0, 115 * 24 * 60, n)
    lag = rng.integers(10, 36 * 60, n)
    start = datetime(2026, 1, 5)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            ["ticket_id", "submitted_at", "name", "email", "subject", "department",
             "related_service", "message", "invoice_no", "bank_destination", "amount",
             "transfer_date", "account_name", "attachment"]
        )  # fmt: skip
        for k in range(n):
            f = forms[k]
            number, other = str(inv[k]), str(inv[k] + 1)
            sent = start + timedelta(minutes=int(sent_minutes[k]))
            submitted = sent + timedelta(minutes=int(lag[k]))
            first, last = FIRST_NAMES[f[0] % len(FIRST_NAMES)], LAST_NAMES[f[1] % len(LAST_NAMES)]
            amount = _typed_amount(int(amounts[k]), int(f[2] % 9 if common[k, 0] else 9 + f[2]))
            typed_date = _typed_date(sent, int(f[3] % 6 if common[k, 1] else 6 + f[3]))
            destination = (
                DESTINATIONS[f[4] % len(DESTINATIONS)]
                if common[k, 2]
                else ODD_DESTINATIONS[f[4] % len(ODD_DESTINATIONS)]
            )
            message = MESSAGES[f[5] % len(MESSAGES)]
            if not amount:
                message = f"sudah tf {amounts[k] // 100_000} rb tgl {sent:%d/%m/%Y} ke bca"
            subject = (
                f"Konfirmasi Pembayaran Invoice #{number}",
                "konfirmasi bayar",
                f"Pembayaran inv {number}",
                "Konfirmasi Pembayaran",
            )[f[0] % 4]
            out.writerow(
                [
                    str(FIRST_TICKET_ID + k) if k % 5000 != 4999 else str(FIRST_TICKET_ID),
                    submitted.strftime("%Y-%m-%d %H:%M:%S"),
                    f"{first} {last}",
                    f"{first}.{last}@example.com".lower(),
                    subject,
                    "Billing" if f[5] % 25 else "Sales",
                    f"{first.lower()}{last.lower()}.example",
                    message,
                    _typed_invoice(number, other, int(f[0] if common[k, 3] else 6 + f[0] % 4)),
                    destination,
                    amount,
                    typed_date,
                    ("", "Bpk ", "Ibu ", "a.n. ")[f[1] % 4] + f"{first} {last}".upper(),
                    ("bukti-tf.jpg", "", "transfer.pdf")[f[2] % 3],
                ]
            )


def measure(label: str, rows: int, load: Callable[[], object], profile: bool) -> float:
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        load()
        profiler.disable()
        print(f"--- {label}: cProfile, top 25 by cumulative time")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    started, cpu_started = time.perf_counter(), time.process_time()
    load()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"{label}: {rows} rows in {seconds:.2f} s, {cpu:.2f} s CPU ({rows / seconds:,.0f} rows/s)"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=550_000)
    parser.add_argument("--confirmations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    rules: Rules = parse_rules(RULES_YAML)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        invoices_csv, confirmations_csv = out / "invoices.csv", out / "confirmations.csv"
        write_invoices(invoices_csv, args.invoices, args.seed)
        write_confirmations(confirmations_csv, args.confirmations, args.invoices, args.seed)
        known = [str(FIRST_INVOICE_NO + i) for i in range(args.invoices)]
        if args.invoices:
            measure(
                "load_invoices",
                args.invoices,
                lambda: load_invoices(invoices_csv, rules),
                args.profile,
            )
        if args.confirmations:
            measure(
                "load_confirmations",
                args.confirmations,
                lambda: load_confirmations(confirmations_csv, rules, known, AS_OF),
                args.profile,
            )


if __name__ == "__main__":
    main()
