"""Person and company names as banks print them and customers type them (formats.md §8.6, §8.7).

One normaliser for both sides (bank sender, invoice client, company, confirmation "Nama di
Rekening", learned aliases), and one truncation-aware comparison, vectorised over pairs with
``rapidfuzz.process.cpdist``.

    >>> normalise_name("Bpk. H. Moch. Soeparman, S.Kom")
    'MUHAMMAD SUPARMAN'
    >>> normalise_name("DANA")   # an e-wallet: the payer is unknown
    ''
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Prefix

# Forms of address, religious and academic titles: removed at the start (dots already dropped).
TITLES_AT_START = frozenset(
    [
        "BPK",
        "BP",
        "BAPAK",
        "PAK",
        "IBU",
        "BU",
        "SDR",
        "SDRI",
        "SAUDARA",
        "SAUDARI",
        "NY",
        "NYONYA",
        "NN",
        "NONA",
        "TN",
        "TUAN",
        "AN",
        "ATASNAMA",
        "H",
        "HJ",
        "HAJI",
        "HAJJAH",
        "KH",
        "DR",
        "DRS",
        "DRA",
        "IR",
        "PROF",
    ]
)
# Degrees: removed at the end (dots dropped: "S.Kom" -> "SKOM").
DEGREES_AT_END = frozenset(
    [
        "SE",
        "SH",
        "ST",
        "SKOM",
        "SPD",
        "SSI",
        "SSOS",
        "SIP",
        "SKED",
        "SFARM",
        "SPSI",
        "SAK",
        "SHUT",
        "STP",
        "SKEP",
        "SAG",
        "SSN",
        "SDS",
        "MM",
        "MKOM",
        "MSI",
        "MPD",
        "MT",
        "MH",
        "MAG",
        "MBA",
        "AMD",
        "AMA",
        "PHD",
    ]
)
# Titles that may also trail (", Hj."): removed at the end too. A bare H at the end is an initial.
TITLES_AT_END = frozenset(["HJ", "HAJI", "HAJJAH", "DR", "DRS", "IR"])
LEGAL_FORMS = frozenset(["PT", "CV", "UD", "TBK", "YAYASAN", "KOPERASI"])
MUHAMMAD_VARIANTS = frozenset(
    [
        "MOH",
        "MOCH",
        "MOCHAMAD",
        "MOCHAMMAD",
        "MUH",
        "MHD",
        "MUHAMAD",
        "MOHAMMAD",
        "MOHAMAD",
        "MOHAMED",
        "MUHAMED",
        "MUHAMMAD",
    ]
)
# Senders that are an e-wallet or a payment gateway, not the payer (formats.md §8.1, §8.8).
EWALLET_SENDERS = frozenset(
    [
        "DANA",
        "DANAIDJ1",
        "OVO",
        "GOPAY",
        "GOJEK",
        "SHOPEEPAY",
        "SHOPEE",
        "LINKAJA",
        "FLIP",
        "XENDIT",
        "MIDTRANS",
        "DOKU",
        "ISAKU",
        "SAKUKU",
        "JENIUS",
    ]
)
# Bank truncation limits (§8.7): a name this long (normalised) that is a prefix of the other
# is read as the same name cut short.
TRUNCATED_MIN_CHARS = 12
WEAK_PREFIX_SCORE = 80  # a short name that is only the start of the other ("BUDI" ~ "BUDI S...")

_A_N = re.compile(r"\bA\s*[./]\s*N\b\.?")
_SPLIT = re.compile(r"[\s,;]+")
_APOSTROPHES = re.compile(r"['`’]")
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_OLD_SPELLINGS = (("OE", "U"), ("DJ", "J"), ("TJ", "C"))


def _key(token: str) -> str:
    return token.replace(".", "").replace("-", "")


def _strip_titles_and_degrees(tokens: list[str]) -> list[str]:
    start = 0
    while start < len(tokens) and _key(tokens[start]) in TITLES_AT_START:
        start += 1
    end = len(tokens)
    while end > start and (
        _key(tokens[end - 1]) in DEGREES_AT_END or _key(tokens[end - 1]) in TITLES_AT_END
    ):
        end -= 1
    return tokens[start:end]


def _respell(token: str) -> str:
    if token in MUHAMMAD_VARIANTS:
        return "MUHAMMAD"
    for old, new in _OLD_SPELLINGS:
        token = token.replace(old, new)
    return token


def normalise_name(raw: str | None) -> str:
    """Upper-case tokens without honorifics, degrees or punctuation; variant spellings unified.

    Legal forms (PT, CV, UD, Tbk, Yayasan, Koperasi) are kept: they mark a company. An
    e-wallet sender (DANA, OVO, ...) or an empty value gives ``""``: the payer is unknown.
    """
    if raw is None:
        return ""
    text = raw.replace("\u00a0", " ").upper()
    text = _A_N.sub(" ", text)
    text = _APOSTROPHES.sub("", text)
    tokens = [t.strip(".-") for t in _SPLIT.split(text)]
    tokens = _strip_titles_and_degrees([t for t in tokens if t])
    words: list[str] = []
    for token in tokens:
        words.extend(w for w in _NON_ALNUM.split(token) if w)
    # "M. Rizky": a lone M in front is Muhammad; elsewhere it is an initial.
    if len(words) > 1 and words[0] == "M":
        words[0] = "MUHAMMAD"
    words = _strip_titles_and_degrees([_respell(w) for w in words])
    if not words or any(w in EWALLET_SENDERS for w in words[:1]):
        return ""
    return " ".join(words)


def is_company(normalised: str) -> bool:
    """True when a normalised name carries a legal form (PT, CV, UD, Tbk, Yayasan, Koperasi)."""
    return any(w in LEGAL_FORMS for w in normalised.split())


def normalise_names(values: Iterable[str | None]) -> pd.Series:
    """Vectorised :func:`normalise_name`: each distinct value is normalised once."""
    series = pd.Series(list(values), dtype=object).fillna("").astype(str)
    uniques = pd.unique(series.to_numpy())
    mapping = {u: normalise_name(u) for u in uniques}
    return series.map(mapping).astype(str)


def block_key(normalised: str) -> str:
    """Blocking key that survives truncation: the first ten characters of the normalised name."""
    return normalised[:10]


def name_similarity(a: str, b: str) -> int:
    """Truncation-aware similarity (0-100) of two *normalised* names; 0 when either is unknown."""
    return int(name_similarity_pairs([a], [b])[0])


def name_similarity_pairs(
    a: Sequence[str] | npt.NDArray[np.object_], b: Sequence[str] | npt.NDArray[np.object_]
) -> npt.NDArray[np.int64]:
    """Element-wise truncation-aware similarity of normalised names, 0-100 (vectorised).

    * equal names, or one a prefix of the other of at least 12 characters (a bank cut the name,
      §8.7): 100;
    * a shorter prefix ending at a word boundary ("BUDI" ~ "BUDI SANTOSO"): 80, a weak hint;
    * otherwise rapidfuzz ``token_sort_ratio`` (word order does not matter);
    * an unknown name on either side: 0.
    """
    left = np.asarray(a, dtype=object)
    right = np.asarray(b, dtype=object)
    if len(left) == 0:
        return np.zeros(0, dtype=np.int64)
    common = process.cpdist(left, right, scorer=Prefix.similarity, workers=-1).astype(np.int64)
    ratio = np.rint(process.cpdist(left, right, scorer=fuzz.token_sort_ratio, workers=-1)).astype(
        np.int64
    )
    len_left = np.fromiter((len(s) for s in left), dtype=np.int64, count=len(left))
    len_right = np.fromiter((len(s) for s in right), dtype=np.int64, count=len(right))
    shorter = np.minimum(len_left, len_right)
    longer_str = np.where(len_left >= len_right, left, right)
    shorter_str = np.where(len_left >= len_right, right, left)
    is_prefix = (common == shorter) & (shorter > 0)
    # the prefix ends at a word boundary when "<shorter> " is also a prefix (or lengths agree)
    spaced = process.cpdist(shorter_str + " ", longer_str, scorer=Prefix.similarity, workers=-1)
    at_boundary = (len_left == len_right) | (spaced.astype(np.int64) == shorter + 1)
    score = ratio.copy()
    weak = is_prefix & at_boundary & (shorter < TRUNCATED_MIN_CHARS)
    score = np.where(weak, np.maximum(ratio, WEAK_PREFIX_SCORE), score)
    score = np.where(is_prefix & (shorter >= TRUNCATED_MIN_CHARS), 100, score)
    score = np.where(shorter == 0, 0, score)
    return score.astype(np.int64)
