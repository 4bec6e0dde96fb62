"""What a BCA description (keterangan) tells: channel, sender, bank, message, initiation day.

formats.md §8.2. Every BCA layout (KlikBCA Individual and Bisnis, the HTML twin, the API) prints
the same descriptions, so one parser serves them all. The raw text is never changed; this only
derives :class:`reconcile.model.Remarks` from it. Shapes, one sample line each::

    TRSF E-BANKING CR 0203/FTSCY/WS95031 1500000.00INV 20431 BUDI SANTOSO   (BCA to BCA)
    TRSF E-BANKING CR 0503/FTFVA/WS95051 39358/HENDRA WIJAYA                (virtual account)
    TRSF E-BANKING CR 0603/ADSCY/2603061 88120456 DEWI LESTARI Wallet User  (app / wallet)
    TRSF E-BANKING CR  03/02 95031 bayar inv 20431     BUDI SANTOSO          (old KlikBCA)
    BI-FAST CR TANGGAL :07/03 TRANSFER   DR 002 MUHAMMAD RIZKY PRA           (BI-FAST)
    SWITCHING CR TRANSFER  DR 009 DEWI ANGGRAINI  BNI                        (ATM networks)
    KR OTOMATIS LLG-CIMB NIAGA PT MAJU JAYA ABADI  INV 20455                 (SKN/LLG clearing)
    KR OTOMATIS MIDTRANS STLM 260305 0012345                                 (gateway settlement)
    SETORAN TUNAI INV 20431                                                  (cash deposit)
    BIAYA ADM, BI-FAST DB BIAYA TXN, BY TRX BIFAST, KARTU DEBIT              (fees)

Sender names are fields 18 characters wide (§8.7); where the message runs into the name with a
single space, the last 18 characters are the name (§8.2 "name recipe"). Names never contain
digits or lower-case letters at BCA, so leading tokens of that window that do are given back to
the message (``INV20440 HENDRA WIJAYA`` -> message ``INV20440``, name ``HENDRA WIJAYA``).
"""

from __future__ import annotations

import functools
import re

from importers.remarks.banks import bank_from_code, bank_from_name, is_wallet
from reconcile.model import Remarks

NAME_WIDTH = 18

_SPACE_RUN = re.compile(r"\s{2,}")
_WHITESPACE = re.compile(r"\s+")
# End of the last 2+ whitespace run, and end of the last token holding a character BCA never
# prints in names (digits, lower case: names are capitals): one regex call each, no token loop.
_LAST_SPACE_RUN = re.compile(r".*\s{2}", re.DOTALL)
_LAST_NON_NAME_TOKEN = re.compile(r".*[0-9a-z\u00df-\u00ff]\S*", re.DOTALL)
_SWITCHING_SPLIT = re.compile(r"\s{2,}|\s+/")

_TRSF = re.compile(
    r"TRSF E-BANKING (?P<dir>CR|DB)\s+(?P<ddmm>\d{4})/(?P<kind>[A-Z]{5})/(?P<ws>\S+)\s?(?P<rest>.*)",
    re.DOTALL,
)
_TRSF_OLD = re.compile(
    r"TRSF E-BANKING (?P<dir>CR|DB)\s+(?P<dd>\d{2})/(?P<mm>\d{2})\s+(?P<ref>\d{5})\s+(?P<rest>.*)",
    re.DOTALL,
)
_AMOUNT_TOKEN = re.compile(r"\s*(?P<amount>\d[\d,]*\.\d{2})(?P<rest>.*)", re.DOTALL)
_VA_NAME = re.compile(r"\s*(?P<code>[^\s/]+)/(?P<name>.*)", re.DOTALL)
_WALLET = re.compile(
    r"\s*(?P<ref>\S+)\s+(?P<name>.+?)\s+(?P<words>Wallet User)\s*", re.I | re.DOTALL
)
_BIFAST = re.compile(
    r"BI-FAST CR\s+(?:TANGGAL\s*:\s*(?P<dd>\d{2})/(?P<mm>\d{2})\s+)?TRANSFER\s+DR\s+"
    r"(?P<code>\d{3}) (?P<rest>.*)",
    re.DOTALL,
)
_SWITCHING = re.compile(
    r"SWITCHING CR\s+(?:TRANSFER\s+)?DR\s+(?P<code>\d{3})\s+(?P<rest>.*)", re.DOTALL
)
_LLG = re.compile(r"KR OTOMATIS LLG-(?P<rest>.*)", re.DOTALL)
_KR_VA = re.compile(
    r"KR OTOMATIS\s+(?P<ddmm>\d{4})/FTFVA/(?P<ws>\S+)\s+(?P<code>[^\s/]+)/(?P<rest>.*)", re.DOTALL
)
_KR_OTOMATIS = re.compile(r"KR OTOMATIS\s+(?P<rest>.*)", re.DOTALL)
_SETORAN = re.compile(r"SETORAN(?:\s+(?P<how>TUNAI|VIA CDM))?(?P<rest>.*)", re.DOTALL)

# Payment gateways that settle into the account under KR OTOMATIS (the payer is the gateway).
GATEWAYS: tuple[str, ...] = (
    "MIDTRANS",
    "XENDIT",
    "DOKU",
    "FASPAY",
    "IPAYMU",
    "DUITKU",
    "NICEPAY",
    "ESPAY",
    "TRIPAY",
    "FLIP",
    "OY INDONESIA",
)

# Charges and internal movements (§8.1): never pay an invoice.
_FEE_PREFIXES: tuple[str, ...] = (
    "BIAYA",
    "BI-FAST DB BIAYA",
    "BY TRX",
    "KARTU DEBIT",
    "PAJAK",
    "ADM ",
)
_INTEREST_PREFIXES: tuple[str, ...] = ("BUNGA",)


def _flat(text: str) -> str:
    """Line breaks and NBSP become spaces; space runs are kept (they separate sub-fields)."""
    return text.replace("\r", " ").replace("\n", " ").replace("\u00a0", " ")


def _collapse(text: str) -> str | None:
    out = _WHITESPACE.sub(" ", text).strip()
    return out or None


def split_message_and_name(text: str) -> tuple[str | None, str | None]:
    """The §8.2 name recipe on the text after the amount token: (message, sender name).

    The name is the last 18 characters (after trimming trailing padding); a 2+ space run inside
    them starts the name after it; leading tokens with digits or lower case belong to the message.
    """
    body = text.rstrip()
    if not body.strip():
        return None, None
    start = max(0, len(body) - NAME_WIDTH)
    run = _LAST_SPACE_RUN.match(body, start)
    if run:
        start = run.end()
    # give tokens that cannot be part of a BCA name back to the message
    bad = _LAST_NON_NAME_TOKEN.match(body, start)
    cut = bad.end() if bad else start
    return _collapse(body[:cut]), (body[cut:].strip() or None)


# sender names repeat across a statement: remember the answer per name (pure, bounded)
_is_wallet = functools.lru_cache(maxsize=8192)(is_wallet)


def _wallet_safe(name: str | None, bank: str | None) -> tuple[str | None, str | None]:
    """An e-wallet as 'sender' means the payer is unknown (§8.1): name None, the wallet as bank."""
    if name is not None and _is_wallet(name):
        return None, name.split()[0].split("-")[0].upper()
    return name, bank


def _trsf(m: re.Match[str]) -> Remarks:
    ddmm, kind, rest = m["ddmm"], m["kind"], m["rest"]
    if m["dir"] == "DB":
        return Remarks(channel="TRANSFER", initiated_ddmm=ddmm)
    if kind == "ADSCY":
        w = _WALLET.fullmatch(rest)
        if w:
            name, bank = _wallet_safe(_collapse(w["name"]), None)
            return Remarks(
                channel="WALLET", sender_name=name, sender_bank=bank,
                initiated_ddmm=ddmm, bank_ref=w["ref"],
            )  # fmt: skip
        return Remarks(channel="WALLET", initiated_ddmm=ddmm, message=_collapse(rest))
    if kind == "FTFVA":
        va = _VA_NAME.match(rest)
        if va and not _AMOUNT_TOKEN.match(rest):
            name = _SPACE_RUN.split(va["name"].strip())[0] or None
            return Remarks(
                channel="VA", sender_name=name, sender_bank="BCA",
                initiated_ddmm=ddmm, bank_ref=va["code"],
            )  # fmt: skip
    amount = _AMOUNT_TOKEN.match(rest)
    after = amount["rest"] if amount else rest
    message, name = split_message_and_name(after)
    name, bank = _wallet_safe(name, "BCA")
    channel = "VA" if kind == "FTFVA" else "TRANSFER"
    return Remarks(
        channel=channel, sender_name=name, sender_bank=bank, message=message, initiated_ddmm=ddmm
    )


def _trsf_old(m: re.Match[str]) -> Remarks:
    ddmm = m["dd"] + m["mm"]
    if m["dir"] == "DB":
        return Remarks(channel="TRANSFER", initiated_ddmm=ddmm)
    message, name = split_message_and_name(m["rest"])
    name, bank = _wallet_safe(name, "BCA")
    return Remarks(
        channel="TRANSFER", sender_name=name, sender_bank=bank, message=message,
        initiated_ddmm=ddmm, bank_ref=m["ref"],
    )  # fmt: skip


def _bifast(m: re.Match[str]) -> Remarks:
    rest = m["rest"]
    name = rest[:NAME_WIDTH].strip() or None
    message = _collapse(rest[NAME_WIDTH:])
    bank = bank_from_code(m["code"]) or m["code"]
    name, bank = _wallet_safe(name, bank)
    ddmm = (m["dd"] + m["mm"]) if m["dd"] else None
    return Remarks(
        channel="BI-FAST", sender_name=name, sender_bank=bank, message=message, initiated_ddmm=ddmm
    )


def _switching(m: re.Match[str]) -> Remarks:
    rest = m["rest"].rstrip()
    parts = _SWITCHING_SPLIT.split(rest, maxsplit=1)
    name = parts[0].strip() or None
    trailing = parts[1].strip() if len(parts) > 1 else ""
    bank = bank_from_code(m["code"])
    if bank is None and trailing:
        named = bank_from_name(trailing)
        bank = named[0] if named else trailing
    name, bank = _wallet_safe(name, bank or m["code"])
    return Remarks(channel="SWITCHING", sender_name=name, sender_bank=bank)


def _llg(m: re.Match[str]) -> Remarks:
    rest = m["rest"]
    named = bank_from_name(rest)
    if named:
        bank, written = named
        after = rest[len(written) :]
    else:
        first, _, tail = rest.partition(" ")
        bank, after = first, " " + tail
    field = after[1:] if after.startswith(" ") else after
    sender, sender_bank = _wallet_safe(field[:NAME_WIDTH].strip() or None, bank)
    message = _collapse(field[NAME_WIDTH:])
    return Remarks(channel="SKN/LLG", sender_name=sender, sender_bank=sender_bank, message=message)


_GATEWAY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (gateway, re.compile(rf"(?<![A-Z]){re.escape(gateway)}(?![A-Z])")) for gateway in GATEWAYS
)


def _kr_otomatis(rest: str) -> Remarks:
    upper = rest.upper()
    for gateway, word in _GATEWAY_WORDS:
        if gateway in upper and word.search(upper):
            return Remarks(channel="GATEWAY", sender_name=gateway, message=_collapse(rest))
    return Remarks(channel="KR OTOMATIS", message=_collapse(rest))


def _setoran(m: re.Match[str]) -> Remarks:
    channel = "CDM" if m["how"] == "VIA CDM" else "CASH"
    return Remarks(channel=channel, message=_collapse(m["rest"]))


@functools.lru_cache(maxsize=4096)  # pure; fee and cash lines repeat verbatim all month
def parse_bca_remarks(description: str) -> Remarks:
    """Derive channel, sender name/bank, message, initiation DDMM and fee flag (formats.md §8.2)."""
    text = _flat(description).strip()
    upper = text.upper()
    if upper.startswith(_FEE_PREFIXES) or "BIAYA TXN" in upper:
        return Remarks(channel="FEE", is_fee=True)
    if upper.startswith(_INTEREST_PREFIXES):
        return Remarks(channel="INTEREST", is_fee=True)
    # each pattern below starts with its literal words: test those before running it
    if text.startswith("TRSF E-BANKING "):
        if m := _TRSF.fullmatch(text):
            return _trsf(m)
        if m := _TRSF_OLD.fullmatch(text):
            return _trsf_old(m)
    if text.startswith("BI-FAST CR") and (m := _BIFAST.fullmatch(text)):
        return _bifast(m)
    if upper.startswith("BI-FAST"):
        return Remarks(channel="BI-FAST")
    if text.startswith("SWITCHING CR") and (m := _SWITCHING.fullmatch(text)):
        return _switching(m)
    if upper.startswith("SWITCHING"):
        return Remarks(channel="SWITCHING")
    if text.startswith("KR OTOMATIS"):
        if m := _LLG.fullmatch(text):
            return _llg(m)
        if m := _KR_VA.fullmatch(text):
            pieces = _SPACE_RUN.split(m["rest"].strip(), maxsplit=1)
            return Remarks(
                channel="VA", sender_name=pieces[0] or None, sender_bank="BCA",
                message=_collapse(pieces[1]) if len(pieces) > 1 else None,
                initiated_ddmm=m["ddmm"], bank_ref=m["code"],
            )  # fmt: skip
        if m := _KR_OTOMATIS.fullmatch(text):
            return _kr_otomatis(m["rest"])
    if text.startswith("SETORAN") and (m := _SETORAN.fullmatch(text)):
        return _setoran(m)
    if upper.startswith(("TARIKAN ATM", "TARIKAN TUNAI")):
        return Remarks(channel="ATM" if "ATM" in upper else "CASH")
    return Remarks()
