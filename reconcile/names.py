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
from functools import lru_cache

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
# names are respelled (DJ -> J ...) before this check, so the respelled forms count too
EWALLET_SENDERS = EWALLET_SENDERS | frozenset(
    w.replace(old, new)
    for w in EWALLET_SENDERS
    for old, new in (("OE", "U"), ("DJ", "J"), ("TJ", "C"))
)
# Bank truncation limits (§8.7): a name this long (normalised) that is a prefix of the other
# is read as the same name cut short.
TRUNCATED_MIN_CHARS = 12
# The shortest cut a bank makes (§8.7: BNI 14 characters, BRI about 14-16, BCA 18, Mandiri
# about 24): a sender printed shorter than this is the whole name, not a cut.
SHORTEST_CUT_CHARS = 14
# Which side of a pair a bank may have cut (``truncated=`` of the similarity functions):
# either, only the left one (the bank-printed name, compared with a client's own name), none.
TRUNCATED_SIDES = ("either", "left", "none")
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


@lru_cache(maxsize=65_536)
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
    # a title stripped in front can leave the lone M first ("H.M:RIZKY" -> "M RIZKY"): the
    # same rule again, so that normalising a normalised name changes nothing
    if len(words) > 1 and words[0] == "M":
        words[0] = "MUHAMMAD"
    if not words or any(w in EWALLET_SENDERS for w in words[:1]):
        return ""
    return " ".join(words)


def is_company(normalised: str) -> bool:
    """True when a normalised name carries a legal form (PT, CV, UD, Tbk, Yayasan, Koperasi)."""
    return any(w in LEGAL_FORMS for w in normalised.split())


# The array path runs the steps of normalise_name over all distinct names at once, with no
# Python code per name. The text steps (case, "a.n.", apostrophes, separators) are single
# passes over the names joined by a marker token; the text is then split into one flat array
# of tokens, each token rule (dots and dashes at the ends, titles at the start, degrees at the
# end, words, spellings, a lone M, e-wallets) is decided once per distinct token or word, and
# numpy applies it over the flat array, grouped by name. The marker takes part in no step (not
# a space, letter, digit, dot or slash); a name that contains it takes the scalar path.
_MARK = "\x01"
_JOIN = f" {_MARK} "
_MUHAMMAD = "MUHAMMAD"
_TRAILING = DEGREES_AT_END | TITLES_AT_END
_A_N_FAST = re.compile(r"A(?<!\wA)\s*[./]\s*N\b\.?")  # _A_N led by its literal A: scans faster
_NA_TYPES = frozenset([type(None), float])  # missing values the array path handles itself


def _first_of_line(line: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    first = np.ones(len(line), dtype=bool)
    first[1:] = line[1:] != line[:-1]
    return first


def _runs_from(
    flag: npt.NDArray[np.bool_], start: npt.NDArray[np.bool_], step: int
) -> npt.NDArray[np.bool_]:
    """True on each run of ``flag`` that begins at a ``start`` element and goes ``step`` ways.

    With ``start`` the first element of each line and ``step`` 1: the titles at the start of
    each line; with the last element and -1: the degrees at its end. Only the runs are
    visited, one element further per round, so the work is the number of elements stripped.
    """
    run = np.zeros(len(flag), dtype=bool)
    frontier = np.flatnonzero(start & flag)
    while len(frontier):
        run[frontier] = True
        frontier = frontier + step
        frontier = frontier[(frontier >= 0) & (frontier < len(flag))]
        frontier = frontier[flag[frontier] & ~start[frontier]]
    return run


def _kept_after_stripping(
    title: npt.NDArray[np.bool_], trailing: npt.NDArray[np.bool_], line: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """:func:`_strip_titles_and_degrees` on every line at once: the mask of what stays.

    The titles removed at the start are a prefix of the line, the degrees removed at the end a
    suffix not reaching into it; their union is what the scalar loops remove.
    """
    first = _first_of_line(line)
    last = np.ones(len(line), dtype=bool)
    last[:-1] = first[1:]
    return ~(_runs_from(title, first, 1) | _runs_from(trailing, last, -1))


def _flags(vocabulary: Sequence[str], words: frozenset[str]) -> npt.NDArray[np.bool_]:
    return np.fromiter((v in words for v in vocabulary), dtype=bool, count=len(vocabulary))


def _encode(values: Iterable[str], vocabulary: dict[str, int]) -> npt.NDArray[np.int64]:
    return np.fromiter((vocabulary.setdefault(v, len(vocabulary)) for v in values), np.int64)


def _normalise_joined(joined: str, n_names: int) -> list[str]:
    """:func:`normalise_name` of each of ``n_names`` names joined by the marker, in bulk."""
    text = joined.replace("\u00a0", " ").upper()
    text = _A_N_FAST.sub(" ", text)
    text = text.replace("'", "").replace("`", "").replace("\u2019", "")
    flat = np.asarray(text.replace(",", " ").replace(";", " ").split(), dtype=object)
    token_codes, tokens = pd.factorize(flat)
    # per distinct token: dots and dashes stripped from its ends, its key, its words
    stripped = [t.strip(".-") for t in tokens]
    keys = [_key(t) for t in stripped]
    is_mark = np.fromiter((t == _MARK for t in tokens), dtype=bool, count=len(tokens))
    empty = np.fromiter((t == "" for t in stripped), dtype=bool, count=len(tokens))
    word_lists = [[w for w in _NON_ALNUM.split(t) if w] for t in stripped]
    # the tokens of each name in order; a name's number is the count of markers before it
    line_of_token = np.cumsum(is_mark[token_codes], dtype=np.int64)
    valid = ~(is_mark | empty)[token_codes]
    codes, line = token_codes[valid], line_of_token[valid]
    keep = _kept_after_stripping(
        _flags(keys, TITLES_AT_START)[codes], _flags(keys, _TRAILING)[codes], line
    )
    codes, line = codes[keep], line[keep]
    # each kept token becomes its runs of letters and digits (explode)
    word_vocabulary: dict[str, int] = {}
    n_words = np.fromiter(map(len, word_lists), dtype=np.int64, count=len(word_lists))
    word_offsets = np.cumsum(n_words) - n_words
    token_words = _encode((w for ws in word_lists for w in ws), word_vocabulary)
    count = n_words[codes]
    total = int(count.sum())
    position = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    words = token_words[np.repeat(word_offsets[codes], count) + position]
    line = np.repeat(line, count)
    # "M. Rizky": a lone M in front of another word is Muhammad; then spellings are unified
    followed = np.zeros(total, dtype=bool)
    followed[:-1] = line[1:] == line[:-1]
    lone_m = _first_of_line(line) & followed & (words == word_vocabulary.get("M", -1))
    words = np.where(lone_m, _encode([_MUHAMMAD], word_vocabulary)[0], words)
    spelled: dict[str, int] = {}
    words = _encode(map(_respell, list(word_vocabulary)), spelled)[words]
    vocabulary = list(spelled)
    keep = _kept_after_stripping(
        _flags(vocabulary, TITLES_AT_START)[words], _flags(vocabulary, _TRAILING)[words], line
    )
    words, line = words[keep], line[keep]
    # a title stripped in front can leave the lone M first: the same rule again (idempotence)
    if "M" in spelled and len(words):
        followed = np.zeros(len(words), dtype=bool)
        followed[:-1] = line[1:] == line[:-1]
        lone_m = _first_of_line(line) & followed & (words == spelled["M"])
        if lone_m.any():
            words = np.where(lone_m, _encode([_MUHAMMAD], spelled)[0], words)
            vocabulary = list(spelled)
    # an e-wallet as the first word: the payer is unknown
    unknown = np.zeros(n_names, dtype=bool)
    unknown[line[_first_of_line(line) & _flags(vocabulary, EWALLET_SENDERS)[words]]] = True
    keep = ~unknown[line]
    words, line = words[keep], line[keep]
    if len(words) == 0:
        return [""] * n_names
    # join: a space between the words of a name, one newline per name boundary crossed
    gaps = np.diff(line)
    gap_counts = np.bincount(gaps, minlength=1)
    distinct_gaps = np.flatnonzero(gap_counts)
    gap_index = np.zeros(len(gap_counts), dtype=np.int64)
    gap_index[distinct_gaps] = np.arange(len(distinct_gaps))
    separators = np.asarray([" " if g == 0 else "\n" * int(g) for g in distinct_gaps], object)
    pieces = np.empty(2 * len(words) + 1, dtype=object)
    pieces[0] = "\n" * int(line[0])
    pieces[1::2] = np.asarray(vocabulary, dtype=object)[words]
    pieces[2:-1:2] = separators[gap_index[gaps]]
    pieces[-1] = "\n" * (n_names - 1 - int(line[-1]))
    return "".join(pieces.tolist()).split("\n")


def _normalise_distinct(values: Sequence[str]) -> list[str]:
    """:func:`normalise_name` of each string, in bulk (each distinct value should appear once)."""
    if len(values) == 0:
        return []
    joined = _JOIN.join(values)
    if joined.count(_MARK) == len(values) - 1:  # no value holds the marker itself
        return _normalise_joined(joined, len(values))
    plain = [v for v in values if _MARK not in v]
    bulk = iter(_normalise_joined(_JOIN.join(plain), len(plain)) if plain else [])
    return [normalise_name(v) if _MARK in v else next(bulk) for v in values]


def normalise_names(values: Iterable[str | None]) -> pd.Series:
    """Vectorised :func:`normalise_name`: each distinct value is normalised once, all in bulk.

    Gives exactly ``[normalise_name(str(v)) for v in values]`` with missing values (None, NaN)
    read as ``""``, as a ``str`` Series on a fresh RangeIndex.
    """
    if isinstance(values, pd.Series):  # the same elements as list(values), without iterating
        items = values.to_numpy(dtype=object)
    else:
        items = pd.Series(list(values), dtype=object).to_numpy()
    codes, uniques = pd.factorize(items)
    missing = codes < 0
    plain = (len(uniques) == 0 or pd.api.types.infer_dtype(uniques, skipna=False) == "string") and (
        not missing.any() or {type(v) for v in items[missing]} <= _NA_TYPES
    )
    if not plain:  # other types and missing markers: pandas' own conversion, as before
        items = pd.Series(items, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
        codes, uniques = pd.factorize(items)
    normalised = np.asarray([*_normalise_distinct(uniques.tolist()), ""], dtype=object)
    return pd.Series(normalised[codes], dtype=str)  # a missing value (code -1) reads as ""


def block_key(normalised: str) -> str:
    """Blocking key that survives truncation: the first ten characters of the normalised name."""
    return normalised[:10]


def name_similarity(a: str, b: str) -> int:
    """Truncation-aware similarity (0-100) of two *normalised* names; 0 when either is unknown."""
    return int(name_similarity_pairs([a], [b])[0])


def name_similarity_pairs(
    a: Sequence[str] | npt.NDArray[np.object_],
    b: Sequence[str] | npt.NDArray[np.object_],
    *,
    truncated: str = "either",
) -> npt.NDArray[np.int64]:
    """Element-wise truncation-aware similarity of normalised names, 0-100 (vectorised).

    * equal names, or one a prefix of the other of at least 12 characters (a bank cut the name,
      §8.7): 100; ``truncated="left"``: only the left name may be the cut one (a bank cuts
      the sender's name, never the client's: "BUDI SANTOSO WIJAYA" is not "BUDI SANTOSO"),
      ``"none"``: neither (a sender printed too short to be a cut);
    * a shorter prefix ending at a word boundary ("BUDI" ~ "BUDI SANTOSO"): 80, a weak hint;
    * otherwise rapidfuzz ``token_sort_ratio`` (word order does not matter);
    * an unknown name on either side: 0.

    Each distinct pair is scored once (a sender against every open invoice of one client
    repeats the same pair), and the fuzzy ratio only where no rule above decides alone.
    """
    left = np.asarray(a, dtype=object)
    right = np.asarray(b, dtype=object)
    left_codes, left_names = pd.factorize(left, use_na_sentinel=False)
    right_codes, right_names = pd.factorize(right, use_na_sentinel=False)
    return coded_similarity(
        left_codes, np.asarray(left_names, dtype=object),
        right_codes, np.asarray(right_names, dtype=object), truncated=truncated,
    )  # fmt: skip


def coded_similarity(
    left_codes: npt.NDArray[np.integer],
    left_names: npt.NDArray[np.object_],
    right_codes: npt.NDArray[np.integer],
    right_names: npt.NDArray[np.object_],
    *,
    truncated: str = "either",
) -> npt.NDArray[np.int64]:
    """:func:`name_similarity_pairs` of names given as positions in tables of names: pairs of
    positions are numbers, so finding the distinct pairs hashes no text (tens of millions of
    candidate pairs share a few hundred thousand names)."""
    if len(left_codes) == 0:
        return np.zeros(0, dtype=np.int64)
    width = max(len(right_names), 1)
    pair_codes, pairs = pd.factorize(left_codes.astype(np.int64) * width + right_codes)
    scores = _similarity_of_pairs(left_names[pairs // width], right_names[pairs % width], truncated)
    return np.asarray(scores[pair_codes], dtype=np.int64)


def _similarity_of_pairs(
    left: npt.NDArray[np.object_], right: npt.NDArray[np.object_], sides: str = "either"
) -> npt.NDArray[np.int64]:
    if sides not in TRUNCATED_SIDES:
        raise ValueError(f"truncated must be one of {TRUNCATED_SIDES}, not {sides!r}")
    len_left = np.fromiter(map(len, left), dtype=np.int64, count=len(left))
    len_right = np.fromiter(map(len, right), dtype=np.int64, count=len(right))
    shorter = np.minimum(len_left, len_right)
    common = process.cpdist(left, right, scorer=Prefix.similarity, workers=-1).astype(np.int64)
    is_prefix = (common == shorter) & (shorter > 0)
    truncated = is_prefix & (shorter >= TRUNCATED_MIN_CHARS)
    if sides == "left":  # only the bank-printed (left) name is ever cut: it is the shorter
        truncated &= len_left <= len_right
    elif sides == "none":  # a whole name on both sides: only equal names are the same
        truncated &= len_left == len_right
    score = np.where(truncated, 100, 0).astype(np.int64)
    fuzzy = (shorter > 0) & ~truncated
    ratio = process.cpdist(left[fuzzy], right[fuzzy], scorer=fuzz.token_sort_ratio, workers=-1)
    score[fuzzy] = np.rint(ratio).astype(np.int64)
    # a short prefix is a weak hint when it ends at a word boundary: "<shorter> " is a prefix too
    weak = is_prefix & ~truncated
    boundary = weak & (len_left == len_right)
    cut = weak & (len_left != len_right)
    left_longer = len_left[cut] > len_right[cut]
    longer_str = np.where(left_longer, left[cut], right[cut])
    shorter_str = np.where(left_longer, right[cut], left[cut])
    spaced = process.cpdist(shorter_str + " ", longer_str, scorer=Prefix.similarity, workers=-1)
    boundary[cut] = spaced.astype(np.int64) == shorter[cut] + 1
    score[boundary] = np.maximum(score[boundary], WEAK_PREFIX_SCORE)
    return score
