"""Exact money. ``Decimal`` with two places everywhere; integer sen inside the matcher.

One strict parse function per written syntax (formats.md §11.1): the syntax is fixed per
export layout, never guessed per value. Anything else raises :class:`ValueFormatError`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from reconcile.errors import ValueFormatError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_PLAIN = re.compile(r"-?([0-9]+(\.[0-9]{1,2})?|\.[0-9]{1,2})")
_EN = re.compile(r"-?([0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?|[0-9]+(\.[0-9]{1,2})?|\.[0-9]{1,2})")
_ID = re.compile(r"-?([0-9]{1,3}(\.[0-9]{3})+(,[0-9]{1,2})?|[0-9]+(,[0-9]{1,2})?|,[0-9]{1,2})")
# The value almost every export writes: ASCII digits, a point, two decimals, nothing around it.
# Decimal() of it already has two places, so the general path (clean, match, quantize) is skipped.
_TWO_PLACES = re.compile(r"[0-9]{0,16}\.[0-9]{2}")


MAX_INTEGER_DIGITS = 16  # NUMERIC(18, 2): up to 9,999,999,999,999,999.99


def _clean(text: str) -> str:
    return text.replace("\u00a0", " ").strip()


def _decimal(digits: str, text: str) -> Decimal:
    """Validated digits ('-1500000.5') -> Decimal with two places, within NUMERIC(18, 2)."""
    whole = digits.lstrip("-").split(".")[0].lstrip("0")
    if len(whole) > MAX_INTEGER_DIGITS:
        raise ValueFormatError(
            text, f"an amount of at most {MAX_INTEGER_DIGITS} digits before the decimals"
        )
    return Decimal(digits).quantize(CENT)


def parse_amount_plain(text: str, *, allow_empty: bool = False) -> Decimal:
    """'1500000.00' | '1500000' | '.00' | '-250.5' -> Decimal (no thousands separator)."""
    if _TWO_PLACES.fullmatch(text):
        return Decimal(text)
    s = _clean(text)
    if s == "" and allow_empty:
        return ZERO
    if not _PLAIN.fullmatch(s):
        raise ValueFormatError(text, "a plain amount such as 1500000.00")
    return _decimal(s, text)


def parse_amount_en(text: str, *, allow_empty: bool = False) -> Decimal:
    """'1,500,000.00' | '1500000.00' | '.00' -> Decimal (English separators)."""
    if _TWO_PLACES.fullmatch(text):
        return Decimal(text)
    s = _clean(text)
    if s == "" and allow_empty:
        return ZERO
    if not _EN.fullmatch(s):
        raise ValueFormatError(text, "an amount such as 1,500,000.00 or 1500000.00")
    return _decimal(s.replace(",", ""), text)


def parse_amount_id(text: str, *, allow_empty: bool = False) -> Decimal:
    """'1.500.000,00' | '1500000' | ',00' -> Decimal (Indonesian separators)."""
    s = _clean(text)
    if s == "" and allow_empty:
        return ZERO
    if not _ID.fullmatch(s):
        raise ValueFormatError(text, "an amount such as 1.500.000,00")
    return _decimal(s.replace(".", "").replace(",", "."), text)


def decimal_from_cell(value: object, *, what: str = "an amount") -> Decimal:
    """A spreadsheet cell (int, float, Decimal or str) -> Decimal with two places.

    Floats from Excel (``1500000.0000001``) are rounded to the cent through ``repr``,
    never used as floats afterwards.
    """
    if isinstance(value, bool):
        raise ValueFormatError(str(value), what)
    if isinstance(value, Decimal):
        return _decimal(f"{value:f}", f"{value:f}")
    if isinstance(value, int):
        return _decimal(str(value), str(value))
    if isinstance(value, float):
        try:
            return _decimal(f"{Decimal(repr(value)):f}", repr(value))
        except InvalidOperation as exc:
            raise ValueFormatError(repr(value), what) from exc
    if isinstance(value, str):
        return parse_amount_plain(value)
    raise ValueFormatError(repr(value), what)


def to_sen(amount: Decimal) -> int:
    """Decimal rupiah -> integer sen (exact; raises if more than two places)."""
    q = amount.quantize(CENT)
    if q != amount:
        raise ValueFormatError(str(amount), "at most two decimal places")
    return int(q * 100)


def from_sen(sen: int) -> Decimal:
    return (Decimal(int(sen)) / 100).quantize(CENT)


def format_amount(amount: Decimal) -> str:
    """Machine format for CSVs: plain, two places, no separators ('1500000.00')."""
    return f"{amount.quantize(CENT):f}"


def format_amount_id(amount: Decimal) -> str:
    """Indonesian display format: '1.500.000,00'."""
    q = amount.quantize(CENT)
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):f}".split(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{groups},{frac}"


def rupiah_text(sen: int) -> str:
    """Integer sen as a reason writes it: 1234500 -> 'Rp 12.345'; cents only when there are
    any ('Rp 12.345,50')."""
    rupiah, cents = divmod(int(sen), 100)
    text = f"{rupiah:,}".replace(",", ".")
    return "Rp " + (text if cents == 0 else f"{text},{cents:02d}")


def format_amount_en(amount: Decimal) -> str:
    """English display format: '1,500,000.00'."""
    q = amount.quantize(CENT)
    return f"{q:,.2f}"
