"""BNI descriptions: core-banking fields joined with `` | `` (formats.md §8.4).

Shapes read here (⟨…⟩ variable)::

    TRANSFER DARI | PEMINDAHAN DARI ⟨acct⟩ [Bpk|Ibu|Sdr|Sdri] ⟨NAME⟩[ | ⟨message⟩]
    TRF/PAY/TOP-UP ECHANNEL | PEMINDAHAN DARI ⟨acct⟩ | ⟨16 digits⟩ | ⟨NAME or terminal code⟩
    TRF/PAY/TOP-UP ECHANNEL | ⟨16 digits⟩ | ⟨20 digits⟩
    TRF/PAY/TOP-UP ECHANNEL KARTU 0000000000000000 BIZID ⟨yyyymmdd⟩⟨BIC⟩010 O⟨ref⟩ ⟨ref⟩
    SETOR TUNAI | ⟨message⟩ | ⟨NAME⟩
    TRANSFER DARI ⟨gateway⟩ …
    BIAYA ADM, BY TRX BIFAST, BY TRX ATM PRIMA, … (charges), BUNGA / PAJAK (interest, tax)

Pure: one string in, :class:`Remarks` out. Sub-fields are split first and only then have their
space runs collapsed (§8.1). Names keep their honorifics; clean-up happens when matching (§8.6).
"""

from __future__ import annotations

import functools
import re

from reconcile.model import Remarks

# Payment gateways that settle to the account in one sum: the "sender" is the gateway (§8.4).
GATEWAYS: tuple[str, ...] = (
    "MIDTRANS",
    "XENDIT",
    "DOKU",
    "FASPAY",
    "IPAYMU",
    "DUITKU",
    "ESPAY",
    "NICEPAY",
    "FLIP",
    "OY INDONESIA",
    "TRIPAY",
)

# Debits that never pay an invoice (§8.1, §8.4), and month-end interest and tax rows (§11A).
_FEE_PREFIXES: tuple[str, ...] = (
    "BIAYA ADM",
    "BIAYA TXN",
    "BIAYA TRANSFER",
    "BI-FAST DB BIAYA TXN",
    "BY TRX BIFAST",
    "BY TRX ATM PRIMA",
    "BY TRX",
    "KARTU DEBIT",
    "ADM KARTU",
)
_INTEREST_PREFIXES: tuple[str, ...] = ("BUNGA", "JASA GIRO", "INTEREST")
_TAX_PREFIXES: tuple[str, ...] = ("PAJAK", "PPH", "TAX")

# Remarks are frozen: the fixed answers are built once and shared
_FEE = Remarks(channel="FEE", is_fee=True)
_TAX = Remarks(channel="TAX", is_fee=True)
_INTEREST = Remarks(channel="INTEREST", is_fee=True)

_ECHANNEL = "TRF/PAY/TOP-UP ECHANNEL"
_PEMINDAHAN_DARI = re.compile(r"PEMINDAHAN DARI\s+(?P<acct>\d{6,20})(?:\s+(?P<name>.*))?", re.I)
_BIZID = re.compile(
    r"BIZID\s+(?P<yyyymmdd>\d{8})(?P<bic>[A-Z]{6}[A-Z0-9]{2})\d{3}\s*(?P<ref>O\S+)", re.I
)
_NAME_LIKE = re.compile(r"[A-Za-z][A-Za-z .',]*")
_WORD3 = re.compile(r"[A-Za-z]{3,}")
_ALL_DIGITS = re.compile(r"\d+")


def _squash(text: str) -> str:
    """Collapse every whitespace run (line breaks, U+00A0, padding) to one space, trimmed."""
    return " ".join(text.replace("\u00a0", " ").split())


def looks_like_name(text: str) -> bool:
    """'SITI RAHAYU' yes; 'S1BNXA4417      2301' (a terminal code) no (§8.4).

    Letters and spaces only (dots, apostrophes and commas of initials allowed), with at least
    one word of three or more letters.
    """
    s = _squash(text)
    return bool(s) and bool(_NAME_LIKE.fullmatch(s)) and bool(_WORD3.search(s))


def _split(description: str) -> list[str]:
    # str.split() already splits at line breaks and U+00A0: each part is _squash()ed
    return [" ".join(part.split()) for part in description.split("|")]


def _prefixed(text: str, prefixes: tuple[str, ...]) -> bool:
    """``text`` is one of ``prefixes``, or starts with one followed by a space."""
    exact, spaced = _PREFIX_FORMS.get(prefixes) or _prefix_forms(prefixes)
    upper = text.upper()
    return upper in exact or upper.startswith(spaced)


_PREFIX_FORMS: dict[tuple[str, ...], tuple[frozenset[str], tuple[str, ...]]] = {}


def _prefix_forms(prefixes: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    forms = (frozenset(prefixes), tuple(p + " " for p in prefixes))
    _PREFIX_FORMS[prefixes] = forms
    return forms


def _message(parts: list[str]) -> str | None:
    text = " | ".join(p for p in parts if p)
    return text or None


@functools.lru_cache(maxsize=4096)  # pure; fee and tax lines repeat verbatim all month
def parse_bni_remarks(description: str) -> Remarks:
    """What a BNI description says about the payer (formats.md §8.4); unknown shapes -> Remarks()."""
    parts = _split(description)
    head = parts[0].upper() if parts else ""
    rest = parts[1:]

    if _prefixed(head, _FEE_PREFIXES):
        return _FEE
    if _prefixed(head, _TAX_PREFIXES):
        return _TAX
    if _prefixed(head, _INTEREST_PREFIXES):
        return _INTEREST

    if head.startswith(_ECHANNEL):
        return _echannel(head, parts[0], rest)
    if head == "TRANSFER DARI":
        return _transfer_from_bni(rest)
    if head.startswith("TRANSFER DARI "):
        return _gateway(parts[0][len("TRANSFER DARI ") :], rest)
    if head in ("SETOR TUNAI", "SETORAN TUNAI"):
        return _cash_deposit(rest)
    if head.startswith(("TRANSFER KE", "PEMINDAHAN KE")):
        return Remarks(channel="TRANSFER", message=_message(rest))
    return Remarks()


def _transfer_from_bni(rest: list[str]) -> Remarks:
    """TRANSFER DARI | PEMINDAHAN DARI ⟨acct⟩ [hon] ⟨NAME⟩ [| ⟨message⟩]: BNI to BNI."""
    if not rest:
        return Remarks(channel="TRANSFER", sender_bank="BNI")
    m = _PEMINDAHAN_DARI.fullmatch(rest[0])
    if not m:
        return Remarks(channel="TRANSFER", sender_bank="BNI", message=_message(rest))
    return Remarks(
        channel="TRANSFER",
        sender_name=m["name"] or None,
        sender_bank="BNI",
        sender_account=m["acct"],
        message=_message(rest[1:]),
    )


def _echannel(head: str, first: str, rest: list[str]) -> Remarks:
    """ECHANNEL credits: from a BNI account (name only if it looks like one), or BI-FAST BIZID."""
    bizid = _BIZID.search(first)
    if bizid:
        # The BIC here was BNI's own in the one example, so it does not name the sender's bank.
        ymd = bizid["yyyymmdd"]
        return Remarks(channel="BI-FAST", initiated_ddmm=ymd[6:8] + ymd[4:6], bank_ref=bizid["ref"])
    if rest:
        m = _PEMINDAHAN_DARI.fullmatch(rest[0])
        if m:
            last = rest[-1] if len(rest) >= 3 else ""
            return Remarks(
                channel="ECHANNEL",
                sender_name=last if looks_like_name(last) else None,
                sender_bank="BNI",
                sender_account=m["acct"],
            )
        if all(_ALL_DIGITS.fullmatch(p) for p in rest):
            return Remarks(channel="ECHANNEL", bank_ref=rest[-1])
    return Remarks(channel="ECHANNEL", message=_message(rest))


def _cash_deposit(rest: list[str]) -> Remarks:
    """SETOR TUNAI | ⟨message⟩ | ⟨NAME⟩; with one field only, it is kept as the message."""
    if len(rest) >= 2:
        name = rest[-1]
        return Remarks(
            channel="CASH",
            sender_name=name if looks_like_name(name) else None,
            message=_message(rest[:-1] if looks_like_name(name) else rest),
        )
    return Remarks(channel="CASH", message=_message(rest))


def _gateway(after: str, rest: list[str]) -> Remarks:
    """TRANSFER DARI ⟨gateway⟩ …: a settlement; the sender is the gateway, not the customer."""
    upper = after.upper()
    for gateway in GATEWAYS:
        if upper == gateway or upper.startswith(gateway + " "):
            tail = after[len(gateway) :].strip()
            return Remarks(channel="GATEWAY", sender_name=gateway, message=_message([tail, *rest]))
    return Remarks(channel="TRANSFER", message=_message([after, *rest]))
