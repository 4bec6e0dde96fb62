"""Mandiri descriptions (Kopra/MCM ``Remarks`` + ``AdditionalDesc``, Livin' ``Keterangan``).

The shapes of formats.md §8.3, tried in order; the first that fits decides::

    Biaya Administrasi                                           fee (is_fee)
    DARI 1370010136428 KE 1370012345678 AUTO TRANSFER            own sweep (is_fee)
    20260302CENAIDJA010O0212345678   CENAIDJA/SITI RAHAYU inv2043290417     Kopra BI-FAST
    Transfer BI Fast Dari BANK PERMATA\\nSITI RAHAYU 4123456789 -          Livin' BI-FAST
    Transfer dari BANK MANDIRI BUDI SANTOSO 1370098765432        Livin', from Mandiri
    Transfer dari Bank lain BANK BCA DANA-BUDI SANTOSO 88123     Livin', from another bank
    Transfer antar Mandiri DARI HENDRA WIJAYA 1370012345678      Livin', antar Mandiri
    INV 20431 hosting  MCM InhouseTrf  DARI BUDI SANTOSO Transfer Fee  INV 20431 hosting90417
    CV SUMBER REJEKI ABADI J  +  AdditionalDesc "Trf Inw CN BANK DANAMON"  inward clearing
    SA OB CA No Book  DARI SITI RAHAYU  +  second Description "PEMBAYARAN HOSTING"
    PRMA CR Transf 1370012345678 6032981234567890                ATM Prima

Pure: strings in, :class:`Remarks` out; the raw text is kept by the caller. Sender names and
messages come back with space runs collapsed; everything else is as printed.
"""

from __future__ import annotations

import re

from importers.remarks.banks import bank_from_bic, bank_from_name
from reconcile.model import Remarks

# Words that end a sender name even though they are written in capitals.
_NAME_STOP = frozenset({"INV", "INVOICE", "BAYAR", "PEMBAYARAN", "TAGIHAN", "PAYMENT"})
_NAME_TOKEN = re.compile(r"[A-Z][A-Z.,'&()/-]*")
_TRAILING_CODE = re.compile(r"\d{5}$")  # the Kopra branch/channel code glued to the end

_FEE = re.compile(
    r"(BIAYA|BY TRX|BI-FAST DB BIAYA|KARTU DEBIT|ADM\b|ADMINISTRASI|CHARGE)", re.IGNORECASE
)
_INTEREST_OR_TAX = {
    "BUNGA": "INTEREST",
    "BUNGA TABUNGAN": "INTEREST",
    "JASA GIRO": "INTEREST",
    "INTEREST": "INTEREST",
    "PAJAK": "TAX",
    "PAJAK BUNGA": "TAX",
    "PAJAK JASA GIRO": "TAX",
    "TAX": "TAX",
}
_SWEEP = re.compile(
    r"(?:DARI\s+(?P<src>\d{6,})\s+KE\s+\d{6,}\s+)?AUTO\s+TRANSFER|TRANSFER\s+OTOMATIS",
    re.IGNORECASE,
)
_BIFAST_REF = re.compile(
    r"(?P<ref>(?P<ymd>\d{8})[A-Z0-9]{8}\d{3} ?O\d*)\s+(?P<bic>[A-Z0-9]{8})/(?P<rest>.*)"
)
_LIVIN_BIFAST = re.compile(r"Transfer BI[- ]?Fast Dari\b", re.IGNORECASE)
_WALLET_BIFAST = re.compile(
    r"(?P<name>.+?)\s+(?P<phone>\+?\d{9,15})\s+[A-Z]*(?P<ref>(?P<ymd>\d{8})(?P<bic>[A-Z0-9]{8})\d{3}O\S*)"
)
_ACCOUNT_TAIL = re.compile(r"(?P<head>.*?)\s+(?P<acct>\d{6,20})(?:\s+-)?(?:\s+(?P<msg>.*))?")
_FROM_MANDIRI = re.compile(r"Transfer dari BANK MANDIRI\s+(?P<rest>.*)", re.IGNORECASE)
_FROM_OTHER_BANK = re.compile(r"Transfer dari Bank lain\s+(?P<rest>.*)", re.IGNORECASE)
_ANTAR_MANDIRI = re.compile(r"Transfer antar Mandiri\s+DARI\s+(?P<rest>.*)", re.IGNORECASE)
_INHOUSE = re.compile(r"(?P<copy>.*?)MCM InhouseTrf(?:\s+CS-CS)?\s+DARI\s+(?P<rest>.*)")
_INHOUSE_ADDITIONAL = re.compile(r"(?P<copy>.*?)\s*MCM InhouseTrf.*")
_INWARD_INLINE = re.compile(r"(?P<name>.+?)\s+-\s+(?P<code>\S+)\s+Trf Inw CN\s+(?P<bank>.+)")
_INWARD_ADDITIONAL = re.compile(r"Trf Inw CN\s+(?P<bank>.+)")
_OVERBOOKING = re.compile(r"SA OB CA No Book\s+(?P<way>DARI|KE)\s+(?P<name>.+)")
_PRIMA = re.compile(r"PRMA CR Transf\s+(?P<acct>\d+)(?:\s+(?P<card>\d+))?")


def _flat(text: str | None) -> str:
    """Line breaks and NBSP become spaces; space runs are kept (they separate sub-fields)."""
    if not text:
        return ""
    return re.sub(r"[\r\n\u00a0\t]", " ", text).strip()


def _squash(text: str | None) -> str | None:
    """Collapse space runs; an empty result is None."""
    if text is None:
        return None
    s = " ".join(text.split())
    return s or None


def _split_name(text: str) -> tuple[str | None, str]:
    """Leading run of capitalised name words, and the rest (the message, codes...)."""
    tokens = list(re.finditer(r"\S+", text))
    end = 0
    for tok in tokens:
        word = tok.group()
        if not _NAME_TOKEN.fullmatch(word) or word in _NAME_STOP:
            break
        end = tok.end()
    return _squash(text[:end]), text[end:].strip()


def _strip_code(text: str) -> str:
    """Drop the trailing five-digit Kopra code (never an invoice number on its own)."""
    return _TRAILING_CODE.sub("", text.rstrip()).rstrip()


def _ddmm(yyyymmdd: str) -> str:
    return yyyymmdd[6:8] + yyyymmdd[4:6]


def _fee(flat: str) -> Remarks | None:
    key = " ".join(flat.upper().split())
    if key in _INTEREST_OR_TAX:
        return Remarks(channel=_INTEREST_OR_TAX[key], is_fee=True)
    if _FEE.match(flat):
        return Remarks(channel="FEE", is_fee=True)
    return None


def _sweep(flat: str) -> Remarks | None:
    m = _SWEEP.fullmatch(flat)
    if not m:
        return None
    return Remarks(channel="INTERNAL", sender_account=m["src"], is_fee=True)


def _kopra_bifast(flat: str) -> Remarks | None:
    m = _BIFAST_REF.fullmatch(flat)
    if not m:
        return None
    name, rest = _split_name(_strip_code(m["rest"]))
    bic = m["bic"]
    return Remarks(
        channel="BI-FAST",
        sender_name=name,
        sender_bank=bank_from_bic(bic) or bic,
        message=_squash(rest),
        initiated_ddmm=_ddmm(m["ymd"]),
        bank_ref=m["ref"].replace(" ", ""),
    )


def _name_and_account(text: str) -> tuple[str | None, str | None, str | None]:
    """'SITI RAHAYU 002101234567508 - thanks' -> (name, account, message)."""
    m = _ACCOUNT_TAIL.fullmatch(text.strip())
    if not m:
        return _squash(text.rstrip(" -")), None, None
    return _squash(m["head"]), m["acct"], _squash(m["msg"])


def _livin_bifast(raw: str, flat: str) -> Remarks | None:
    m = _LIVIN_BIFAST.match(flat)
    if not m:
        return None
    rest = flat[m.end() :].strip()
    wallet = _WALLET_BIFAST.fullmatch(rest)
    if wallet:
        return Remarks(
            channel="BI-FAST",
            sender_name=_squash(wallet["name"]),
            sender_bank=bank_from_bic(wallet["bic"]) or wallet["bic"],
            sender_account=wallet["phone"],
            initiated_ddmm=_ddmm(wallet["ymd"]),
            bank_ref=wallet["ref"],
        )
    raw_rest = re.sub(r"^.*?Dari", "", raw.strip(), count=1, flags=re.IGNORECASE | re.DOTALL)
    bank_line, nl, after = raw_rest.partition("\n")
    if not bank_line.strip() or not nl:
        # no line break after the bank: the bank name is found by the list
        known = bank_from_name(rest)
        bank: str | None = None
        if known:
            bank, written = known
            rest = rest[len(written) :]
        name, account, message = _name_and_account(rest)
        return Remarks(
            channel="BI-FAST",
            sender_name=name,
            sender_bank=bank,
            sender_account=account,
            message=message,
        )
    bank_text = " ".join(bank_line.split())
    known = bank_from_name(bank_text)
    name, account, message = _name_and_account(_flat(after))
    return Remarks(
        channel="BI-FAST",
        sender_name=name,
        sender_bank=known[0] if known else bank_text.upper(),
        sender_account=account,
        message=message,
    )


def _livin_transfer(flat: str) -> Remarks | None:
    m = _FROM_MANDIRI.fullmatch(flat) or _ANTAR_MANDIRI.fullmatch(flat)
    if m:
        name, account, message = _name_and_account(m["rest"])
        return Remarks(
            channel="TRANSFER",
            sender_name=name,
            sender_bank="MANDIRI",
            sender_account=account,
            message=message,
        )
    m = _FROM_OTHER_BANK.fullmatch(flat)
    if not m:
        return None
    rest = m["rest"].strip()
    bank: str | None = None
    known = bank_from_name(rest)
    if known:
        bank, written = known
        rest = rest[len(written) :].strip()
    if rest.upper().startswith("DANA-"):
        name, ref, _ = _name_and_account(rest[5:])
        return Remarks(
            channel="TRANSFER", sender_name=name, sender_bank=bank or "DANA", bank_ref=ref
        )
    name, account, message = _name_and_account(rest)
    return Remarks(
        channel="TRANSFER",
        sender_name=name,
        sender_bank=bank,
        sender_account=account,
        message=message,
    )


def _inhouse(flat: str, additional: str) -> Remarks | None:
    m = _INHOUSE.fullmatch(flat)
    if not m:
        return None
    rest = m["rest"]
    before_fee, fee_marker, after_fee = rest.partition("Transfer Fee")
    name, tail = _split_name(before_fee)
    message = _squash(_strip_code(after_fee)) if fee_marker else _squash(_strip_code(tail))
    if message is None:
        message = _squash(m["copy"])
    if message is None and additional:
        copy = _INHOUSE_ADDITIONAL.fullmatch(additional)
        message = _squash(copy["copy"] if copy else additional)
    return Remarks(channel="TRANSFER", sender_name=name, sender_bank="MANDIRI", message=message)


def _inward_clearing(flat: str, additional: str) -> Remarks | None:
    m = _INWARD_INLINE.fullmatch(flat)
    code: str | None = None
    if m:
        name, bank_text, code = m["name"], m["bank"], m["code"]
    else:
        a = _INWARD_ADDITIONAL.fullmatch(additional)
        if not a or not flat:
            return None
        name, bank_text = flat, a["bank"]
    bank_text = " ".join(bank_text.split())
    known = bank_from_name(bank_text)
    return Remarks(
        channel="SKN/LLG",
        sender_name=_squash(name),
        sender_bank=known[0] if known else bank_text.upper(),
        bank_ref=code,
    )


def _overbooking(flat: str, additional: str) -> Remarks | None:
    m = _OVERBOOKING.fullmatch(flat)
    if not m:
        return None
    incoming = m["way"] == "DARI"
    return Remarks(
        channel="TRANSFER",
        sender_name=_squash(m["name"]) if incoming else None,
        sender_bank="MANDIRI" if incoming else None,
        message=_squash(additional),
    )


def _prima(flat: str) -> Remarks | None:
    m = _PRIMA.match(flat)
    if not m:
        return None
    return Remarks(channel="SWITCHING", sender_account=m["acct"])


def parse_mandiri_remarks(remarks: str, additional: str | None = None) -> Remarks:
    """What a Mandiri description says: sender, bank, channel, message, reference, fee flag.

    ``additional`` is Kopra's ``AdditionalDesc`` or MCM classic's second ``Description``.
    A description of no known shape yields an empty :class:`Remarks` (sender unknown).
    """
    flat = _flat(remarks)
    extra = _flat(additional)
    return (
        _fee(flat or extra)
        or _sweep(flat)
        or _kopra_bifast(flat)
        or _livin_bifast(remarks, flat)
        or _livin_transfer(flat)
        or _inhouse(flat, extra)
        or _inward_clearing(flat, extra)
        or _overbooking(flat, extra)
        or _prima(flat)
        or Remarks()
    )
