"""Writes the quick-start sample data: one week of March 2026 on the company's four accounts.

Synthetic names and amounts in the banks' real export layouts (formats.md), chosen so that one
run shows every outcome: automatic matches, a fee-sized underpayment, a combined and a split
payment, an overpayment, an ambiguous credit, money with no invoice, a payment on a cancelled
invoice, and confirmations that are invalid, awaiting funds, without funds or contradicting the
bank. Run it again after changing a scenario:  python sample_data/make_samples.py
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
INBOX = HERE / "inbox"


def money(v: Decimal) -> str:
    return f"{v:.2f}"


def bca_individual() -> None:
    rows = [  # (date, description, branch, amount, CR/DB)
        ("'02/03/2026", "TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO", "'0000", "1500000.00", "CR"),
        ("'03/03/2026", "BI-FAST CR TRANSFER   DR 009 DEWI LESTARI      ", "'0000", "443500.00", "CR"),
        ("'03/03/2026", "BIAYA ADM", "'0998", "10000.00", "DB"),
        ("'04/03/2026", "KR OTOMATIS LLG-CIMB NIAGA PT MAJU JAYA ABADI  INV 20455", "'0938", "2750000.00", "CR"),
        ("'05/03/2026", "BI-FAST CR TRANSFER   DR 002 JOKO SUSILO       ", "'0000", "2000000.00", "CR"),
        ("'06/03/2026", "TRSF E-BANKING CR 0603/FTSCY/WS95031 165000.00 PUTRI AYU", "'0000", "165000.00", "CR"),
        ("'PEND", "TRSF E-BANKING CR 0903/FTSCY/WS95031 350000.00hosting, bln maret     AGUS PRASETYO", "'0000", "350000.00", "CR"),
    ]
    opening = Decimal("15000000.00")
    bal = opening
    lines = ["Account No.,=,'0372543386", "Name,=,RINA WULANDARI      ", "Currency,=,IDR", "",
             "Date,Description,Branch,Amount,,Balance"]
    cr = db = Decimal(0)
    for d, desc, branch, amt, dirn in rows:
        a = Decimal(amt)
        bal += a if dirn == "CR" else -a
        cr += a if dirn == "CR" else 0
        db += a if dirn == "DB" else 0
        lines.append(f"{d},{desc},{branch},{amt},{dirn},{money(bal)}")
    lines += ["", f"Starting Balance,=,{money(opening)}", f"Credit,=,{money(cr)}",
              f"Debet,=,{money(db)}", f"Ending Balance,=,{money(bal)}"]
    (INBOX / "BCA_0372543386_2026-03-02_2026-03-09.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode())


def mandiri_kopra() -> None:
    rows = [  # (postdate, remarks, additional, credit, debit)
        ("02 March 2026 08:15:42", "bayar hosting        MCM InhouseTrf CS-CS DARI SITI RAHAYU Transfer Fee        bayar hosting90417",
         "bayar hostMCM InhouseTrf", "750000.00", "0.00"),
        ("04 March 2026 10:02:11", "CV SUMBER REJEKI ABADI J", "Trf Inw CN BANK DANAMON", "3300000.00", "0.00"),
        ("05 March 2026 23:59:59", "Biaya Administrasi", "Biaya Adm", "0.00", "12500.00"),
        ("06 March 2026 14:21:09", "20260306CENAIDJA010O0612345678           CENAIDJA/LINA MARLINA inv 2048090417",
         "20260306CENAIDJA010O0612345678 CENAIDJA/LINA MARLINA inv 2048090417", "350000.00", "0.00"),
    ]
    bal = Decimal("25000000.00")
    lines = ["AccountNo;Ccy;PostDate;Remarks;AdditionalDesc;Credit Amount;Debit Amount;Close Balance"]
    for when, rem, add, c, d in rows:
        bal += Decimal(c) - Decimal(d)
        lines.append(f"1370010136428;IDR;{when};{rem};{add};{c};{d};{money(bal)}")
    (INBOX / "Acc_Statement_1370010136428_020326_090326.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode())


def bni_bnidirect() -> None:
    lines = [
        "Post Date,Value Date,Branch,Journal No.,Description,Debit,Credit,",
        '03/03/26 09.12.40,03/03/26 09.12.40,0259,418273,TRANSFER DARI | PEMINDAHAN DARI 0281234567 PT WIJAYA NIAGA SENTOSA | INV 20440 20442,.00,"1,500,000.00",',
        '04/03/26 13.05.11,04/03/26 13.05.11,0259,419002,TRANSFER DARI | PEMINDAHAN DARI 0287654321 Ibu DEWI ANGGRAINI | INV 20410,.00,"450,000.00",',
        '05/03/26 23.59.00,05/03/26 23.59.00,0259,421002,BIAYA ADM,"11,000.00",.00,',
    ]
    (INBOX / "0495227030.CSV").write_bytes(("\r\n".join(lines) + "\r\n").encode())


def bri_estatement() -> None:
    header = ["ID", "NOREK", "TGL_TRAN", "TGL_EFEKTIF", "JAM_TRAN", "SEQ", "DESK_TRAN", "SALDO_AWAL_MUTASI",
              "MUTASI_DEBET", "MUTASI_KREDIT", "SALDO_AKHIR_MUTASI", "GLSIGN", "TRUSER", "KODE_TRAN",
              "KODE_TRAN_TELLER", "TRREMK", "TLBDS1", "TLBDS2", "REMARK_CUSTOM"]
    rows = [  # (datetime, jam, seq, desk, debit, credit)
        ("2026-03-03 08:15:42", "81542", "3120045", "NBMB RUDI HARTONO TO RINA WULANDARI ESB:NBMB:0001500F:260303812345", ".00", "600000.00"),
        ("2026-03-05 19:40:05", "194005", "3188702", "NBMB HENDRA GUNAWAN TO RINA WULANDARI ESB:NBMB:0001500F:260305447120", ".00", "890000.00"),
        ("2026-03-06 10:02:11", "100211", "1042236", "NBMB RUDI HARTONO TO RINA WULANDARI ESB:NBMB:0001500F:260306990812", ".00", "600000.00"),
    ]
    bal = Decimal("8000000.00")
    out = [",".join(f'"{h}"' for h in header)]
    for i, (when, jam, seq, desk, d, c) in enumerate(rows, start=1):
        before = bal
        bal = bal - Decimal(d) + Decimal(c)
        vals = [str(i), "002901124296507", when, when, jam, seq, desk, money(before), d, c, money(bal),
                "Cr" if c != ".00" else "Db", "", "", "", "", "", "", ""]
        out.append(",".join(f'"{v}"' for v in vals))
    (INBOX / "BRI_002901124296507_202603.csv").write_bytes(("\r\n".join(out) + "\r\n").encode())


INVOICES = [
    # invoice_no, client_name, company_name, email, issued_on, due_on, amount, status
    ("20410", "Dewi Anggraini", "", "dewi.anggraini@example.com", "2026-02-10", "2026-02-17", "450000.00", "Cancelled"),
    ("20431", "Budi Santoso", "", "budi.santoso@example.com", "2026-02-25", "2026-03-04", "1500000.00", "Unpaid"),
    ("20432", "Siti Rahayu", "CV Rahayu Grafika", "siti@rahayugrafika.example", "2026-02-26", "2026-03-05", "750000", "Unpaid"),
    ("20440", "Hendra Wijaya", "PT Wijaya Niaga Sentosa", "finance@wijayaniaga.example", "2026-02-27", "2026-03-06", "1250000.00", "Unpaid"),
    ("20442", "Hendra Wijaya", "PT Wijaya Niaga Sentosa", "finance@wijayaniaga.example", "2026-02-28", "2026-03-07", "250000.00", "Unpaid"),
    ("20450", "Agus Prasetyo", "", "agus.prasetyo@example.com", "2026-03-01", "2026-03-08", "350000.00", "Unpaid"),
    ("20455", "Yusuf Maulana", "PT Maju Jaya Abadi", "keuangan@majujaya.example", "2026-03-01", "2026-03-08", "2750000.00", "Unpaid"),
    ("20460", "Dewi Lestari", "", "dewi.lestari@example.com", "2026-03-01", "2026-03-08", "450000.00", "Unpaid"),
    ("20461", "Rina Susanti", "", "rina.susanti@example.com", "2026-03-02", "2026-03-09", "165000.00", "Unpaid"),
    ("20462", "Bambang Irawan", "", "bambang.irawan@example.com", "2026-03-02", "2026-03-09", "165000.00", "Unpaid"),
    ("20465", "Slamet Riyadi", "CV Sumber Rejeki Abadi Jaya", "admin@sumberrejeki.example", "2026-03-02", "2026-03-09", "3300000.00", "Unpaid"),
    ("20470", "Rudi Hartono", "", "rudi.hartono@example.com", "2026-03-02", "2026-03-09", "1200000.00", "Unpaid"),
    ("20475", "Hendra Gunawan", "", "hendra.gunawan@example.com", "2026-03-03", "2026-03-10", "890000.00", "Unpaid"),
    ("20480", "Lina Marlina", "", "lina.marlina@example.com", "2026-03-03", "2026-03-10", "300000.00", "Unpaid"),
    ("20490", "Yanti Permata", "", "yanti.permata@example.com", "2026-03-05", "2026-03-12", "500000.00", "Unpaid"),
    ("20491", "Wahyu Nugroho", "", "wahyu.nugroho@example.com", "2026-02-27", "2026-03-06", "250000.00", "Unpaid"),
    ("20495", "Eko Saputra", "", "eko.saputra@example.com", "2026-03-06", "2026-03-13", "1650000.00", "Unpaid"),
]

CONFIRMATIONS = [
    # ticket_id, submitted_at, name, email, subject, department, related_service, message,
    # invoice_no, bank_destination, amount, transfer_date, account_name, attachment
    ("481516", "2026-03-02 21:05:11", "Budi Santoso", "budi.santoso@example.com", "Konfirmasi Pembayaran Invoice #20431",
     "Billing", "tokobudi.example", "Sudah transfer ya min, mohon diproses", "#20431", "bca", "Rp 1.500.000", "02/03/2026", "BUDI SANTOSO", "bukti-tf.jpg"),
    ("481519", "2026-03-03 07:12:40", "Siti Rahayu", "siti@rahayugrafika.example", "konfirmasi bayar", "Billing",
     "rahayugrafika.example", "tf dr bri ke mandiri 750rb utk inv 20432", "INV 20432", "Mandiri 1370010136428", "750rb", "kemarin", "Sdri Siti Rahayu", ""),
    ("481522", "2026-03-03 09:30:02", "Hendra Wijaya", "finance@wijayaniaga.example", "Konfirmasi Pembayaran Invoice #20440 dan #20442",
     "Billing", "wijayaniaga.example", "Pembayaran 2 invoice sekaligus", "inv-20440, 20442", "BNI 46", "1,5 jt", "3 Maret 2026", "PT WIJAYA NIAGA SENTOSA", "transfer.pdf"),
    ("481530", "2026-03-09 20:14:55", "Yanti Permata", "yanti.permata@example.com", "Konfirmasi Pembayaran Invoice #20490",
     "Billing", "yantipermata.example", "sudah saya transfer malam ini", "20490", "bca", "Rp 500.000,-", "09/03/2026 20.10", "YANTI PERMATA", "struk.jpg"),
    ("481531", "2026-03-02 10:01:12", "Wahyu Nugroho", "wahyu.nugroho@example.com", "Konfirmasi Pembayaran Invoice #20491",
     "Billing", "wahyunugroho.example", "sudah transfer", "20491", "mandiri", "250.000", "02/03/2026", "WAHYU NUGROHO", ""),
    ("481540", "2026-03-05 20:02:31", "Hendra Gunawan", "hendra.gunawan@example.com", "Konfirmasi Pembayaran Invoice #20475",
     "Billing", "gunawan.example", "sudah tf", "20475", "BCA", "890.000", "05-03-26", "Hendra Gunawan", ""),
    ("481545", "2026-03-06 15:00:00", "Lina Marlina", "lina.marlina@example.com", "Konfirmasi Pembayaran Invoice #20480",
     "Billing", "linamarlina.example", "=HYPERLINK(\"http://example.invalid\",\"lihat bukti\")", "20480", "mandiri", "Rp300.000", "6 Mar 2026", "Lina Marlina", ""),
]


def billing() -> None:
    with (HERE / "invoices.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["invoice_no", "client_name", "company_name", "email", "issued_on", "due_on", "amount", "status"])
        w.writerows(INVOICES)
    with (HERE / "confirmations.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["ticket_id", "submitted_at", "name", "email", "subject", "department", "related_service",
                    "message", "invoice_no", "bank_destination", "amount", "transfer_date", "account_name",
                    "attachment"])
        w.writerows(CONFIRMATIONS)


if __name__ == "__main__":
    INBOX.mkdir(exist_ok=True)
    bca_individual()
    mandiri_kopra()
    bni_bnidirect()
    bri_estatement()
    billing()
