"""BRI descriptions: ``DESK_TRAN`` and, when present, ``REMARK_CUSTOM`` (formats.md §8.5, §11A).

Shapes read here (⟨…⟩ variable)::

    NBMB ⟨SENDER⟩ TO ⟨RECEIVER⟩ ESB:NBMB:0001500F:⟨ref⟩     BRImo, BRI to BRI
    IBIZ ⟨SENDER⟩ TO ⟨RECEIVER⟩ ESB:IBIZ:0001500F:⟨ref⟩     corporate internet banking
    ATMSTRPRM ⟨code⟩ ⟨stan⟩ ⟨acct⟩ ESB:NBMB:0005T00F:⟨ref⟩  ATM / Prima network, no name
    BFST⟨acct⟩ NBMB:⟨BIC⟩ ESB:NBMB:0008G00F:⟨ref⟩           BI-FAST (the BIC may be either side)
    BFST⟨acct⟩ ⟨NAME⟩:⟨BIC⟩                                 incoming BI-FAST with the sender
    BFST⟨acct⟩ ESB:BFST:0008N…                              incoming BI-FAST, no name

``REMARK_CUSTOM`` is kept whole as the message; when it is a BI-FAST sentence
(``Transfer BI-Fast dari BNI - 0517353155 - Bonar Nasution``, ``Transfer BI-Fast - Bonar``) the
sender's bank, account and name are read from it in preference to ``DESK_TRAN``.

The receiver in NBMB/IBIZ lines is the company's holder name, truncated: the sender is cut at
`` TO ⟨known receiver prefix⟩``, never at the first `` TO `` (a sender may contain "TO").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import replace

from importers.remarks.banks import bank_from_bic, bank_from_name
from importers.remarks.banks import is_wallet as _is_wallet_uncached
from reconcile.model import Remarks

_BRI_TO_BRI = re.compile(
    r"(?P<channel>NBMB|IBIZ)\s+(?P<parties>.*?)\s*(?:ESB:[A-Z]+:(?P<code>\w+):(?P<ref>\w+))?",
    re.I,
)
_ATM_PRIMA = re.compile(r"ATMSTRPRM\b.*?(?:ESB:[A-Z]+:\w+:(?P<ref>\w+))?", re.I)
_BFST = re.compile(
    r"BFST(?P<acct>\d+)(?:\s+(?P<who>[^:]*?):(?P<bic>[A-Z0-9]{8,11}))?"
    r"(?:\s+ESB:[A-Z]+:(?P<code>\w+)(?::(?P<ref>\w+))?)?\s*",
    re.I,
)
_CUSTOM_BIFAST = re.compile(
    r"Transfer\s+BI-?\s?Fast(?:\s+dari\s+(?P<bank>[^-]+?))?"
    r"(?:\s+-\s+(?P<acct>\d{6,20}))?\s+-\s+(?P<name>.+)",
    re.I,
)
_CHANNEL_WORDS = frozenset({"NBMB", "IBIZ", "ESB", "BFST"})
_FEE_PREFIXES: tuple[str, ...] = (
    "BIAYA ADM",
    "BIAYA ADMIN",
    "BIAYA TXN",
    "BIAYA TRANSFER",
    "BY TRX",
    "ADM BULANAN",
    "BIAYA KARTU",
    "KARTU DEBIT",
)
_MIN_RECEIVER_PREFIX = 4
# sender names repeat across a statement: remember the answer per name (pure, bounded)
is_wallet = functools.lru_cache(maxsize=8192)(_is_wallet_uncached)


def _squash(text: str | None) -> str:
    if not text:
        return ""
    return " ".join(text.split())  # str.split() also splits at U+00A0


def _prefixed(text: str, prefixes: tuple[str, ...]) -> bool:
    """``text`` is one of ``prefixes``, or starts with one followed by a space."""
    upper = text.upper()
    if prefixes is _FEE_PREFIXES:
        return upper in _FEE_EXACT or upper.startswith(_FEE_SPACED)
    return any(upper == p or upper.startswith(p + " ") for p in prefixes)


_FEE_EXACT = frozenset(_FEE_PREFIXES)
_FEE_SPACED = tuple(p + " " for p in _FEE_PREFIXES)


@functools.lru_cache(maxsize=64)
def _known_receivers(receiver_prefixes: tuple[str, ...]) -> list[str]:
    return [_squash(r).upper() for r in receiver_prefixes if _squash(r)]


def split_sender_receiver(parties: str, receiver_prefixes: Sequence[str]) -> str | None:
    """'PT TOKO TO BARU TO RINA WULANDA' -> 'PT TOKO TO BARU'; None when no known receiver.

    The receiver text may be a truncation of a known receiver (or the other way round).
    """
    known = (
        _known_receivers(receiver_prefixes)
        if isinstance(receiver_prefixes, tuple)
        else [_squash(r).upper() for r in receiver_prefixes if _squash(r)]
    )
    upper = parties.upper()
    start = 0
    while True:
        at = upper.find(" TO ", start)
        if at < 0:
            return None
        receiver = upper[at + 4 :].strip()
        for name in known:
            if len(receiver) >= min(_MIN_RECEIVER_PREFIX, len(name)) and (
                name.startswith(receiver) or receiver.startswith(name)
            ):
                sender = parties[:at].strip()
                return sender or None
        start = at + 1


def parse_bri_remarks(
    desk_tran: str,
    remark_custom: str | None = None,
    receiver_prefixes: Sequence[str] = ("RINA WULANDARI",),
) -> Remarks:
    """What a BRI row says about the payer (formats.md §8.5, §11A); unknown shapes -> channel None."""
    desk = _squash(desk_tran)
    custom = _squash(remark_custom) or None
    upper = desk.upper()

    if _prefixed(upper, _FEE_PREFIXES):
        return Remarks(channel="FEE", message=custom, is_fee=True)
    if upper.startswith(("BUNGA", "PAJAK")):
        return Remarks(
            channel="INTEREST" if upper.startswith("BUNGA") else "TAX", message=custom, is_fee=True
        )

    # each pattern starts with its channel word (only these letters match it ignoring case)
    first = upper[:1]
    m = _BRI_TO_BRI.fullmatch(desk) if first in ("N", "I", "\u0130") else None
    if m:
        sender = split_sender_receiver(m["parties"], receiver_prefixes)
        return _with_custom(
            Remarks(
                channel="TRANSFER",
                sender_name=None if is_wallet(sender) else sender,
                sender_bank="BRI",
                bank_ref=m["ref"],
            ),
            custom,
        )
    m = _ATM_PRIMA.fullmatch(desk) if first == "A" else None
    if m:
        return _with_custom(Remarks(channel="SWITCHING", bank_ref=m["ref"]), custom)
    m = _BFST.fullmatch(desk) if first == "B" else None
    if m:
        return _with_custom(_bifast(m), custom)
    if upper.startswith(("SETOR TUNAI", "SETORAN TUNAI", "SETORAN")):
        return _with_custom(Remarks(channel="CASH"), custom)
    return _with_custom(Remarks(), custom)


def _bifast(m: re.Match[str]) -> Remarks:
    who = _squash(m["who"])
    if who and who.upper() not in _CHANNEL_WORDS:
        # ``BFST⟨acct⟩ ⟨NAME⟩:⟨BIC⟩``: an incoming credit naming its sender (§11A)
        return Remarks(
            channel="BI-FAST",
            sender_name=None if is_wallet(who) else who,
            sender_bank=bank_from_bic(m["bic"]) or m["bic"].upper(),
            sender_account=m["acct"],
            bank_ref=m["ref"],
        )
    # ``BFST⟨acct⟩ NBMB:⟨BIC⟩``: seen outgoing, so neither the account nor the BIC is the sender's
    return Remarks(channel="BI-FAST", bank_ref=m["ref"])


def _with_custom(base: Remarks, custom: str | None) -> Remarks:
    """REMARK_CUSTOM: always the message; a BI-FAST sentence also names the sender."""
    if custom is None:
        return base
    m = _CUSTOM_BIFAST.fullmatch(custom)
    if not m:
        return replace(base, message=custom)
    bank_text = _squash(m["bank"])
    named = bank_from_name(bank_text) if bank_text else None
    name = _squash(m["name"])
    return Remarks(
        channel="BI-FAST",
        sender_name=None if is_wallet(name) else name,
        sender_bank=(named[0] if named else bank_text or None) or base.sender_bank,
        sender_account=m["acct"] or base.sender_account,
        message=custom,
        bank_ref=base.bank_ref,
        is_fee=base.is_fee,
    )
