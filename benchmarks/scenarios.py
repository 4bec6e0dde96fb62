"""Labelled scenario generator for the matching core: every situation of the matching issue.

``generate(seed, cases, noise_invoices, noise_credits)`` returns the ``decide()`` input frames
and the truth: per credit the expected status, invoice numbers and codes; per confirmation the
expected codes. Deterministic by seed; synthetic names and amounts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

AS_OF = date(2026, 3, 31)
BCA, MANDIRI, BNI = "0372543386", "1370010136428", "0495227030"
FIRST = ["Budi", "Siti", "Agus", "Dewi", "Hendra", "Rina", "Joko", "Sri", "Andi", "Yusuf", "Fitri", "Bambang", "Wahyu", "Indah", "Rudi", "Eko", "Nur", "Dian", "Ratna", "Teguh", "Lina", "Adi", "Putri", "Bayu", "Sari", "Dimas", "Ayu", "Fajar", "Wulan", "Rizky"]  # fmt: skip
MIDDLE = ["Adi", "Cahya", "Eka", "Tri", "Dwi", "Budi", "Arif", "Dharma", "Kurnia", "Putra", "Sakti", "Wira", "Jaya", "Mulya", "Tirta", "Bagus", "Citra", "Dewa", "Guna", "Harsa"]  # fmt: skip
LAST = ["Santoso", "Rahayu", "Wijaya", "Anggraini", "Pratama", "Hartono", "Setiawan", "Lestari", "Susilo", "Maulana", "Kurniawan", "Hidayat", "Saputra", "Wibowo", "Nugroho", "Purnomo", "Siregar", "Nasution", "Simanjuntak", "Halim", "Gunawan", "Sutanto", "Permana", "Utomo", "Suryadi"]  # fmt: skip
HONORIFICS = ("", "BPK ", "IBU ", "SDR ", "")
PRICES = (165_000, 250_000, 350_000, 500_000, 750_000, 1_000_000, 1_500_000, 2_400_000)
SITUATIONS = (
    "name_exact", "ref", "ref_other_payer", "fee_deducted", "partial", "overpaid", "combined",
    "split", "duplicate", "closed", "confirmation", "wrong_account", "conf_amount_mismatch",
    "late", "ambiguous", "alias", "unique_code", "unidentified", "ewallet_common",
    "ewallet_confirmed", "marked_paid",
)  # fmt: skip


# Shares of each situation per mix (normalised to 1). "every": each situation equally often,
# plain name and invoice-number payments six times as often, to measure every code.
# "production": the shares seen in a hosting company's account: most transfers quote the
# invoice number (45 %) or come from the client's own name (30 %); some from a spouse or the
# company (confirmation, alias, ref_other_payer, combined: 12 %); transfer fees, instalments and
# late payments a few percent; genuinely ambiguous or unidentified money 3.5 %; duplicate,
# cancelled, over-paid and mistyped confirmations rare. About 30 % of payments are also
# confirmed through the website (``confirm_share``).
MIXES: dict[str, dict[str, float]] = {
    "every": {s: 6.0 if s in ("name_exact", "ref") else 1.0 for s in SITUATIONS},
    "production": {
        "ref": 45.0, "name_exact": 30.0, "ref_other_payer": 3.0, "confirmation": 4.0,
        "alias": 3.0, "combined": 2.0, "fee_deducted": 4.0, "split": 1.0, "partial": 1.0,
        "late": 1.0, "unique_code": 2.0, "overpaid": 0.5, "duplicate": 0.5, "closed": 0.3,
        "wrong_account": 0.5, "conf_amount_mismatch": 0.5, "ambiguous": 1.0,
        "ewallet_common": 0.5, "unidentified": 2.0, "ewallet_confirmed": 0.5,
        "marked_paid": 0.5,
    },
}  # fmt: skip
CONFIRM_SHARE = {"every": 0.0, "production": 0.22}  # plus the confirmation situations: ~30 %


@dataclass
class Scenario:
    credits: pd.DataFrame
    invoices: pd.DataFrame
    confirmations: pd.DataFrame
    aliases: pd.DataFrame
    truth: pd.DataFrame  # line_id, situation, status, invoice_nos, codes
    confirmation_truth: pd.DataFrame  # ticket_id, codes


class _Builder:
    def __init__(self, seed: int, confirm_share: float = 0.0) -> None:
        self.rng = np.random.default_rng(seed)
        self.confirm_share = confirm_share
        self.confirmed: set[int] = set()  # name payments confirmed under the client's name
        self.credits: list[dict[str, object]] = []
        self.invoices: list[dict[str, object]] = []
        self.confs: list[dict[str, object]] = []
        self.aliases: list[tuple[str, str]] = []
        self.truth: list[tuple[int, str, str, str, str]] = []
        self.conf_truth: list[tuple[str, str]] = []
        self.next_invoice = 100_000
        self.next_line = 1
        self.next_ticket = 500_000
        self.next_client = 0

    def client(self) -> tuple[str, str]:
        k = self.next_client
        self.next_client += 1
        a, b, c = k % len(FIRST), (k // len(FIRST)) % len(MIDDLE), (k // 600) % len(LAST)
        suffix = "" if k < 600 * len(LAST) else f" {k}"
        name = f"{FIRST[a]} {MIDDLE[b]} {LAST[c]}{suffix}"
        return name, f"client{k}@example.com"

    def invoice(self, name: str, email: str, amount: int, *, company: str = "",
                status: str = "OPEN", issued: str = "2026-03-10", due: str = "2026-03-17",
                received: int = 0) -> str:  # fmt: skip
        no = str(self.next_invoice)
        self.next_invoice += 1
        self.invoices.append({
            "invoice_no": no, "client_name": name, "company_name": company, "email": email,
            "issued_on": pd.Timestamp(issued), "due_on": pd.Timestamp(due),
            "amount_sen": amount * 100, "source_status": "Unpaid", "source_row": len(self.invoices) + 2,
            "received_sen": received * 100, "status": status, "client_key": email,
        })  # fmt: skip
        return no

    def credit(self, amount: int, sender: str, *, message: str = "", day: str = "2026-03-12",
               account: str = BCA) -> int:  # fmt: skip
        line_id = self.next_line
        self.next_line += 1
        self.credits.append({
            "line_id": line_id, "bank": "bca", "account_no": account, "posted_on": pd.Timestamp(day),
            "initiated_on": pd.NaT, "amount_sen": amount * 100, "counterparty": sender,
            "sender_bank": "", "message": message,
            "description": f"TRSF E-BANKING CR 1203/FTSCY/WS95031 {amount}.00 {message} {sender}",
            "channel": "TRANSFER",
        })  # fmt: skip
        return line_id

    def confirmation(self, invoice_no: str, amount: int | None, account_name: str, email: str, *,
                     dest: str = BCA, transfer: str = "2026-03-12", codes: str = "") -> None:  # fmt: skip
        ticket = str(self.next_ticket)
        self.next_ticket += 1
        self.confs.append({
            "ticket_id": ticket, "submitted_at": pd.Timestamp(transfer) + pd.Timedelta(hours=20),
            "name": account_name, "email": email, "subject": f"Konfirmasi Pembayaran Invoice #{invoice_no}",
            "message": "", "related_service": "", "attachment": "", "invoice_no_raw": invoice_no,
            "bank_destination_raw": dest, "amount_raw": str(amount), "transfer_date_raw": transfer,
            "account_name": account_name, "invoice_nos": invoice_no, "dest_account_no": dest,
            "dest_not_ours": False, "amount_sen": amount * 100 if amount else pd.NA,
            "transfer_date": pd.Timestamp(transfer), "intake_status": "VALID", "intake_reason": "",
            "source_row": len(self.confs) + 2, "status": "OPEN",
        })  # fmt: skip
        self.conf_truth.append((ticket, codes))

    def expect(self, line_id: int, situation: str, status: str, invoices: str, codes: str) -> None:
        self.truth.append((line_id, situation, status, invoices, codes))

    def sender_of(self, name: str) -> str:
        raw = HONORIFICS[int(self.rng.integers(len(HONORIFICS)))] + name.upper()
        return raw[:18]  # BCA cuts names at 18 characters

    def case(self, situation: str) -> None:
        name, email = self.client()
        price = int(self.rng.choice(PRICES))
        confirmed = self.confirm_share > 0 and self.rng.random() < self.confirm_share
        if situation == "name_exact":
            no = self.invoice(name, email, price)
            line = self.credit(price, self.sender_of(name))
            if confirmed:  # the client also confirms on the website, under their own name
                self.confirmation(no, price, name, email)
                self.confirmed.add(line)
            self.expect(line, situation, "MATCHED", no, "")
        elif situation == "ref":
            no = self.invoice(name, email, price)
            if confirmed:
                self.confirmation(no, price, name, email)
            self.expect(
                self.credit(price, "DANA", message=f"INV {no}"), situation, "MATCHED", no, ""
            )
        elif situation == "ref_other_payer":
            no = self.invoice(name, email, price)
            payer, _ = self.client()
            line = self.credit(price, payer.upper(), message=f"#{no}")
            self.expect(line, situation, "MATCHED", no, "NAME_MISMATCH")
        elif situation == "fee_deducted":
            no = self.invoice(name, email, price)
            fee = int(self.rng.choice([1_000, 2_500, 2_900, 5_000, 6_500]))
            line = self.credit(price - fee, self.sender_of(name), message=f"INV{no}")
            self.expect(line, situation, "MATCHED", no, "UNDERPAID")
        elif situation == "partial":
            no = self.invoice(name, email, 1_500_000)
            line = self.credit(700_000, "DANA", message=f"INV {no}")
            self.expect(line, situation, "MATCHED", no, "UNDERPAID")
        elif situation == "overpaid":
            no = self.invoice(name, email, price)
            line = self.credit(price + 100_000, "DANA", message=f"INV {no}")
            self.expect(line, situation, "REVIEW", no, "OVERPAID")
        elif situation == "combined":
            company = "PT " + " ".join(reversed(name.split())) + " Niaga"
            first = self.invoice(name, email, 1_250_000, company=company)
            second = self.invoice(name, email, 250_000, company=company)
            line = self.credit(1_500_000, company.upper()[:24])
            self.expect(line, situation, "MATCHED", f"{first};{second}", "COMBINED_PAYMENT")
        elif situation == "split":
            no = self.invoice(name, email, 2_400_000)
            sender = self.sender_of(name)
            for amount, day in ((1_400_000, "2026-03-11"), (1_000_000, "2026-03-13")):
                line = self.credit(amount, sender, message=f"INV {no}", day=day)
                self.expect(line, situation, "MATCHED", no, "SPLIT_PAYMENT")
        elif situation == "duplicate":
            no = self.invoice(name, email, price, status="PAID", received=price)
            line = self.credit(price, self.sender_of(name), message=f"INV {no}")
            self.expect(line, situation, "REVIEW", no, "DUPLICATE_PAYMENT")
        elif situation == "closed":
            no = self.invoice(name, email, price, status="CANCELLED")
            line = self.credit(price, self.sender_of(name), message=f"INV {no}")
            self.expect(line, situation, "REVIEW", no, "PAYMENT_ON_CLOSED_INVOICE")
        elif situation == "confirmation":
            no = self.invoice(name, email, price)
            payer, _ = self.client()
            self.confirmation(no, price, payer, email)
            self.expect(self.credit(price, payer.upper()[:18]), situation, "MATCHED", no, "")
        elif situation == "wrong_account":
            no = self.invoice(name, email, price)
            self.confirmation(no, price, name, email, dest=MANDIRI, codes="WRONG_ACCOUNT")
            line = self.credit(price, self.sender_of(name))
            self.expect(line, situation, "MATCHED", no, "WRONG_ACCOUNT")
        elif situation == "conf_amount_mismatch":
            no = self.invoice(name, email, price)
            self.confirmation(no, price + 50_000, name, email, codes="CONFIRMATION_AMOUNT_MISMATCH")
            line = self.credit(price, self.sender_of(name))
            self.expect(line, situation, "MATCHED", no, "CONFIRMATION_AMOUNT_MISMATCH")
        elif situation == "late":
            no = self.invoice(name, email, price, issued="2026-02-02", due="2026-02-09")
            line = self.credit(price, self.sender_of(name), message=f"INV {no}")
            self.expect(line, situation, "MATCHED", no, "PAID_AFTER_DUE")
        elif situation == "ambiguous":
            first = self.invoice(name, email, price)
            second = self.invoice(name, email, price, issued="2026-03-11")
            line = self.credit(price, self.sender_of(name))
            self.expect(line, situation, "REVIEW", "", "AMBIGUOUS")
        elif situation == "alias":
            no = self.invoice(name, email, price)
            payer, _ = self.client()
            self.aliases.append((payer.upper(), email))
            self.expect(self.credit(price, payer.upper()), situation, "MATCHED", no, "")
        elif situation == "unique_code":
            amount = price + int(self.rng.integers(1, 999))
            no = self.invoice(name, email, amount)
            self.expect(self.credit(amount, "DANA"), situation, "MATCHED", no, "")
        elif situation == "unidentified":
            stranger = f"Tamu {self.next_client}"
            amount = 10_000_000 + self.next_client * 1_000 + 7
            line = self.credit(amount, stranger.upper())
            self.expect(line, situation, "UNMATCHED", "", "UNIDENTIFIED_CREDIT")
        elif situation == "ewallet_common":
            line = self.credit(165_000, "DANA")
            self.expect(line, situation, "REVIEW", "", "AMBIGUOUS")
        elif situation == "ewallet_confirmed":
            # no sender name and no invoice number: the confirmation agrees on amount and date,
            # which a stranger's transfer of that price could too; a person links them
            amount = 3_000_000 + self.next_client * 1_000  # rare: the amount links them
            no = self.invoice(name, email, amount)
            self.confirmation(no, amount, name, email)
            self.expect(self.credit(amount, "DANA"), situation, "REVIEW", no, "")
        elif situation == "marked_paid":
            # staff marked last month's invoice paid by hand (no bank line yet); this month's
            # of the same price is open: the transfer may be either
            self.invoice(name, email, price, status="PAID", issued="2026-03-06")
            self.invoice(name, email, price, issued="2026-03-09")
            line = self.credit(price, self.sender_of(name))
            self.expect(line, situation, "REVIEW", "", "AMBIGUOUS")
        else:
            raise ValueError(situation)


def _ties(b: _Builder) -> None:
    """Relabel payments that another client's invoice fits equally: AMBIGUOUS.

    A payment identified by a unique code alone (the amount's last three digits) is ambiguous
    when another open invoice has the same amount: two clients drew the same code.

    A bank-cut sender ("BPK RATNA SAKTI SA") is the start of several clients' names ("Ratna
    Sakti Santoso", "Ratna Sakti Saputra"). When another such client has an open invoice of the
    same amount issued by the payment day, nothing distinguishes the two: the issue says REVIEW
    with the candidates, never a guess. A rival invoice stops counting once a credit with
    better evidence (or a name payment already resolved) takes it, as global assignment does.
    """
    invoices = pd.DataFrame(b.invoices)
    invoices = invoices[invoices["status"] == "OPEN"]
    credits = pd.DataFrame(b.credits).set_index("line_id")
    truth = pd.DataFrame(
        b.truth, columns=["line_id", "situation", "status", "invoice_nos", "codes"]
    )
    coded = truth[truth["situation"] == "unique_code"]
    amounts = invoices.groupby("amount_sen").size()
    coded_amount = credits.loc[coded["line_id"], "amount_sen"].to_numpy()
    drawn_twice = set(coded.loc[amounts.reindex(coded_amount).to_numpy() > 1, "line_id"])
    # a confirmation under the client's full name naming the invoice tells the rivals apart
    by_name = truth[(truth["situation"] == "name_exact") & ~truth["line_id"].isin(b.confirmed)]
    rivals: dict[int, set[str]] = {}
    for line_id, own in zip(
        by_name["line_id"].tolist(), by_name["invoice_nos"].tolist(), strict=True
    ):
        sender, amount, day = credits.loc[line_id, ["counterparty", "amount_sen", "posted_on"]]
        part = str(sender)
        for title in HONORIFICS:
            if title and part.startswith(title):
                part = part[len(title) :]
        part = part.strip()
        same = invoices[(invoices["amount_sen"] == amount) & (invoices["issued_on"] <= day)]
        names = same["client_name"].str.upper()
        rivals[line_id] = set(same.loc[names.str.startswith(part), "invoice_no"]) - {own}
    certain = (truth["status"] == "MATCHED") & ~truth["line_id"].isin(by_name["line_id"])
    claimed = set(truth.loc[certain, "invoice_nos"].str.split(";").explode())
    own_of = dict(zip(by_name["line_id"].tolist(), by_name["invoice_nos"].tolist(), strict=True))
    pending = set(rivals)
    while True:
        resolved = {k for k in pending if rivals[k] <= claimed}
        if not resolved:
            break
        claimed |= {own_of[k] for k in resolved}
        pending -= resolved
    pending |= drawn_twice
    b.truth = [
        (k, sit, "REVIEW", "", "AMBIGUOUS") if k in pending else (k, sit, st, nos, codes)
        for k, sit, st, nos, codes in b.truth
    ]


def generate(
    seed: int, cases: int, noise_invoices: int = 0, noise_credits: int = 0, mix: str = "every"
) -> Scenario:
    """``cases`` labelled cases drawn over SITUATIONS, plus unlabelled background.

    Background invoices are open invoices of other clients at the common prices (so amounts
    collide as in production); background credits are unidentified transfers of odd amounts.
    """
    b = _Builder(seed, CONFIRM_SHARE[mix])
    weights = np.array([MIXES[mix][s] for s in SITUATIONS])
    picks = b.rng.choice(len(SITUATIONS), size=cases, p=weights / weights.sum())
    for k in picks:
        b.case(SITUATIONS[int(k)])
    for _ in range(noise_invoices):
        name, email = b.client()
        day = 1 + int(b.rng.integers(0, 25))
        b.invoice(name, email, int(b.rng.choice(PRICES)), issued=f"2026-03-{day:02d}",
                  due=f"2026-03-{min(day + 7, 31):02d}")  # fmt: skip
    for k in range(noise_credits):
        line = b.credit(20_000_000 + k * 100 + 3, f"PENGIRIM {k}")
        b.expect(line, "unidentified", "UNMATCHED", "", "UNIDENTIFIED_CREDIT")
    conf_columns = ["ticket_id", "submitted_at", "name", "email", "subject", "message",
                    "related_service", "attachment", "invoice_no_raw", "bank_destination_raw",
                    "amount_raw", "transfer_date_raw", "account_name", "invoice_nos",
                    "dest_account_no", "dest_not_ours", "amount_sen", "transfer_date",
                    "intake_status", "intake_reason", "source_row", "status"]  # fmt: skip
    # confirmations whose money never comes, and one still within the wait
    name, email = b.client()
    no = b.invoice(name, email, 500_000)
    b.confirmation(
        no, 500_000, name, email, transfer="2026-03-02", codes="CONFIRMATION_WITHOUT_FUNDS"
    )
    b.confirmation(no, 500_000, name, email, transfer="2026-03-30")
    _ties(b)
    order = b.rng.permutation(len(b.credits))
    return Scenario(
        credits=pd.DataFrame(b.credits).iloc[order].reset_index(drop=True),
        invoices=pd.DataFrame(b.invoices).sample(frac=1, random_state=seed).reset_index(drop=True),
        confirmations=pd.DataFrame(b.confs, columns=conf_columns),
        aliases=pd.DataFrame(b.aliases, columns=["sender_norm", "client_key"]),
        truth=pd.DataFrame(
            b.truth, columns=["line_id", "situation", "status", "invoice_nos", "codes"]
        ),
        confirmation_truth=pd.DataFrame(b.conf_truth, columns=["ticket_id", "codes"]),
    )
