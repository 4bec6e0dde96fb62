"""Synthetic but realistic inputs for the benchmarks: statements, invoices, confirmations, truth.

    python -m benchmarks.generate --size 100000 --seed 7 --out benchmarks/data/100k

writes, deterministically for a given (size, seed):

* ``inbox/``: bank statements in the real export layouts (formats.md §3-6): KlikBCA Individual
  CSV (English and Indonesian UI), Mandiri Kopra CSV, BNIDirect CSV and the BRI e-statement CSV,
  four consecutive files per account. Balances chain row by row and from file to file; footers
  add up. Descriptions follow each bank's shapes (§8), with invoice numbers in some messages,
  truncated sender names, fees and outgoing debits. Other layouts (MCM classic, Livin' XLSX,
  KlikBCA Bisnis CSV) can be asked for with ``--layouts``;
* ``invoices.csv`` (§9.1): about size/2 open invoices plus paid and cancelled ones, at hosting
  prices that repeat by the tens of thousands (MEASURED.md: Rp 165.000 is ~15 % of them);
* ``confirmations.csv`` (§10.1): about size/10 tickets typed the way customers type (§10.2-10.6),
  a few unreadable on purpose;
* ``truth_lines.csv``: every bank line (file, 1-based source line) with what it really is and
  which invoice(s) it pays; ``truth_confirmations.csv``: which line each ticket is about;
* ``manifest.json``: per file and per account, line counts and credit/debit totals in rupiah
  (exact strings), for the smoke test and the benchmark runner.

Money is integer sen throughout (never float); numbers are strings. All names are invented.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HOLDER = "RINA WULANDARI"
ACCOUNTS = {
    "mandiri": "1370010136428",
    "bca": "0372543386",
    "bni": "0495227030",
    "bri": "002901124296507",
}
PERIOD_START = date(2026, 1, 5)
PERIOD_END = date(2026, 4, 30)
AS_OF = date(2026, 5, 1)
# --increment N: N more lines dated on the next day, written to inbox_next/ (the next export)
INCREMENT_DAY = date(2026, 5, 1)
INCREMENT_AS_OF = date(2026, 5, 2)
FIRST_INVOICE_NO = 200001
FIRST_TICKET_ID = 480001
FILES_PER_ACCOUNT = 4

BANK_SHARE = {"bca": 0.40, "mandiri": 0.25, "bri": 0.20, "bni": 0.15}
DEBIT_SHARE = 0.20  # fees, withdrawals, transfers out
OPEN_PAID_SHARE = 0.95  # open invoices paid within the period
PAID_LISTED_PER_LINE = 0.10  # invoices the list already shows as Paid (their money is here too)
CANCELLED_PER_LINE = 0.01
CONFIRMATIONS_PER_LINE = 0.10

# default layout per bank: the retail/corporate CSV exports (formats.md §1.2: retail first)
DEFAULT_LAYOUTS = (
    "bca_klikbca_individual",
    "mandiri_kopra_csv",
    "bni_bnidirect_csv",
    "bri_estatement_csv",
)
LAYOUT_BANK = {
    "bca_klikbca_individual": "bca",
    "bca_klikbca_bisnis_csv": "bca",
    "mandiri_kopra_csv": "mandiri",
    "mandiri_mcm_csv": "mandiri",
    "mandiri_livin_xlsx": "mandiri",
    "bni_bnidirect_csv": "bni",
    "bri_estatement_csv": "bri",
}

# Hosting/domain price list in rupiah with relative weights: a few prices dominate (MEASURED.md).
PRICES: tuple[tuple[int, float], ...] = (
    (165_000, 14.5),
    (99_000, 7.0),
    (150_000, 6.0),
    (250_000, 6.0),
    (350_000, 5.0),
    (199_000, 5.0),
    (120_000, 4.0),
    (600_000, 4.0),
    (450_000, 3.5),
    (750_000, 3.0),
    (1_200_000, 3.0),
    (175_000, 3.0),
    (225_000, 2.5),
    (1_500_000, 2.5),
    (299_000, 2.0),
    (499_000, 2.0),
    (990_000, 2.0),
    (1_980_000, 1.5),
    (2_400_000, 1.2),
    (330_000, 1.2),
    (3_000_000, 1.0),
    (4_500_000, 0.6),
    (6_000_000, 0.4),
    (12_000_000, 0.2),
    (49_000, 1.5),
    (75_000, 1.5),
)
IRREGULAR_PRICE_SHARE = 0.22  # prorated upgrades and multi-item invoices: thousands of amounts

FIRST_NAMES = [
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Hendra",
    "Rina",
    "Yusuf",
    "Nur",
    "Andi",
    "Sri",
    "Joko",
    "Wahyu",
    "Eko",
    "Fitri",
    "Rizky",
    "Putri",
    "Ahmad",
    "Indah",
    "Dian",
    "Bayu",
    "Lestari",
    "Adi",
    "Ratna",
    "Rudi",
    "Ayu",
    "Fajar",
    "Sari",
    "Hadi",
    "Yuni",
    "Bambang",
    "Wulan",
    "Teguh",
    "Rahmat",
    "Novi",
    "Dimas",
    "Maya",
    "Arif",
    "Intan",
    "Gilang",
    "Ika",
    "Hasan",
    "Nanda",
    "Irfan",
    "Rani",
    "Dodi",
    "Citra",
    "Yoga",
    "Mega",
    "Anton",
    "Dina",
    "Reza",
    "Tika",
    "Aditya",
    "Bunga",
    "Surya",
    "Kartika",
    "Ilham",
    "Diah",
    "Galih",
    "Winda",
    "Taufik",
    "Ningsih",
    "Heru",
    "Yanti",
    "Imam",
    "Endang",
    "Bagus",
    "Wati",
    "Slamet",
    "Suci",
    "Samsul",
    "Lina",
    "Dwi",
    "Tri",
    "Made",
    "Komang",
    "Ketut",
    "Wayan",
    "Nyoman",
    "Muhammad",
]
LAST_NAMES = [
    "Santoso",
    "Rahayu",
    "Prasetyo",
    "Anggraini",
    "Wijaya",
    "Wulandari",
    "Hidayat",
    "Aini",
    "Saputra",
    "Lestari",
    "Setiawan",
    "Kurniawan",
    "Susanto",
    "Wibowo",
    "Pratama",
    "Nugroho",
    "Purnomo",
    "Hartono",
    "Siregar",
    "Nasution",
    "Harahap",
    "Simanjuntak",
    "Tanjung",
    "Lubis",
    "Gunawan",
    "Halim",
    "Sutanto",
    "Permana",
    "Firmansyah",
    "Hakim",
    "Ramadhan",
    "Maulana",
    "Syahputra",
    "Kusuma",
    "Handayani",
    "Utami",
    "Puspitasari",
    "Safitri",
    "Wahyudi",
    "Irawan",
    "Suryadi",
    "Hermawan",
    "Fauzi",
    "Mulyadi",
    "Sugiarto",
    "Budiman",
    "Tambunan",
    "Sinaga",
    "Pangaribuan",
    "Rangkuti",
    "Daulay",
    "Sembiring",
    "Ginting",
    "Tarigan",
    "Manurung",
    "Hutapea",
    "Panjaitan",
    "Silalahi",
    "Suhendra",
    "Kurnia",
    "Saragih",
    "Effendi",
    "Iskandar",
    "Sitompul",
]
COMPANY_WORDS = [
    "Maju",
    "Jaya",
    "Abadi",
    "Sentosa",
    "Makmur",
    "Sumber",
    "Rejeki",
    "Karya",
    "Mandiri",
    "Niaga",
    "Digital",
    "Media",
    "Solusi",
    "Teknologi",
    "Kreasi",
    "Prima",
    "Utama",
    "Cipta",
    "Berkah",
    "Sejahtera",
    "Nusantara",
    "Global",
    "Grafika",
    "Kencana",
    "Mulia",
    "Indah",
    "Lestari",
    "Bintang",
    "Samudra",
    "Cahaya",
    "Putra",
    "Mitra",
    "Sinar",
]
GENERIC_MESSAGES = (
    "hosting",
    "bayar hosting",
    "perpanjang domain",
    "sewa vps",
    "tagihan bln ini",
    "pembayaran",
    "domain",
    "cloud hosting",
    "perpanjangan",
    "bayar tagihan",
)
OTHER_BANKS = (  # (3-digit code, BIC, short name as BCA prints it, Mandiri's legal name)
    ("002", "BRINIDJA", "BRI", "BANK RAKYAT INDONESIA"),
    ("008", "BMRIIDJA", "MANDIRI", "BANK MANDIRI"),
    ("009", "BNINIDJA", "BNI", "BANK NEGARA INDONESIA"),
    ("011", "BDINIDJA", "DANAMON", "BANK DANAMON INDONESIA"),
    ("013", "BBBAIDJA", "PERMATA", "BANK PERMATA"),
    ("014", "CENAIDJA", "BCA", "BANK CENTRAL ASIA"),
    ("022", "BNIAIDJA", "CIMB NIAGA", "BANK CIMB NIAGA"),
    ("200", "BTANIDJA", "BTN", "BANK TABUNGAN NEGARA"),
    ("451", "BSMDIDJA", "BSI", "BANK SYARIAH INDONESIA"),
)
FEE_SHORTFALLS = (2_500, 6_500, 2_900, 5_000, 1_000)
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_ID = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"


# ---------------------------------------------------------------------------------------------
# money and date text


def plain(sen: int) -> str:
    """12345600 -> '123456.00' (BCA Individual, Kopra, BRI)."""
    sign = "-" if sen < 0 else ""
    sen = abs(sen)
    return f"{sign}{sen // 100}.{sen % 100:02d}"


def english(sen: int) -> str:
    """12345600 -> '123,456.00'; zero -> '.00' (MCM classic, BNIDirect)."""
    if sen == 0:
        return ".00"
    sign = "-" if sen < 0 else ""
    sen = abs(sen)
    return f"{sign}{sen // 100:,}.{sen % 100:02d}"


def indonesian(sen: int) -> str:
    """12345600 -> '123.456,00' (Livin')."""
    sign = "-" if sen < 0 else ""
    sen = abs(sen)
    return f"{sign}{sen // 100:,}".replace(",", ".") + f",{sen % 100:02d}"


def rupiah(sen: int) -> str:
    """Exact rupiah text for the manifest: '1500000.00'."""
    return plain(sen)


# ---------------------------------------------------------------------------------------------
# the world: clients, invoices, bank lines


@dataclass
class World:
    """Everything generated, before it is written in the banks' layouts."""

    clients: pd.DataFrame
    invoices: pd.DataFrame
    lines: pd.DataFrame  # one row per bank line, all banks
    confirmations: pd.DataFrame
    size: int
    seed: int


# Javanese-style names are built from syllables ("Su" + "har" + "to"): with the lists above
# alone, 80 x 64 full names would be shared by about 24 clients each at 1M lines, far more
# than any real customer base, and every payment by name would look ambiguous.
SYLLABLES_FIRST = ["Su", "Wi", "Pra", "Har", "Sri", "Jo", "Tri", "Eko", "Dwi", "Ku", "Mar",
                   "Sa", "Ra", "Wa", "Yu", "Ha", "Pur", "Ti", "Gu", "Bam", "Ten", "Set", "Nur",
                   "An", "In", "Lin", "Ret", "Sar", "Dar", "Win"]  # fmt: skip
SYLLABLES_MIDDLE = ["har", "ri", "ja", "sa", "tri", "ma", "no", "di", "yu", "wa", "ra", "la",
                    "mi", "ka", "gi", "ta", "se", "ni", "pan", "su", ""]  # fmt: skip
SYLLABLES_LAST = ["to", "no", "di", "yanto", "wati", "ningsih", "yati", "man", "jo", "tono",
                  "yono", "sih", "dani", "wan", "ti", "ni", "ya", "sari", "tomo", "yadi"]  # fmt: skip


def _pick(rng: np.random.Generator, values: Sequence[str], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def _javanese(rng: np.random.Generator, n: int) -> np.ndarray:
    """Single names such as "Suharto", "Wiratno", "Purwaningsih" (about 12,000 of them)."""
    parts = [_pick(rng, SYLLABLES_FIRST, n), _pick(rng, SYLLABLES_MIDDLE, n),
             _pick(rng, SYLLABLES_LAST, n)]  # fmt: skip
    return parts[0] + parts[1] + parts[2]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indonesian personal names: one name (15 %), given + family name, or given + second
    given or Javanese name + family name; family names from the list or Javanese-built."""
    first = _pick(rng, FIRST_NAMES, n)
    family = np.where(rng.random(n) < 0.5, _pick(rng, LAST_NAMES, n), _javanese(rng, n))
    middle = np.where(rng.random(n) < 0.5, _pick(rng, FIRST_NAMES, n), _javanese(rng, n))
    u = rng.random(n)
    two = first + " " + family
    three = first + " " + middle + " " + family
    return np.where(u < 0.15, _javanese(rng, n), np.where(u < 0.65, two, three))


def make_clients(rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = person_names(rng, n)  # many Indonesians have one name (§8.6)
    has_company = rng.random(n) < 0.2
    w = [_pick(rng, COMPANY_WORDS, n) for _ in range(3)]
    prefix = np.where(rng.random(n) < 0.6, "PT", "CV")
    company = np.where(has_company, prefix + " " + w[0] + " " + w[1] + " " + w[2], "")
    ids = np.arange(n)
    emails = [
        f"{nm.lower().replace(' ', '.')}{i}@{'mail' if i % 3 else 'web'}.example"
        for i, nm in zip(ids, names, strict=True)
    ]
    domains = [
        f"{nm.lower().replace(' ', '')}{i}.example" for i, nm in zip(ids, names, strict=True)
    ]
    return pd.DataFrame(
        {
            "client_id": ids,
            "client_name": names,
            "company_name": company,
            "email": emails,
            "domain": domains,
        }
    )


def draw_prices(rng: np.random.Generator, n: int) -> np.ndarray:
    """Invoice amounts in sen: a skewed catalogue plus prorated / multi-item amounts."""
    prices = np.array([p for p, _ in PRICES], dtype=np.int64)
    weights = np.array([w for _, w in PRICES])
    base = prices[rng.choice(len(prices), n, p=weights / weights.sum())]
    irregular = rng.random(n) < IRREGULAR_PRICE_SHARE
    second = prices[rng.choice(len(prices), n, p=weights / weights.sum())]
    third = prices[rng.choice(len(prices), n, p=weights / weights.sum())]
    prorated = (base * 12 * rng.integers(5, 360, n) // 365) // 100 * 100  # upgrade, to Rp 100
    combined = base + second + np.where(rng.random(n) < 0.5, third, 0)
    discounted = base * rng.integers(2, 13, n) * (100 - 5 * rng.integers(0, 7, n)) // 100
    u = rng.random(n)
    odd = np.select([u < 0.45, u < 0.8], [prorated, combined], discounted)
    rupiah_amount = np.where(irregular, np.maximum(odd, 10_000), base)
    return rupiah_amount.astype(np.int64) * 100


def _days(start: date, offsets: np.ndarray) -> np.ndarray:
    return np.datetime64(start, "D") + offsets.astype("timedelta64[D]")


def make_invoices(
    rng: np.random.Generator, clients: pd.DataFrame, size: int
) -> tuple[pd.DataFrame, int]:
    n_open = size // 2
    n_paid = round(size * PAID_LISTED_PER_LINE)
    n_cancelled = max(1, round(size * CANCELLED_PER_LINE))
    n = n_open + n_paid + n_cancelled
    # a few clients hold many invoices (resellers: 1 % of clients, 10 % of invoices)
    resellers = max(1, len(clients) // 100)
    client = np.where(
        rng.random(n) < 0.10, rng.integers(0, resellers, n), rng.integers(0, len(clients), n)
    )
    span = (PERIOD_END - PERIOD_START).days
    issue_offset = rng.integers(-12, span - 2, n)
    issued = np.sort(_days(PERIOD_START, issue_offset))
    status = np.array(["Unpaid"] * n_open + ["Paid"] * n_paid + ["Cancelled"] * n_cancelled)
    rng.shuffle(status)
    frame = pd.DataFrame(
        {
            "invoice_no": [str(FIRST_INVOICE_NO + i) for i in range(n)],
            "client_id": client,
            "issued_on": issued,
            "due_on": issued + np.timedelta64(7, "D"),
            "amount_sen": draw_prices(rng, n),
            "status": status,
        }
    )
    return frame.merge(clients, on="client_id", how="left"), n_open


def _printed_name(name: str, company: str, choice: float, other: str) -> str:
    """The payer as the bank prints it: usually the client, sometimes a company or a relative."""
    if choice < 0.70:
        return name.upper()
    if choice < 0.80:
        return (company or name).upper()
    if choice < 0.95:
        return other.upper()
    return ""  # e-wallet / channel without a name


def _invoice_ref(invoice_nos: list[str], form: int) -> str:
    if len(invoice_nos) == 2:
        a, b = invoice_nos
        return ("INV {} {}", "#{} #{}", "inv{} dan {}", "{} & {}")[form % 4].format(a, b)
    (n,) = invoice_nos
    return ("INV {}", "inv{}", "#{}", "INV-{}", "pembayaran {}", "inv {} hosting")[form % 6].format(
        n
    )


def make_payments(rng: np.random.Generator, invoices: pd.DataFrame) -> pd.DataFrame:
    """Credits that pay invoices: exact, fee-short, unique code, combined, split."""
    unpaid = invoices[invoices["status"] == "Unpaid"]
    paid_open = unpaid[rng.random(len(unpaid)) < OPEN_PAID_SHARE]
    listed_paid = invoices[invoices["status"] == "Paid"]
    payable = pd.concat([paid_open, listed_paid]).sort_values("invoice_no", kind="stable")
    payable = payable.reset_index(drop=True)
    n = len(payable)
    u = rng.random(n)
    kind = np.select(
        [u < 0.86, u < 0.91, u < 0.93, u < 0.94, u < 0.985],
        ["exact", "underpaid_fee", "unique_code", "rounded", "combined"],
        default="split",
    ).astype(object)
    kind[(payable["status"] == "Paid").to_numpy()] = "paid_listed"
    # combined: this invoice and the client's next payable one, paid together
    same_client_next = (
        payable.sort_values(["client_id", "invoice_no"])
        .groupby("client_id")["invoice_no"]
        .shift(-1)
    )
    partner = same_client_next.reindex(payable.index).to_numpy(dtype=object)
    inv_nos = payable["invoice_no"].to_numpy(dtype=object)
    amounts_sen = payable["amount_sen"].to_numpy(dtype=np.int64)
    position = {no: i for i, no in enumerate(inv_nos)}
    used: set[str] = set()  # invoices already paid by a combined credit
    absorbed: set[str] = set()  # the second invoice of each pair: no credit of its own
    for i in np.flatnonzero(kind == "combined"):
        p = partner[i]
        if inv_nos[i] in used:
            continue  # absorbed by an earlier pair
        if pd.isna(p) or p in used or kind[position[p]] == "paid_listed":
            kind[i] = "exact"
            continue
        used.update((inv_nos[i], p))
        absorbed.add(p)
    keep = ~np.isin(inv_nos, list(absorbed))

    rows: dict[str, list[Any]] = {k: [] for k in ("invoice_nos", "amount_sen", "kind", "idx")}
    fee = np.asarray(FEE_SHORTFALLS)[rng.integers(0, len(FEE_SHORTFALLS), n)] * 100
    code = rng.integers(1, 1000, n) * 100
    split_first = rng.integers(2, 9, n)  # tenths of the amount paid first
    for i in np.flatnonzero(keep):
        k = kind[i]
        no = inv_nos[i]
        amt = int(amounts_sen[i])
        if k == "combined":
            nos = [no, partner[i]]
            amounts = [amt + int(amounts_sen[position[partner[i]]])]
        elif k == "underpaid_fee":
            nos, amounts = [no], [amt - int(fee[i])]
        elif k == "unique_code":
            nos, amounts = [no], [amt + int(code[i])]
        elif k == "rounded":
            nos, amounts = [no], [(amt + 50_000) // 100_000 * 100_000 or amt]
        elif k == "split":
            first = amt * int(split_first[i]) // 10 // 100_000 * 100_000 or amt // 2
            nos, amounts = [no], [first, amt - first]
        else:
            nos, amounts = [no], [amt]
        for a in amounts:
            rows["invoice_nos"].append(nos)
            rows["amount_sen"].append(a)
            rows["kind"].append(k)
            rows["idx"].append(i)
    idx = np.asarray(rows["idx"], dtype=np.int64)
    src = payable.iloc[idx].reset_index(drop=True)
    m = len(src)
    delay = np.minimum(rng.geometric(0.35, m) - 1, 9)  # days after issue, mostly 0-3
    posted = src["issued_on"].to_numpy() + delay.astype("timedelta64[D]")
    posted = np.clip(posted, np.datetime64(PERIOD_START), np.datetime64(PERIOD_END))
    other = person_names(rng, m).tolist()
    choice = rng.random(m)
    sender = [
        _printed_name(nm, co, c, o)
        for nm, co, c, o in zip(src["client_name"], src["company_name"], choice, other, strict=True)
    ]
    msg_u = rng.random(m)
    form = rng.integers(0, 12, m)
    generic = _pick(rng, GENERIC_MESSAGES, m)
    message = [
        _invoice_ref(nos, f) if u_ < 0.35 else (g if u_ < 0.55 else "")
        for nos, f, u_, g in zip(rows["invoice_nos"], form, msg_u, generic, strict=True)
    ]
    return pd.DataFrame(
        {
            "posted_on": posted,
            "direction": "CR",
            "amount_sen": np.asarray(rows["amount_sen"], dtype=np.int64),
            "kind": rows["kind"],
            "invoice_nos": [";".join(n) for n in rows["invoice_nos"]],
            "client_id": src["client_id"].to_numpy(),
            "sender": sender,
            "message": message,
        }
    )


def make_other_credits(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Credits that pay no listed invoice: amounts from the same price list (they collide)."""
    span = (PERIOD_END - PERIOD_START).days + 1
    sender = person_names(rng, n).tolist()
    sender = [s.upper() if u < 0.9 else "" for s, u in zip(sender, rng.random(n), strict=True)]
    generic = _pick(rng, GENERIC_MESSAGES, n)
    return pd.DataFrame(
        {
            "posted_on": _days(PERIOD_START, rng.integers(0, span, n)),
            "direction": "CR",
            "amount_sen": draw_prices(rng, n),
            "kind": "unrelated",
            "invoice_nos": "",
            "client_id": -1,
            "sender": sender,
            "message": np.where(rng.random(n) < 0.3, generic, ""),
        }
    )


def make_debits(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Fees (most debits), withdrawals and transfers out to suppliers and payroll."""
    span = (PERIOD_END - PERIOD_START).days + 1
    u = rng.random(n)
    kind = np.select([u < 0.55, u < 0.70], ["fee", "withdrawal"], default="transfer_out")
    fee = np.asarray([2_500, 6_500, 1_000, 10_000, 12_500])[rng.integers(0, 5, n)]
    withdrawal = rng.integers(1, 40, n) * 100_000
    transfer = rng.integers(5, 400, n) * 50_000
    amount = np.select([kind == "fee", kind == "withdrawal"], [fee, withdrawal], transfer)
    payee = person_names(rng, n).tolist()
    return pd.DataFrame(
        {
            "posted_on": _days(PERIOD_START, rng.integers(0, span, n)),
            "direction": "DB",
            "amount_sen": amount.astype(np.int64) * 100,
            "kind": kind,
            "invoice_nos": "",
            "client_id": -1,
            "sender": [p.upper() for p in payee],
            "message": "",
        }
    )


def make_lines(rng: np.random.Generator, invoices: pd.DataFrame, size: int) -> pd.DataFrame:
    payments = make_payments(rng, invoices)
    n_debits = round(size * DEBIT_SHARE)
    n_other = size - n_debits - len(payments)
    if n_other < 0:  # tiny sizes: drop surplus payments rather than exceed the size
        payments = payments.iloc[: size - n_debits]
        n_other = 0
    lines = pd.concat(
        [payments, make_other_credits(rng, n_other), make_debits(rng, n_debits)],
        ignore_index=True,
    )
    banks = np.array(list(BANK_SHARE))
    share = np.array(list(BANK_SHARE.values()))
    lines["bank"] = banks[rng.choice(len(banks), len(lines), p=share / share.sum())]
    # time of day: office hours weighted, a long evening tail (WIB)
    seconds = np.clip(rng.normal(14 * 3600, 4.5 * 3600, len(lines)), 0, 86_399).astype(np.int64)
    lines["posted_at"] = lines["posted_on"].to_numpy().astype("datetime64[s]") + seconds.astype(
        "timedelta64[s]"
    )
    lines["bank_code"] = rng.integers(0, len(OTHER_BANKS), len(lines))
    lines["channel_u"] = rng.random(len(lines))
    lines["ref"] = rng.integers(10**11, 10**12, len(lines))
    return lines.sort_values(["bank", "posted_at"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# confirmations (§10): what customers type


def _typed_amount(sen: int, form: int) -> str:
    r = sen // 100
    dotted = f"{r:,}".replace(",", ".")
    if form == 0:
        return f"Rp {dotted}"
    if form == 1:
        return f"{dotted},00"
    if form == 2:
        return f"Rp{r:,}.-"
    if form == 3 and r % 100_000 == 0 and r >= 1_000_000:
        return f"{r / 1_000_000:g} jt".replace(".", ",")  # exact: r is a multiple of 100.000
    if form == 4 and r % 1000 == 0 and r < 1_000_000:
        return f"{r // 1000}rb"
    if form == 5:
        return f"IDR {dotted}"
    return str(r)


def _typed_date(d: date, form: int) -> str:
    if form == 0:
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if form == 1:
        return f"{d.day}.{d.month}.{d.year % 100:02d}"
    if form == 2:
        return f"{d.day} {MONTHS_ID.split()[d.month - 1]} {d.year}"
    if form == 3:
        return d.isoformat()
    if form == 4:
        return f"{d.day}-{d.month}-{d.year % 100:02d}"
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _typed_invoice(nos: list[str], form: int) -> str:
    if len(nos) == 2:
        return (f"#{nos[0]}, #{nos[1]}", f"{nos[0]} & {nos[1]}", f"inv-{nos[0]}, {nos[1]}")[
            form % 3
        ]
    (n,) = nos
    return (f"#{n}", f"INV {n}", f"inv-{n}", f"Invoice #{n}", n, f"No. Inv: {n}")[form % 6]


_DESTINATIONS = {
    "bca": ("bca", "BCA", "Bank Central Asia", "klikbca", "0372543386", "037 254 3386"),
    "mandiri": ("mandiri", "Bank Mandiri", "livin", "Mandiri 1370010136428", "137-00-1013642-8"),
    "bni": ("bni", "BNI 46", "Bank Negara Indonesia", "0495227030"),
    "bri": ("bri", "Bank Rakyat Indonesia", "brimo", "BRI 0029-01-124296-50-7"),
}
_HONORIFIC = ("", "", "", "Bpk ", "Ibu ", "Sdr ", "a.n. ")


def make_confirmations(
    rng: np.random.Generator, lines: pd.DataFrame, invoices: pd.DataFrame, size: int
) -> pd.DataFrame:
    """Tickets: most about a paying credit; some with no money behind them; a few unreadable."""
    n = round(size * CONFIRMATIONS_PER_LINE)
    paying = lines.index[lines["invoice_nos"] != ""].to_numpy()
    n_paid = min(len(paying), round(n * 0.9))
    chosen = np.sort(rng.choice(paying, n_paid, replace=False))
    unpaid_nos = invoices.loc[invoices["status"] == "Unpaid", "invoice_no"].to_numpy()
    inv_row = {no: i for i, no in enumerate(invoices["invoice_no"])}
    inv_amount = invoices["amount_sen"].to_numpy(dtype=np.int64)
    inv_issued = pd.to_datetime(invoices["issued_on"]).dt.to_pydatetime()
    inv_client = invoices["client_name"].to_numpy(dtype=object)
    inv_email = invoices["email"].to_numpy(dtype=object)
    inv_domain = invoices["domain"].to_numpy(dtype=object)
    line_nos = lines["invoice_nos"].to_numpy(dtype=object)
    line_amount = lines["amount_sen"].to_numpy(dtype=np.int64)
    line_at = pd.to_datetime(lines["posted_at"]).dt.to_pydatetime()
    line_bank = lines["bank"].to_numpy(dtype=object)
    line_sender = lines["sender"].to_numpy(dtype=object)
    records: list[dict[str, Any]] = []
    forms = rng.integers(0, 60, (n, 6))
    unreadable = rng.random(n) < 0.02
    lag = rng.integers(10 * 60, 36 * 3600, n)
    for k in range(n):
        f = forms[k]
        if k < n_paid:
            j = int(chosen[k])
            nos = str(line_nos[j]).split(";")
            amount = int(line_amount[j])
            sent: datetime = line_at[j]
            bank = str(line_bank[j])
            payer = str(line_sender[j])
            line_key = j
        else:
            nos = [str(unpaid_nos[rng.integers(0, len(unpaid_nos))])]
            amount = int(inv_amount[inv_row[nos[0]]])
            sent = inv_issued[inv_row[nos[0]]] + timedelta(hours=int(f[0]) + 9)
            bank = list(ACCOUNTS)[f[1] % 4]
            payer = ""
            line_key = -1
        inv = inv_row[nos[0]]
        client_name = str(inv_client[inv])
        submitted = sent + timedelta(seconds=int(lag[k]))
        dests = _DESTINATIONS[bank]
        typed_date = "kemarin" if unreadable[k] else _typed_date(sent.date(), f[2] % 6)
        subject = (
            f"Konfirmasi Pembayaran Invoice #{nos[0]}",
            "konfirmasi bayar",
            f"Pembayaran inv {nos[0]}",
            "Konfirmasi Pembayaran",
        )[f[3] % 4]
        records.append(
            {
                "ticket_id": str(FIRST_TICKET_ID + k),
                "submitted_at": submitted.strftime("%Y-%m-%d %H:%M:%S"),
                "name": client_name,
                "email": str(inv_email[inv]),
                "subject": subject,
                "department": "Billing" if f[4] % 25 else "Sales",
                "related_service": str(inv_domain[inv]),
                "message": ("Sudah transfer ya min, mohon diproses", "mohon dicek", "", "tks")[
                    f[5] % 4
                ],
                "invoice_no": _typed_invoice(nos, f[0]),
                "bank_destination": dests[f[1] % len(dests)],
                "amount": _typed_amount(amount, f[2] % 7),
                "transfer_date": typed_date,
                "account_name": _HONORIFIC[f[3] % len(_HONORIFIC)] + (payer or client_name.upper()),
                "attachment": ("bukti-tf.jpg", "", "transfer.pdf", "IMG_2031.jpg")[f[4] % 4],
                "truth_line": line_key,
                "truth_invoice_nos": ";".join(nos),
                "truth_kind": "unreadable_date"
                if unreadable[k]
                else ("paid" if line_key >= 0 else "no_funds"),
            }
        )
    return pd.DataFrame.from_records(records)


def move_to_next_day(rng: np.random.Generator, lines: pd.DataFrame, n: int) -> pd.DataFrame:
    """Re-date n random lines to INCREMENT_DAY (keeping their time): the next day's export."""
    if n == 0:
        return lines
    pick = rng.choice(len(lines), n, replace=False)
    at = lines["posted_at"].to_numpy().copy()
    seconds = at[pick] - at[pick].astype("datetime64[D]")
    at[pick] = np.datetime64(INCREMENT_DAY, "s") + seconds
    day = lines["posted_on"].to_numpy().copy()
    day[pick] = np.datetime64(INCREMENT_DAY, "D")
    lines = lines.assign(posted_at=at, posted_on=day)
    return lines.sort_values(["bank", "posted_at"], kind="stable").reset_index(drop=True)


def make_world(size: int, seed: int, increment: int = 0) -> World:
    if size < 100:
        raise ValueError(f"size must be at least 100 bank lines (got {size})")
    rng = np.random.default_rng(seed)
    clients = make_clients(rng, max(200, size // 8))
    invoices, _ = make_invoices(rng, clients, size)
    lines = move_to_next_day(rng, make_lines(rng, invoices, size + increment), increment)
    confirmations = make_confirmations(rng, lines, invoices, size)
    return World(clients, invoices, lines, confirmations, size, seed)


# ---------------------------------------------------------------------------------------------
# descriptions in each bank's shapes (§8)


def _fit(text: str, width: int) -> str:
    return text[:width].ljust(width)


def _ddmm(ts: pd.Timestamp) -> str:
    return f"{ts.day:02d}{ts.month:02d}"


def bca_description(row: Any, u: float) -> tuple[str, str]:
    """(description, branch) for a KlikBCA line."""
    ts = pd.Timestamp(row.posted_at)
    name = row.sender
    code, _, short, _ = OTHER_BANKS[row.bank_code]
    if row.direction == "DB":
        if row.kind == "fee":
            return ("BIAYA ADM" if u < 0.5 else "BI-FAST DB BIAYA TXN"), "0998"
        if row.kind == "withdrawal":
            return f"TARIKAN ATM {ts.day:02d}/{ts.month:02d}", "0512"
        amt = plain(row.amount_sen)
        return f"TRSF E-BANKING DB {_ddmm(ts)}/FTSCY/WS95051 {amt} {_fit(name, 18)}", "0000"
    amt = plain(row.amount_sen)
    msg = row.message
    if not name:
        return f"SETORAN TUNAI {msg}".rstrip(), "0512"
    if u < 0.45:
        body = f"{amt}{msg[:36]} {name[:18]}" if msg else f"{amt} {name[:18]}"
        return f"TRSF E-BANKING CR {_ddmm(ts)}/FTSCY/WS95031 {body}", "0000"
    if u < 0.80:
        return f"BI-FAST CR TRANSFER   DR {code} {_fit(name, 18)}", "0000"
    if u < 0.90:
        return f"SWITCHING CR TRANSFER  DR {code} {name[:18]}  {short}", "0000"
    sender = _fit(name, 18)
    return f"KR OTOMATIS LLG-{short} {sender} {msg}".rstrip(), "0938"


def kopra_description(row: Any, u: float) -> tuple[str, str]:
    """(Remarks, AdditionalDesc) for a Kopra line; neither holds a ';'."""
    ts = pd.Timestamp(row.posted_at)
    name = row.sender
    _, bic, _, legal = OTHER_BANKS[row.bank_code]
    branch = f"{90000 + row.ref % 10000:05d}"
    if row.direction == "DB":
        if row.kind == "fee":
            return "Biaya Administrasi", "Biaya Adm"
        if row.kind == "withdrawal":
            return f"Tarik Tunai ATM {ts.day:02d}/{ts.month:02d}", "ATM"
        return f"MCM InhouseTrf KE {name}", "Transfer Keluar"
    msg = row.message
    if not name:
        return f"Transfer dari DANA {row.ref % 10**10}", "DANA"
    if u < 0.45:
        remarks = f"{_fit(msg, 20)} MCM InhouseTrf  DARI {name} Transfer Fee        {msg}{branch}"
        return remarks, f"{_fit(msg, 10)}MCM InhouseTrf"
    if u < 0.85:
        ref = f"{ts:%Y%m%d}{bic}010O{row.ref % 10**10:010d}"
        remarks = (
            f"{ref}           {bic}/{name} {msg}{branch}"
            if msg
            else f"{ref}  {bic}/{name} {branch}"
        )
        return remarks, remarks
    return name[:24], f"Trf Inw CN {legal}"


def bni_description(row: Any, u: float) -> str:
    name = row.sender
    if row.direction == "DB":
        if row.kind == "fee":
            return "BIAYA ADM" if u < 0.5 else "BY TRX BIFAST"
        if row.kind == "withdrawal":
            return "TARIK TUNAI ATM"
        return f"TRANSFER KE | PEMINDAHAN KE {row.ref % 10**10:010d} {name}"
    msg = row.message[:14]
    acct = f"{row.ref % 10**10:010d}"
    if not name:
        return f"TRF/PAY/TOP-UP ECHANNEL | {row.ref:016d} | {row.ref:020d}"
    if u < 0.55:
        hon = (
            ("Bpk ", "Ibu ", "Sdr ", "")[row.ref % 4] if not name.startswith(("PT ", "CV ")) else ""
        )
        tail = f" | {msg}" if msg else ""
        return f"TRANSFER DARI | PEMINDAHAN DARI {acct} {hon}{name}{tail}"
    if u < 0.85:
        return (
            f"TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI {acct} | 5264{row.ref:012d} | {name[:20]}"
        )
    return f"SETOR TUNAI | {msg or 'HOSTING'} | {name}"


def bri_description(row: Any, u: float) -> tuple[str, str]:
    """(DESK_TRAN, REMARK_CUSTOM)."""
    ts = pd.Timestamp(row.posted_at)
    name = row.sender
    ref = f"{ts:%y%m%d}{row.ref % 10**6:06d}"
    code, bic, _, _ = OTHER_BANKS[row.bank_code]
    if row.direction == "DB":
        if row.kind == "fee":
            return "BIAYA ADMIN", ""
        if row.kind == "withdrawal":
            return f"ATMSTRPRM {row.ref % 10**6:06d} TARIK TUNAI ESB:NBMB:0005T00F:{ref}", ""
        return f"NBMB RINA WULANDARI TO {name[:16]} ESB:NBMB:0001500F:{ref}", ""
    if not name:
        return f"BFST{row.ref % 10**10:010d} ESB:BFST:0008N", ""
    if u < 0.55:
        return f"NBMB {name[:16]} TO RINA WULANDARI ESB:NBMB:0001500F:{ref}", ""
    if u < 0.70:
        return f"IBIZ {name[:16]} TO RINA WULANDARI ESB:IBIZ:0001500F:{ref}", ""
    if u < 0.95:
        return (
            f"BFST{row.ref % 10**10:010d} {name[:20]}:{bic}",
            f"Transfer BI-Fast - {name.title()}",
        )
    return (
        f"ATMSTRPRM {code}{row.ref % 10**6:06d} {row.ref % 10**10:010d} ESB:NBMB:0005T00F:{ref}",
        "",
    )


# ---------------------------------------------------------------------------------------------
# writers: one per layout. Each returns the 1-based source line (or sheet row) of every row.


@dataclass
class FileSlice:
    name: str
    layout: str
    bank: str
    account_no: str
    lines: pd.DataFrame  # this file's rows, in order, with balance_sen after each row
    opening_sen: int
    closing_sen: int
    folder: str = "inbox"
    source_lines: list[int] = field(default_factory=list)


def _credit_debit(df: pd.DataFrame) -> tuple[int, int]:
    cr = int(df.loc[df["direction"] == "CR", "amount_sen"].sum())
    db = int(df.loc[df["direction"] == "DB", "amount_sen"].sum())
    return cr, db


def write_bca_individual(path: Path, fs: FileSlice, indonesian_ui: bool) -> list[int]:
    labels = (
        ("No. Rekening", "Nama", "Mata Uang", "Tanggal,Keterangan,Cabang,Jumlah,,Saldo")
        if indonesian_ui
        else ("Account No.", "Name", "Currency", "Date,Description,Branch,Amount,,Balance")
    )
    footer = (
        ("Saldo Awal", "Kredit", "Debet", "Saldo Akhir")
        if indonesian_ui
        else ("Starting Balance", "Credit", "Debet", "Ending Balance")
    )
    out = [
        f"{labels[0]},=,'{fs.account_no}",
        f"{labels[1]},=,{HOLDER:<20}",
        f"{labels[2]},=,IDR",
        "",
        labels[3],
    ]
    first = len(out) + 1
    for row, u in zip(fs.lines.itertuples(index=False), fs.lines["channel_u"], strict=True):
        desc, branch = bca_description(row, u)
        ts = pd.Timestamp(row.posted_at)
        out.append(
            f"'{ts.day:02d}/{ts.month:02d}/{ts.year},{desc},'{branch},"
            f"{plain(row.amount_sen)},{row.direction},{plain(row.balance_sen)}"
        )
    cr, db = _credit_debit(fs.lines)
    out += [
        "",
        f"{footer[0]},=,{plain(fs.opening_sen)}",
        f"{footer[1]},=,{plain(cr) if cr else ''}",
        f"{footer[2]},=,{plain(db) if db else ''}",
        f"{footer[3]},=,{plain(fs.closing_sen)}",
    ]
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(first, first + len(fs.lines)))


def write_kopra(path: Path, fs: FileSlice) -> list[int]:
    out = ["AccountNo;Ccy;PostDate;Remarks;AdditionalDesc;Credit Amount;Debit Amount;Close Balance"]
    for row, u in zip(fs.lines.itertuples(index=False), fs.lines["channel_u"], strict=True):
        remarks, additional = kopra_description(row, u)
        ts = pd.Timestamp(row.posted_at)
        cr = plain(row.amount_sen) if row.direction == "CR" else "0.00"
        db = plain(row.amount_sen) if row.direction == "DB" else "0.00"
        bal = row.balance_sen
        close = str(bal // 100) if bal % 100 == 0 and row.ref % 5 == 0 else plain(bal)
        out.append(
            f"{fs.account_no};IDR;{ts.day:02d} {MONTHS_EN[ts.month - 1]} {ts.year} "
            f"{ts:%H:%M:%S};{remarks};{additional};{cr};{db};{close}"
        )
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(2, 2 + len(fs.lines)))


def _csv_field(text: str) -> str:
    return f'"{text}"' if ("," in text or '"' in text) else text


def write_bni_csv(path: Path, fs: FileSlice) -> list[int]:
    out = ["Post Date,Value Date,Branch,Journal No.,Description,Debit,Credit,"]
    for i, (row, u) in enumerate(
        zip(fs.lines.itertuples(index=False), fs.lines["channel_u"], strict=True)
    ):
        ts = pd.Timestamp(row.posted_at)
        when = f"{ts:%d/%m/%y %H.%M.%S}"
        branch = ("0259", "0996", "0001", "0415")[row.ref % 4]
        db = english(row.amount_sen) if row.direction == "DB" else ".00"
        cr = english(row.amount_sen) if row.direction == "CR" else ".00"
        out.append(
            f"{when},{when},{branch},{418000 + i},{_csv_field(bni_description(row, u))},"
            f"{_csv_field(db)},{_csv_field(cr)},"
        )
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(2, 2 + len(fs.lines)))


BRI_HEADER = [
    "ID",
    "NOREK",
    "TGL_TRAN",
    "TGL_EFEKTIF",
    "JAM_TRAN",
    "SEQ",
    "DESK_TRAN",
    "SALDO_AWAL_MUTASI",
    "MUTASI_DEBET",
    "MUTASI_KREDIT",
    "SALDO_AKHIR_MUTASI",
    "GLSIGN",
    "TRUSER",
    "KODE_TRAN",
    "KODE_TRAN_TELLER",
    "TRREMK",
    "TLBDS1",
    "TLBDS2",
    "REMARK_CUSTOM",
]


def write_bri_csv(path: Path, fs: FileSlice) -> list[int]:
    out = [",".join(f'"{h}"' for h in BRI_HEADER)]
    before = fs.opening_sen
    for i, (row, u) in enumerate(
        zip(fs.lines.itertuples(index=False), fs.lines["channel_u"], strict=True)
    ):
        ts = pd.Timestamp(row.posted_at)
        desk, remark = bri_description(row, u)
        debit = plain(row.amount_sen) if row.direction == "DB" else ".00"
        credit = plain(row.amount_sen) if row.direction == "CR" else ".00"
        fields = (
            str(i + 1),
            fs.account_no,
            f"{ts:%Y-%m-%d %H:%M:%S}",
            f"{ts:%Y-%m-%d %H:%M:%S}",
            str(int(f"{ts:%H%M%S}")),
            str(1_000_000 + row.ref % 9_000_000),
            desk,
            plain(before),
            debit,
            credit,
            plain(row.balance_sen),
            "Cr" if row.direction == "CR" else "Db",
            "",
            "",
            "",
            "",
            "",
            "",
            remark,
        )
        out.append(",".join(f'"{f}"' for f in fields))
        before = row.balance_sen
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(2, 2 + len(fs.lines)))


def write_mcm_classic(path: Path, fs: FileSlice) -> list[int]:
    out = [
        "Account No,Date,Val. Date,Transaction Code,Description,Description,Reference No.,"
        "Debit,Credit,"
    ]
    for row in fs.lines.itertuples(index=False):
        ts = pd.Timestamp(row.posted_at)
        name = row.sender or "DANA"
        if row.direction == "CR":
            code, narrative = ("7820", f"MCM InhouseTrf CS-CS DARI {name}")
            if row.ref % 2:
                code, narrative = ("2315", f"SA OB CA No Book  DARI {name}")
        elif row.kind == "fee":
            code, narrative = ("8888", "BIAYA ADMINISTRASI")
        else:
            code, narrative = ("2315", f"SA OB CA No Book  KE {name}")
        db = english(row.amount_sen) if row.direction == "DB" else ".00"
        cr = english(row.amount_sen) if row.direction == "CR" else ".00"
        d = f"{ts:%d/%m/%y}"
        out.append(
            f"{fs.account_no},{d},{d},{code},{narrative},{_csv_field(row.message + ' ')},,"
            f"{_csv_field(db)},{_csv_field(cr)},"
        )
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(2, 2 + len(fs.lines)))


def write_bca_bisnis_csv(path: Path, fs: FileSlice) -> list[int]:
    start = pd.Timestamp(fs.lines["posted_at"].iloc[0]) if len(fs.lines) else pd.Timestamp(AS_OF)
    end = pd.Timestamp(fs.lines["posted_at"].iloc[-1]) if len(fs.lines) else pd.Timestamp(AS_OF)
    out = [
        '"Informasi Rekening - Mutasi Rekening"," "," "," "," ",',
        "",
        f'"No. rekening : {fs.account_no}"',
        f'"Nama : {HOLDER}"',
        f'"Periode : {start:%d/%m/%Y} - {end:%d/%m/%Y}"',
        '"Kode Mata Uang : Rp"',
        '"Tanggal Transaksi","Keterangan","Cabang","Jumlah","Saldo"',
    ]
    first = len(out) + 1
    for row, u in zip(fs.lines.itertuples(index=False), fs.lines["channel_u"], strict=True):
        desc, branch = bca_description(row, u)
        ts = pd.Timestamp(row.posted_at)
        amount = f"{english(row.amount_sen)} {row.direction}"
        out.append(f'"{ts:%d/%m/%Y}","{desc}","{branch}","{amount}","{english(row.balance_sen)}"')
    cr, db = _credit_debit(fs.lines)
    n_cr = int((fs.lines["direction"] == "CR").sum())
    out += [
        f'"Saldo Awal : {english(fs.opening_sen)}"',
        f'"Mutasi Debet : {english(db) if db else "0.00"}","{len(fs.lines) - n_cr}"',
        f'"Mutasi Kredit : {english(cr) if cr else "0.00"}","{n_cr}"',
        f'"Saldo Akhir : {english(fs.closing_sen)}"',
    ]
    path.write_text("\r\n".join(out) + "\r\n", encoding="utf-8", newline="")
    return list(range(first, first + len(fs.lines)))


def write_livin_xlsx(path: Path, fs: FileSlice) -> list[int]:
    """Livin' e-Statement: bilingual labels, a two-row header, two rows per movement (§4.3)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("e-Statement")
    start = pd.Timestamp(fs.lines["posted_at"].iloc[0]) if len(fs.lines) else pd.Timestamp(AS_OF)
    end = pd.Timestamp(fs.lines["posted_at"].iloc[-1]) if len(fs.lines) else pd.Timestamp(AS_OF)
    cr, db = _credit_debit(fs.lines)
    head: list[tuple[int, int, str]] = [
        (0, 0, "e-Statement"),
        (1, 0, "Nama/Name"),
        (1, 8, ":"),
        (1, 9, HOLDER),
        (2, 0, "Periode/Period"),
        (2, 8, ":"),
        (2, 9, f"{start:%d %b %Y} - {end:%d %b %Y}"),
        (3, 0, "Cabang/Branch"),
        (3, 8, ":"),
        (3, 9, "KCP JAKARTA"),
        (4, 0, "Mata Uang/Currency"),
        (4, 8, ":"),
        (4, 9, "IDR"),
        (5, 0, "Nomor Rekening/Account Number"),
        (5, 8, ":"),
        (5, 9, fs.account_no),
        (6, 0, "Saldo Awal/Initial Balance"),
        (6, 9, indonesian(fs.opening_sen)),
        (6, 12, "Dana Masuk/Incoming Transactions"),
        (6, 16, indonesian(cr)),
        (7, 0, "Saldo Akhir/Closing Balance"),
        (7, 9, indonesian(fs.closing_sen)),
        (7, 12, "Dana Keluar/Outgoing Transactions"),
        (7, 16, indonesian(db)),
        (8, 1, "No"),
        (8, 4, "Tanggal"),
        (8, 7, "Keterangan"),
        (8, 15, "Dana Masuk (IDR)"),
        (8, 18, "Dana Keluar (IDR)"),
        (8, 21, "Saldo (IDR)"),
        (9, 1, "No"),
        (9, 4, "Date"),
        (9, 7, "Remarks"),
        (9, 15, "Incoming Transactions (IDR)"),
        (9, 18, "Outgoing Transactions (IDR)"),
        (9, 21, "Balance (IDR)"),
    ]
    for r, c, v in head:
        ws.write_string(r, c, v)
    rows: list[int] = []
    r = 10
    for i, row in enumerate(fs.lines.itertuples(index=False)):
        ts = pd.Timestamp(row.posted_at)
        name = row.sender or "DANA-PENGGUNA"
        if row.direction == "CR":
            remark = f"Transfer dari BANK MANDIRI\n{name} {1370000000000 + row.ref % 10**8}"
        else:
            remark = "Biaya Administrasi" if row.kind == "fee" else f"Transfer ke {name}"
        ws.write_number(r, 0, i + 1)
        ws.write_string(r, 4, f"{ts:%d %b %Y}")
        ws.write_string(r, 7, remark)
        ws.write_string(r, 15 if row.direction == "CR" else 18, indonesian(row.amount_sen))
        ws.write_string(r, 21, indonesian(row.balance_sen))
        ws.write_string(r + 1, 4, f"{ts:%H:%M:%S} WIB")
        rows.append(r + 1)
        r += 2
    ws.write_string(r + 1, 0, "PT Bank Mandiri (Persero) Tbk. terdaftar dan diawasi oleh OJK")
    ws.write_string(r + 2, 0, "Mandiri Call 14000")
    wb.close()
    return rows


Writer = Callable[[Path, FileSlice], list[int]]
WRITERS: dict[str, tuple[str, Writer]] = {
    "bca_klikbca_individual": (
        ".csv",
        lambda p, fs: write_bca_individual(p, fs, indonesian_ui=p.stem.endswith("_id")),
    ),
    "bca_klikbca_bisnis_csv": (".csv", write_bca_bisnis_csv),
    "mandiri_kopra_csv": (".csv", write_kopra),
    "mandiri_mcm_csv": (".csv", write_mcm_classic),
    "mandiri_livin_xlsx": (".xlsx", write_livin_xlsx),
    "bni_bnidirect_csv": (".CSV", write_bni_csv),
    "bri_estatement_csv": (".csv", write_bri_csv),
}


# ---------------------------------------------------------------------------------------------
# slicing into files and writing everything


def slice_account(
    lines: pd.DataFrame, bank: str, layout: str, opening_sen: int, files: int = FILES_PER_ACCOUNT
) -> list[FileSlice]:
    """Consecutive date ranges of one account, each a file; balances chain across them."""
    lines = lines.reset_index()  # keep the world's row index as column "index"
    signed = np.where(lines["direction"] == "CR", lines["amount_sen"], -lines["amount_sen"])
    lines["balance_sen"] = opening_sen + np.cumsum(signed)
    is_next = lines["posted_on"].to_numpy() >= np.datetime64(INCREMENT_DAY, "D")
    following = lines[is_next].reset_index(drop=True)
    lines = lines[~is_next].reset_index(drop=True)
    days = lines["posted_on"].to_numpy()
    cuts = [0]
    for q in range(1, files):
        pos = len(lines) * q // files
        day = days[min(pos, len(lines) - 1)] if len(lines) else None
        cut = int(np.searchsorted(days, day, side="left")) if day is not None else 0
        cuts.append(max(cut, cuts[-1]))
    cuts.append(len(lines))
    slices: list[FileSlice] = []
    balance = opening_sen
    ext, _ = WRITERS[layout]
    account = ACCOUNTS[bank]
    for k in range(files):
        part = lines.iloc[cuts[k] : cuts[k + 1]].reset_index(drop=True)
        closing = int(part["balance_sen"].iloc[-1]) if len(part) else balance
        ui = "_id" if layout == "bca_klikbca_individual" and k % 2 else ""
        stem = {
            "bni_bnidirect_csv": f"{account}_{k + 1:02d}",
            "bca_klikbca_individual": f"mutasi_bca_{k + 1:02d}{ui}",
        }.get(layout, f"{layout}_{k + 1:02d}")
        slices.append(FileSlice(stem + ext, layout, bank, account, part, balance, closing))
        balance = closing
    if len(following):
        closing = int(following["balance_sen"].iloc[-1])
        stem = f"{layout}_{account}_next" if layout != "bni_bnidirect_csv" else f"{account}_next"
        slices.append(
            FileSlice(stem + ext, layout, bank, account, following, balance, closing, "inbox_next")
        )
    return slices


def opening_balance(rng: np.random.Generator, lines: pd.DataFrame) -> int:
    """A realistic opening balance high enough that the running balance never goes negative."""
    signed = np.where(lines["direction"] == "CR", lines["amount_sen"], -lines["amount_sen"])
    lowest = int(np.cumsum(signed).min()) if len(lines) else 0
    return max(0, -lowest) + int(rng.integers(5_000, 50_000)) * 1_000 * 100


def write_world(
    world: World, out: Path, layouts: Sequence[str] = DEFAULT_LAYOUTS
) -> dict[str, Any]:
    """Write inbox, invoices, confirmations, truth and manifest under ``out``; return the manifest."""
    by_bank: dict[str, str] = {}
    for layout in layouts:
        bank = LAYOUT_BANK[layout]
        if bank in by_bank:
            raise ValueError(f"two layouts for {bank}: {by_bank[bank]} and {layout}")
        by_bank[bank] = layout
    (out / "inbox").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(world.seed + 1)
    files: list[dict[str, Any]] = []
    accounts: dict[str, dict[str, Any]] = {}
    truth_parts: list[pd.DataFrame] = []
    lines = world.lines
    for bank in ACCOUNTS:  # fixed order: deterministic
        bank_lines = lines[lines["bank"] == bank]
        if bank not in by_bank:
            continue
        layout = by_bank[bank]
        opening = opening_balance(rng, bank_lines)
        for fs in slice_account(bank_lines, bank, layout, opening):
            _, writer = WRITERS[layout]
            (out / fs.folder).mkdir(exist_ok=True)
            fs.source_lines = writer(out / fs.folder / fs.name, fs)
            cr, db = _credit_debit(fs.lines)
            files.append(
                {
                    "name": fs.name,
                    "folder": fs.folder,
                    "layout": layout,
                    "bank": bank,
                    "account_no": fs.account_no,
                    "lines": len(fs.lines),
                    "credits": int((fs.lines["direction"] == "CR").sum()),
                    "debits": int((fs.lines["direction"] == "DB").sum()),
                    "credit_total": rupiah(cr),
                    "debit_total": rupiah(db),
                    "opening": rupiah(fs.opening_sen),
                    "closing": rupiah(fs.closing_sen),
                }
            )
            truth_parts.append(
                pd.DataFrame(
                    {
                        "line_key": fs.lines["index"].to_numpy(),
                        "file": fs.name,
                        "source_line": fs.source_lines,
                        "bank": bank,
                        "account_no": fs.account_no,
                        "posted_on": pd.to_datetime(fs.lines["posted_on"]).dt.strftime("%Y-%m-%d"),
                        "direction": fs.lines["direction"].to_numpy(),
                        "amount": [plain(int(s)) for s in fs.lines["amount_sen"]],
                        "kind": fs.lines["kind"].to_numpy(),
                        "invoice_nos": fs.lines["invoice_nos"].to_numpy(),
                    }
                )
            )
        main = bank_lines[bank_lines["posted_on"] < np.datetime64(INCREMENT_DAY, "D")]
        cr_all, db_all = _credit_debit(main)
        accounts[ACCOUNTS[bank]] = {
            "bank": bank,
            "layout": layout,
            "lines": len(main),
            "credits": int((main["direction"] == "CR").sum()),
            "credit_total": rupiah(cr_all),
            "debit_total": rupiah(db_all),
            "opening": rupiah(opening),
            "closing": rupiah(opening + cr_all - db_all),
        }
    truth = pd.concat(truth_parts, ignore_index=True)
    written = set(truth["line_key"])
    write_invoices(world.invoices, out / "invoices.csv")
    conf = world.confirmations
    # a ticket about a line of a bank that was not written has no money behind it here
    keys = conf["truth_line"].where(conf["truth_line"].isin(written), -1)
    write_confirmations(conf, out / "confirmations.csv")
    by_key = truth.set_index("line_key")
    conf_truth = pd.DataFrame(
        {
            "ticket_id": conf["ticket_id"],
            "kind": np.where(keys < 0, "no_funds", conf["truth_kind"]),
            "invoice_nos": conf["truth_invoice_nos"],
            "file": keys.map(by_key["file"]).fillna(""),
            "source_line": keys.map(by_key["source_line"])
            .astype("Int64")
            .astype(str)
            .replace("<NA>", ""),
        }
    )
    conf_truth.to_csv(out / "truth_confirmations.csv", index=False)
    tickets_by_line = conf[keys >= 0].groupby(keys[keys >= 0])["ticket_id"].agg(";".join)
    truth["ticket_ids"] = truth["line_key"].map(tickets_by_line).fillna("")
    truth.drop(columns="line_key").to_csv(out / "truth_lines.csv", index=False)
    manifest = {
        "seed": world.seed,
        "size": world.size,
        "as_of": AS_OF.isoformat(),
        "layouts": list(layouts),
        "lines": sum(f["lines"] for f in files if f["folder"] == "inbox"),
        "increment_lines": sum(f["lines"] for f in files if f["folder"] == "inbox_next"),
        "increment_as_of": INCREMENT_AS_OF.isoformat(),
        "files": files,
        "accounts": accounts,
        "invoices": {
            "rows": len(world.invoices),
            "open": int((world.invoices["status"] == "Unpaid").sum()),
            "distinct_open_amounts": int(
                world.invoices.loc[world.invoices["status"] == "Unpaid", "amount_sen"].nunique()
            ),
        },
        "confirmations": {"rows": len(conf)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_invoices(invoices: pd.DataFrame, path: Path) -> None:
    amount = [
        plain(int(s)) if i % 3 else str(int(s) // 100) for i, s in enumerate(invoices["amount_sen"])
    ]
    frame = pd.DataFrame(
        {
            "invoice_no": invoices["invoice_no"],
            "client_name": invoices["client_name"],
            "company_name": invoices["company_name"],
            "email": invoices["email"],
            "issued_on": pd.to_datetime(invoices["issued_on"]).dt.strftime("%Y-%m-%d"),
            "due_on": pd.to_datetime(invoices["due_on"]).dt.strftime("%Y-%m-%d"),
            "amount": amount,
            "status": invoices["status"],
        }
    )
    frame.to_csv(path, index=False, lineterminator="\n")


CONFIRMATION_HEADER = [
    "ticket_id",
    "submitted_at",
    "name",
    "email",
    "subject",
    "department",
    "related_service",
    "message",
    "invoice_no",
    "bank_destination",
    "amount",
    "transfer_date",
    "account_name",
    "attachment",
]


def write_confirmations(conf: pd.DataFrame, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CONFIRMATION_HEADER)
        writer.writerows(conf[CONFIRMATION_HEADER].itertuples(index=False, name=None))


def generate(
    size: int,
    seed: int,
    out: Path,
    layouts: Sequence[str] = DEFAULT_LAYOUTS,
    increment: int = 0,
) -> dict[str, Any]:
    """Generate and write one data set; returns its manifest."""
    return write_world(make_world(size, seed, increment), out, layouts)


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    t = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    digits = t[:-1] if factor > 1 else t
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"size must be like 10k, 100k, 1m or 2500 (got {text!r})")
    return int(digits) * factor


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, required=True, help="bank lines: 10k, 100k, 1m")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--increment",
        type=parse_size,
        default=0,
        help="also write this many lines of the next day to inbox_next/ (incremental run)",
    )
    parser.add_argument(
        "--layouts",
        default=",".join(DEFAULT_LAYOUTS),
        help=f"one layout per bank, comma-separated (known: {', '.join(WRITERS)})",
    )
    args = parser.parse_args(argv)
    layouts = [x.strip() for x in args.layouts.split(",") if x.strip()]
    unknown = [x for x in layouts if x not in WRITERS]
    if unknown:
        parser.error(f"unknown layout(s): {', '.join(unknown)}")
    started = datetime.now()
    manifest = generate(args.size, args.seed, args.out, layouts, args.increment)
    took = (datetime.now() - started).total_seconds()
    print(
        f"{manifest['lines']} bank lines in {len(manifest['files'])} files, "
        f"{manifest['invoices']['rows']} invoices ({manifest['invoices']['open']} open, "
        f"{manifest['invoices']['distinct_open_amounts']} distinct amounts), "
        f"{manifest['confirmations']['rows']} confirmations -> {args.out} in {took:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
