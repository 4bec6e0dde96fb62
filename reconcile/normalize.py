"""What customers type in a payment confirmation, read exactly or refused (formats.md §10).

Four small pure functions, one per typed field of the confirmation form:

* :func:`parse_typed_amount`: ``'Rp 1.500.000'``, ``'1,5 jt'``, ``'150rb'`` -> ``Decimal``;
* :func:`parse_typed_date`: ``'12/03/2026'``, ``'12 Maret 2026 jam 21:30'`` -> :class:`TypedDate`;
* :func:`find_invoice_numbers`: the ``invoice_no`` field, then the subject, then the message;
* :func:`resolve_destination`: ``'bca'``, ``'BNI 46'``, ``'137-00-1013642-8'`` -> a company account.

A value that cannot be taken as typed raises :class:`Unreadable` (a ``ValueFormatError``) whose
message quotes the value and says what is wrong; nothing is guessed. No clock, no files: the
run date and the ticket's submission time are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import numpy as np
import pandas as pd

from reconcile.config import Account
from reconcile.dates import year_for_day_month
from reconcile.errors import ValueFormatError
from reconcile.money import CENT

MINIMUM_TYPED_AMOUNT = Decimal("10000")
MAXIMUM_TYPED_AMOUNT = Decimal("1000000000000")  # Rp 1 triliun: beyond it, a typing slip


class Unreadable(ValueFormatError):
    """A typed value refused for a stated reason: ``'kemarin' is a relative date; expected …``."""

    def __init__(self, value: str, problem: str, expected: str) -> None:
        super().__init__(value, expected)
        self.problem = problem
        self.args = (f"{value!r} {problem}; expected {expected}",)


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower()


# ---------------------------------------------------------------------------------------------
# amounts (formats.md §10.2)

AMOUNT_EXPECTED = "one amount in rupiah such as Rp 1.500.000, 1.500.000,00, 1,5 jt or 150rb"

_CURRENCY = re.compile(r"\b(rupiah|idr|rp)\b\.?|rp\.?(?=\d)")
_MULTIPLIERS = {
    "rb": Decimal(1000),
    "ribu": Decimal(1000),
    "k": Decimal(1000),
    "jt": Decimal(1000000),
    "juta": Decimal(1000000),
}
_WITH_MULTIPLIER = re.compile(r"(\d+(?:[.,]\d+)?)(rb|ribu|k|jt|juta)\.?")
_BOTH_MARKS = re.compile(r"\d{1,3}(\.\d{3})+,\d{1,2}|\d{1,3}(,\d{3})+\.\d{1,2}")
_REPEATED_MARK = re.compile(r"\d{1,3}(\.\d{3}){2,}|\d{1,3}(,\d{3}){2,}")
_SINGLE_THOUSANDS = re.compile(r"\d{1,3}[.,]\d{3}")
_SINGLE_DECIMAL = re.compile(r"\d+[.,]\d{1,2}")
_PLAIN_DIGITS = re.compile(r"\d+")
_AMBIGUOUS_M = re.compile(r"\d(m|t)\.?$")
_NUMBER_WORDS = re.compile(
    r"\b(se|satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|sebelas|"
    r"puluh|ratus|seratus|ribu|seribu|juta|sejuta|miliar|milyar)\b"
)
_DIGIT_GROUPS = re.compile(r"\d[\d.,]*")


def parse_typed_amount(text: str) -> Decimal:
    """An amount as a customer types it -> exact rupiah with two places.

    ``'Rp 1.500.000'`` -> 1500000.00, ``'1,5 jt'`` -> 1500000.00, ``'Rp1,500,000.-'`` ->
    1500000.00. Two amounts, ``M`` (juta or miliar?), words and amounts below Rp 10.000 raise
    :class:`Unreadable`; anything else unreadable raises ``ValueFormatError``.
    """
    s = _clean(text)
    if not s:
        raise ValueFormatError(text, AMOUNT_EXPECTED)
    if not re.search(r"\d", s):
        if _NUMBER_WORDS.search(s):
            raise Unreadable(text, "is spelled out in words", "the amount in digits")
        raise ValueFormatError(text, AMOUNT_EXPECTED)
    s = _CURRENCY.sub(" ", s)
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"([.,]-|-|[.,]=)$", "", s)
    if len(_DIGIT_GROUPS.findall(s)) > 1:
        raise Unreadable(text, "holds more than one amount", "the one amount transferred")
    if _AMBIGUOUS_M.search(s):
        raise Unreadable(
            text, "uses M or T, which may mean juta or miliar", "the amount in full digits"
        )
    value = _amount_value(s)
    if value is None:
        raise ValueFormatError(text, AMOUNT_EXPECTED)
    if value >= MAXIMUM_TYPED_AMOUNT:
        raise Unreadable(text, "is Rp 1 triliun or more", "the amount transferred")
    if value != value.quantize(CENT):
        raise Unreadable(text, "has more than two decimal places", AMOUNT_EXPECTED)
    if value < MINIMUM_TYPED_AMOUNT:
        raise Unreadable(text, "is below Rp 10.000", "the amount transferred in full")
    return value.quantize(CENT)


def _amount_value(s: str) -> Decimal | None:
    m = _WITH_MULTIPLIER.fullmatch(s)
    if m:
        return Decimal(m[1].replace(",", ".")) * _MULTIPLIERS[m[2]]
    if _BOTH_MARKS.fullmatch(s):
        decimal_mark = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        return Decimal(s.replace(thousands, "").replace(decimal_mark, "."))
    if _REPEATED_MARK.fullmatch(s) or _SINGLE_THOUSANDS.fullmatch(s):
        return Decimal(s.replace(".", "").replace(",", ""))
    if _SINGLE_DECIMAL.fullmatch(s):
        return Decimal(s.replace(",", "."))
    if _PLAIN_DIGITS.fullmatch(s):
        return Decimal(s)
    return None


# The common well-formed ways of typing an amount, lower-cased (formats.md §10.2): an optional
# 'rp'/'idr', then Indonesian groups ('1.500.000', '1.500.000,00', '1.500.000,-'), English groups
# ('1,500,000', '1,500,000.00', '1,500,000.-') or plain digits of Rp 10.000 and more.
_COMMON_TYPED_AMOUNT = (
    r"(?:rp\.? ?|idr(?:\. ?| ))?"
    r"(?:(?P<id>[1-9][0-9]{0,2}(?:\.[0-9]{3}){1,3})(?:,(?P<id_sen>[0-9]{2})|,-)?"
    r"|(?P<en>[1-9][0-9]{0,2}(?:,[0-9]{3}){1,3})(?:\.(?P<en_sen>[0-9]{2})|\.-)?"
    r"|(?P<plain>[1-9][0-9]{4,11}))"
)


def typed_amounts_sen(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer sen of the texts typed in a common form, in bulk, and which texts those are.

    Where the mask is True the sen equal ``to_sen(parse_typed_amount(text))`` exactly (string
    arithmetic, never float); the other texts need :func:`parse_typed_amount` itself.
    """
    matched = texts.astype(object).str.lower().str.fullmatch(_COMMON_TYPED_AMOUNT)
    mask = matched.fillna(False).to_numpy(dtype=bool).copy()
    sen = np.zeros(len(texts), dtype=np.int64)
    if not mask.any():
        return sen, mask
    found = texts[mask].astype(object).str.lower().str.extract(_COMMON_TYPED_AMOUNT)
    rupiah = (
        found["id"].fillna(found["en"]).fillna(found["plain"]).str.replace(r"[.,]", "", regex=True)
    )
    cents = found["id_sen"].fillna(found["en_sen"]).fillna("00")
    value = rupiah.astype(np.int64).to_numpy() * 100 + cents.astype(np.int64).to_numpy()
    # below Rp 10.000 is refused with a reason: leave those to parse_typed_amount
    in_range = value >= int(MINIMUM_TYPED_AMOUNT) * 100
    sen[mask] = np.where(in_range, value, 0)
    mask[mask] = in_range
    return sen, mask


_AMOUNT_IN_TEXT = re.compile(
    r"(?:\b(?:rp|idr)\.?\s*\d[\d.,]*(?:[.,]-)?)|(?:\b\d[\d.,]*\s*(?:rb|ribu|jt|juta|k)\b\.?)",
    re.IGNORECASE,
)


def find_typed_amount(text: str) -> Decimal | None:
    """The one amount marked by ``Rp``/``IDR`` or a multiplier in free text, or None.

    Raises :class:`Unreadable` when the text names two different amounts.
    """
    found = {parse_typed_amount(m[0]) for m in _AMOUNT_IN_TEXT.finditer(text)}
    if len(found) > 1:
        raise Unreadable(text, "mentions more than one amount", "one amount")
    return found.pop() if found else None


# ---------------------------------------------------------------------------------------------
# dates (formats.md §10.3)

DATE_EXPECTED = "a transfer date such as 02/03/2026, 2 Maret 2026 or 2026-03-02"

MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "pebruari": 2, "feb": 2, "peb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agt": 8, "agu": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_RELATIVE = re.compile(
    r"\b(kemarin|kemaren|kmrn|kmarin|hari ini|hr ini|tadi|semalam|tadi malam|minggu lalu|"
    r"bulan lalu|barusan|besok|lusa|yesterday|today|tonight|last week)\b"
)
_WEEKDAY = re.compile(
    r"\b(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\b,?"
)
_DATE_WORDS = re.compile(r"^(tanggal|tgl\.?|tf|transfer)\s*:?\s*")
_TIME = r"(?:(?:,|\s|t)\s*(?:jam|pukul|pkl\.?|pk\.?)?\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?\s*(?:wib|wita|wit)?)?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME)
_NUMERIC = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_NUMERIC_NO_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})" + _TIME)
_NAMED = re.compile(
    rf"(\d{{1,2}})\s*[- ]?\s*({_MONTH_NAMES})\.?(?:\s*[- ]?\s*(\d{{4}}|\d{{2}}))?" + _TIME
)


@dataclass(frozen=True, slots=True)
class TypedDate:
    """A transfer date as typed: the WIB calendar date, and the time when one was typed."""

    on: date
    at: time | None = None


def parse_typed_date(text: str, submitted_at: datetime, as_of: date) -> TypedDate:
    """A date as a customer types it, day first, never after submitted_at nor the run date.

    Year-less dates take the year of ``submitted_at`` (the year before if that falls after
    it). Relative words (``kemarin``), impossible dates (``03/25/2026``) and future dates raise
    :class:`Unreadable`.
    """
    s = _clean(text)
    if not s:
        raise ValueFormatError(text, DATE_EXPECTED)
    if _RELATIVE.search(s):
        raise Unreadable(text, "is a relative date", DATE_EXPECTED)
    s = _WEEKDAY.sub(" ", s)
    s = _DATE_WORDS.sub("", " ".join(s.split()))
    year: int | None
    if m := _ISO.fullmatch(s):
        year, month, day, clock = int(m[1]), int(m[2]), int(m[3]), m.groups()[3:]
    elif m := _NUMERIC.fullmatch(s):
        day, month, year, clock = int(m[1]), int(m[3]), _full_year(m[4]), m.groups()[4:]
    elif m := _NAMED.fullmatch(s):
        day, month, clock = int(m[1]), MONTHS[m[2]], m.groups()[3:]
        year = _full_year(m[3]) if m[3] else None
    elif m := _NUMERIC_NO_YEAR.fullmatch(s):
        day, month, year, clock = int(m[1]), int(m[2]), None, m.groups()[2:]
    else:
        raise ValueFormatError(text, DATE_EXPECTED)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise Unreadable(text, "is not a real date read day first", "dd/mm/yyyy")
    try:
        on = (
            date(year, month, day)
            if year is not None
            else year_for_day_month(day, month, submitted_at.date(), text)
        )
    except (ValueError, ValueFormatError) as exc:
        raise Unreadable(text, "is not a real date read day first", "dd/mm/yyyy") from exc
    at = _typed_time(text, clock)
    if on > submitted_at.date():
        raise Unreadable(
            text,
            f"is after the confirmation was submitted ({submitted_at:%Y-%m-%d %H:%M})",
            "the date the money was sent",
        )
    if on > as_of:
        raise Unreadable(
            text, f"is after the run date ({as_of.isoformat()})", "the date the money was sent"
        )
    return TypedDate(on, at)


def _full_year(digits: str) -> int:
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _typed_time(text: str, clock: Sequence[str | None]) -> time | None:
    if clock[0] is None or clock[1] is None:
        return None
    hour, minute, second = int(clock[0]), int(clock[1]), int(clock[2] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Unreadable(text, "has an impossible time of day", "a time such as 21:30")
    return time(hour, minute, second)


# Common well-formed dates with a year, lower-cased (formats.md §10.3): '12/03/2026', '12.3.26',
# '12-3-26', '2026-03-12', '12 maret 2026'.
_COMMON_TYPED_DATE = (
    rf"(?P<d>[0-9]{{1,2}})(?P<sep>[/.\-])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<y>[0-9]{{4}}|[0-9]{{2}})"
    rf"|(?P<iso_y>[0-9]{{4}})-(?P<iso_m>[0-9]{{1,2}})-(?P<iso_d>[0-9]{{1,2}})"
    rf"|(?P<named_d>[0-9]{{1,2}}) (?P<month>{_MONTH_NAMES}) (?P<named_y>[0-9]{{4}}|[0-9]{{2}})"
)


def typed_dates_with_year(texts: pd.Series) -> np.ndarray:
    """The day each text names when typed in a common form with its year, in bulk
    (``datetime64[D]``); NaT where it is not (another form, or not a real date).

    Where a day is given, ``parse_typed_date(text, submitted_at, as_of).on`` is that day
    whenever it is on or before both ``submitted_at`` and ``as_of``; otherwise
    :func:`parse_typed_date` itself must read the text (and will say what is wrong).
    """
    found = texts.astype(object).str.lower().str.extract(rf"^(?:{_COMMON_TYPED_DATE})$")
    year_text = found["y"].fillna(found["iso_y"]).fillna(found["named_y"])
    year = year_text.astype("Int64")
    year = year.where(year_text.str.len() != 2, year + 2000)  # a two-digit year is 20yy
    month = found["m"].fillna(found["iso_m"]).astype("Int64")
    month = month.fillna(found["month"].map(MONTHS).astype("Int64"))
    day = found["d"].fillna(found["iso_d"]).fillna(found["named_d"]).astype("Int64")
    # within the frame's datetime64[ns]; other years are left to parse_typed_date
    given = (year.notna() & month.notna() & day.notna() & (year >= 1970) & (year <= 2200)).to_numpy(
        dtype=bool, na_value=False
    )
    days = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[D]")
    if given.any():
        parts = pd.DataFrame({"year": year[given], "month": month[given], "day": day[given]})
        days[given] = pd.to_datetime(parts.astype("int64"), errors="coerce").to_numpy(
            dtype="datetime64[D]"
        )
    return days


_DATE_IN_TEXT = re.compile(
    rf"\b(\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}([/.\-])\d{{1,2}}\2(?:\d{{4}}|\d{{2}})"
    rf"|\d{{1,2}}\s+(?:{_MONTH_NAMES})\.?(?:\s+\d{{4}})?)\b",
    re.IGNORECASE,
)


def find_typed_date(text: str, submitted_at: datetime, as_of: date) -> TypedDate | None:
    """The one date written in free text, or None; two different dates raise Unreadable."""
    found = {parse_typed_date(m[1], submitted_at, as_of) for m in _DATE_IN_TEXT.finditer(text)}
    days = {d.on for d in found}
    if len(days) > 1:
        raise Unreadable(text, "mentions more than one date", "one transfer date")
    return min(found, key=lambda d: d.at or time()) if found else None


# ---------------------------------------------------------------------------------------------
# invoice numbers (formats.md §10.4)


@dataclass(frozen=True, slots=True)
class InvoiceNumbers:
    """Invoice numbers read from a confirmation, and what was wrong with the others."""

    numbers: tuple[str, ...]  # as written in the invoice list, only ones that exist
    source: str  # "invoice_no" | "subject" | "message" | "" (none found)
    unknown: tuple[str, ...]  # claimed numbers that are not in the invoice list
    notes: tuple[str, ...]  # each names the field and the value


_NOISE_PATTERNS = [
    # dates, times
    r"\d{4}-\d{1,2}-\d{1,2}",
    r"(?<!\d)\d{1,2}([/.\-])\d{1,2}\1(?:\d{4}|\d{2})(?!\d)",
    rf"(?<!\d)\d{{1,2}}\s*(?:{_MONTH_NAMES})\b\.?(?:\s*\d{{4}})?",
    r"(?<!\d)\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?!\d)",
    # amounts
    r"\b(?:rp|idr)\.?\s*\d[\d.,]*",
    r"(?<![\d.,])\d[\d.,]*\s*(?:rb|ribu|jt|juta|k)\b",
    r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?(?![\d.,]*\d)",
    # phone numbers and separated account numbers
    r"(?:\+62|\b62|\b0)8\d{1,3}(?:[\s.-]?\d{3,4}){2,3}",
    r"(?<!\d)\d+(?:-\d+){2,}(?!\d)",
    r"(?<!\d)\d{3,4}(?: \d{3,4}){2,}(?!\d)",
    # the old brand "BNI 46"
    r"\bbni\s*46\b",
]
_NOISE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS), re.IGNORECASE)
_NUMBER_RUN = re.compile(
    r"(?:(#|\binv(?:oice)?\b\.?|\bno\b\.?)\s*[-/#:.]?\s*(?:inv(?:oice)?\s*[-/#:.]?\s*)?)?(?<!\d)(\d+)(?!\d)",
    re.IGNORECASE,
)


def invoice_key(invoice_no: str) -> str:
    """The digits of an invoice number without leading zeros: '#020431' -> '20431'."""
    digits = "".join(ch for ch in invoice_no if ch.isdigit())
    return digits.lstrip("0") or digits


NumberRuns = tuple[tuple[bool, str], ...]  # (marked with '#'/'inv'/'no', digits without leading 0)

# The common ways of writing invoice numbers (formats.md §10.4): '#20431', 'INV 20431',
# 'inv-20431', 'Invoice #20431', 'No. Inv: 20431' or bare, several joined by ', ', ' & ', ' dan ',
# ' / ' or ';', optionally after words without digits ('Pembayaran inv 20431'; then marked).
# None of these holds noise (§10.4 step 2): runs of three digits or more that start neither
# with '0' nor with '628' and six digits more (phone numbers) are no date, time or amount.
_INVOICE_MARK = r"#|inv[ -]|invoice ?#|invoice |no\. ?inv: ?|no\. ?inv "
_INVOICE_REF = rf"({_INVOICE_MARK})?((?!628\d{{7}})[1-9]\d{{2,15}})"
_COMMON_INVOICE_REFS = re.compile(
    rf"(?:\D* (?={_INVOICE_MARK}))?{_INVOICE_REF}(?:(?:, ?| ?& ?| dan | ?/ ?| ?; ?){_INVOICE_REF})*",
    re.IGNORECASE,
)
_ONE_INVOICE_REF = re.compile(_INVOICE_REF, re.IGNORECASE)
_ANY_DIGIT = re.compile(r"\d")


def number_runs(text: str) -> NumberRuns:
    """The digit runs of text that are not dates, amounts, phone or account numbers, in order."""
    if not _ANY_DIGIT.search(text):
        return ()
    if _COMMON_INVOICE_REFS.fullmatch(text):
        return tuple((m[1] is not None, m[2]) for m in _ONE_INVOICE_REF.finditer(text))
    return scanned_number_runs(text)


def scanned_number_runs(text: str) -> NumberRuns:
    """:func:`number_runs` the long way, whatever the text: noise removed, then every run."""
    cleaned = _NOISE.sub(" ", text)
    return tuple((bool(m[1]), m[2].lstrip("0") or m[2]) for m in _NUMBER_RUN.finditer(cleaned))


def _claimed_numbers(runs: NumberRuns, digits: tuple[int, int], *, marked_only: bool) -> list[str]:
    low, high = digits
    out: list[str] = []
    for marked, run in runs:
        if not (low <= len(run) <= high):
            continue
        if marked_only and not marked:
            continue
        if run not in out:
            out.append(run)
    return out


def find_invoice_numbers(
    field: str,
    subject: str,
    message: str,
    known: Mapping[str, str],
    digits: tuple[int, int],
) -> InvoiceNumbers:
    """Invoice numbers from the field, else the subject, else the message (formats.md §10.4).

    ``known`` maps :func:`invoice_key` to the invoice number as the invoice list writes it.
    In the field every digit run of the right length is a claim; in the subject and the
    message a bare number counts when it exists, a marked one (``#``, ``INV``, ``no``) is a
    claim. A claimed number that does not exist is reported, and so is a field that names
    other invoices than the subject.
    """
    return invoice_numbers_from_claims(
        (field, subject, message),
        (
            text_claims(number_runs(field), known, digits, field=True),
            text_claims(number_runs(subject), known, digits, field=False),
            text_claims(number_runs(message), known, digits, field=False),
        ),
        digits,
    )


@dataclass(frozen=True, slots=True)
class TextClaims:
    """What one text says about invoice numbers, against the invoice list."""

    found: tuple[str, ...]  # listed numbers (as the list writes them) among its runs
    unknown: tuple[str, ...]  # numbers it claims that are not in the list
    any_number: bool  # it holds a run of the invoice numbers' length at all


def text_claims(
    runs: NumberRuns, known: Mapping[str, str], digits: tuple[int, int], *, field: bool
) -> TextClaims:
    """The claims of one text: in the field every run is a claim, elsewhere a marked one."""
    every = _claimed_numbers(runs, digits, marked_only=False)
    claimed = every if field else _claimed_numbers(runs, digits, marked_only=True)
    return TextClaims(
        tuple(known[k] for k in every if k in known),
        tuple(k for k in claimed if k not in known),
        bool(every),
    )


def invoice_numbers_from_claims(
    texts: tuple[str, str, str],
    claims: tuple[TextClaims, TextClaims, TextClaims],
    digits: tuple[int, int],
) -> InvoiceNumbers:
    """:func:`find_invoice_numbers` on (field, subject, message) whose :func:`text_claims` are
    already known (a bulk caller works out each distinct text once)."""
    field, subject, _ = texts
    names = ("invoice_no", "subject", "message")
    unknown: list[str] = []
    notes: list[str] = []
    for name, text, claim in zip(names, texts, claims, strict=True):
        for k in claim.unknown:
            if k not in unknown:
                unknown.append(k)
                notes.append(f"{name}: invoice {k} in {text!r} is not in the invoice list")
    if not claims[0].any_number and field.strip():
        notes.append(
            f"invoice_no: no invoice number of {digits[0]}-{digits[1]} digits in {field!r}"
        )
    if claims[0].found and claims[1].found and set(claims[0].found) != set(claims[1].found):
        notes.append(
            f"invoice_no: {field!r} names other invoices than the subject {subject!r}; "
            "the field is used"
        )
    for name, claim in zip(names, claims, strict=True):
        if claim.found:
            return InvoiceNumbers(claim.found, name, tuple(unknown), tuple(notes))
    return InvoiceNumbers((), "", tuple(unknown), tuple(notes))


def known_invoice_index(invoice_nos: Iterable[str]) -> dict[str, str]:
    """{invoice_key: invoice_no} for :func:`find_invoice_numbers` (the last number of a key wins)."""
    numbers = list(invoice_nos)
    # all decimal digits (the common case): the key is the number without leading zeros
    keys = [(no.lstrip("0") or no) if no.isdecimal() else invoice_key(no) for no in numbers]
    index = dict(zip(keys, numbers, strict=True))
    index.pop("", None)  # a number without digits has no key
    return index


# ---------------------------------------------------------------------------------------------
# bank destination (formats.md §10.5)

DESTINATION_EXPECTED = "one of the company's banks (BCA, Mandiri, BNI, BRI) or account numbers"

_OUR_BANK_NAMES = [
    ("bca", r"bank central asia|klik\s?bca|m-?bca|my\s?bca|bca"),
    ("mandiri", r"bank mandiri|livin'?|mandiri|mcm|kopra"),
    ("bni", r"bank negara indonesia|bni\s*46|bni"),
    ("bri", r"bank rakyat indonesia|brimo|britama|bri"),
]
_OTHER_BANKS = re.compile(
    r"\b(bca syariah|bcas|bni syariah|mandiri syariah|bri syariah|bank syariah indonesia|bsi|"
    r"bris|cimb(?: niaga)?|danamon|permata|btn|btpn|jenius|jago|seabank|ocbc|panin|maybank|"
    r"mega|bjb|bank dki|muamalat|uob|hsbc|dbs|allo|blu|neo(?:bank)?)\b"
)
_SOURCE_OR_DEST = re.compile(r"\b(dari|dr|via|from|ke|kepada|tujuan|to)\b\.?")
_SOURCE_MARKERS = {"dari", "dr", "via", "from"}
_HOLDER = re.compile(r"\b(a\.?\s?n\.?|atas nama)\s.*$")
_ACCOUNT_DIGITS = re.compile(r"\d[\d .-]*\d")


@dataclass(frozen=True, slots=True)
class Destination:
    """Which company account a customer says the money went to."""

    account_no: str  # "" when unknown or not ours
    bank: str  # "bca" | "mandiri" | "bni" | "bri" | "" (unknown or another bank)
    not_ours: bool
    note: str  # "" or why the destination is doubtful, naming the value


def resolve_destination(text: str, accounts: Sequence[Account]) -> Destination:
    """'bca' / 'Bank Central Asia' / '037 254 3386' / 'tf dr bri ke mandiri' -> an account.

    A typed account number wins over a bank name; a number or bank that is not the
    company's gives ``not_ours``. Empty text gives an unknown destination; text naming no
    bank and no account, or two of ours, raises :class:`Unreadable`.
    """
    s = _clean(text)
    if not s:
        return Destination("", "", False, "")
    s = _HOLDER.sub("", s)
    s = _destination_part(s)
    by_number = {a.account_no: a for a in accounts}
    stripped = {a.account_no.lstrip("0"): a for a in accounts}
    names = _banks_named(s)
    numbers = [
        d for d in ("".join(ch for ch in m[0] if ch.isdigit()) for m in _ACCOUNT_DIGITS.finditer(
            re.sub(r"\bbni\s*46\b", "bni", s)
        )) if len(d) >= 6
    ]  # fmt: skip
    if numbers:
        ours = {by_number.get(n) or stripped.get(n.lstrip("0")) for n in numbers}
        if None in ours:
            foreign = next(
                n for n in numbers if (by_number.get(n) or stripped.get(n.lstrip("0"))) is None
            )
            return Destination(
                "", "", True, f"bank_destination: account {foreign} in {text!r} is not ours"
            )
        if len(ours) > 1:
            raise Unreadable(text, "names two of the company's accounts", "one account")
        account = ours.pop()
        assert account is not None
        note = ""
        if names and names != {account.bank}:
            note = (
                f"bank_destination: {text!r} names {', '.join(sorted(n.upper() for n in names))} "
                f"but the account number is {account.bank.upper()}'s; the number is used"
            )
        return Destination(account.account_no, account.bank, False, note)
    if len(names) > 1:
        raise Unreadable(text, "names more than one of the company's banks", DESTINATION_EXPECTED)
    if names:
        bank = names.pop()
        mine = [a for a in accounts if a.bank == bank]
        if len(mine) == 1:
            return Destination(mine[0].account_no, bank, False, "")
        if not mine:
            return Destination(
                "",
                "",
                True,
                f"bank_destination: the company has no {bank.upper()} account ({text!r})",
            )
        raise Unreadable(text, f"names {bank.upper()}, where the company has several accounts",
                         "the account number")  # fmt: skip
    if _OTHER_BANKS.search(s):
        return Destination(
            "", "", True, f"bank_destination: {text!r} is not one of the company's banks"
        )
    raise ValueFormatError(text, DESTINATION_EXPECTED)


def _destination_part(s: str) -> str:
    """Drop what follows 'dari'/'dr'/'via' (the sender's bank) up to a 'ke'/'tujuan' marker."""
    parts = _SOURCE_OR_DEST.split(s)
    kept = [parts[0]]
    for marker, segment in zip(parts[1::2], parts[2::2], strict=True):
        if marker not in _SOURCE_MARKERS:
            kept.append(segment)
    return " ".join(kept)


def _banks_named(s: str) -> set[str]:
    without_other = _OTHER_BANKS.sub(" ", s)
    return {
        bank
        for bank, pattern in _OUR_BANK_NAMES
        if re.search(rf"(?<![a-z]){pattern}(?![a-z])", without_other)
    }
