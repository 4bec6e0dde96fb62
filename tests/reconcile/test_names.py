"""Name normalisation (formats.md §8.6) and truncation-aware comparison (§8.7)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz

from reconcile.names import (
    TRUNCATED_MIN_CHARS,
    is_company,
    name_similarity,
    name_similarity_pairs,
    normalise_name,
    normalise_names,
)

CASES = [
    ("Budi Santoso", "BUDI SANTOSO"),
    ("BPK BUDI SANTOSO", "BUDI SANTOSO"),
    ("Bpk. Budi Santoso", "BUDI SANTOSO"),
    ("Bp Budi Santoso", "BUDI SANTOSO"),
    ("Bapak Budi  Santoso", "BUDI SANTOSO"),
    ("Pak Budi", "BUDI"),
    ("Ibu Siti Rahayu", "SITI RAHAYU"),
    ("Bu Siti", "SITI"),
    ("Sdr. Agus Setiawan", "AGUS SETIAWAN"),
    ("Sdri Siti Rahayu", "SITI RAHAYU"),
    ("Saudari Dewi", "DEWI"),
    ("Ny. Dewi Anggraini", "DEWI ANGGRAINI"),
    ("Nn Rina Lestari", "RINA LESTARI"),
    ("Tn. Hendra Wijaya", "HENDRA WIJAYA"),
    ("a.n. Siti Rahayu", "SITI RAHAYU"),
    ("A/N BUDI SANTOSO", "BUDI SANTOSO"),
    ("H. Ahmad Fauzi", "AHMAD FAUZI"),
    ("Hj. Siti Aminah", "SITI AMINAH"),
    ("Haji Ahmad", "AHMAD"),
    ("KH Abdul Rahman", "ABDUL RAHMAN"),
    ("Budi H", "BUDI H"),
    ("Dr. Ir. Hendra Wijaya", "HENDRA WIJAYA"),
    ("Drs. Agus Salim, M.M.", "AGUS SALIM"),
    ("Prof. Dr. Rina Lestari", "RINA LESTARI"),
    ("Budi Santoso, S.Kom", "BUDI SANTOSO"),
    ("Siti Rahayu S.Pd", "SITI RAHAYU"),
    ("Agus Setiawan, S.E., M.Kom.", "AGUS SETIAWAN"),
    ("Dewi Anggraini A.Md", "DEWI ANGGRAINI"),
    ("Ir. Joko Widodo, S.T.", "JOKO WIDODO"),
    ("PT. Wijaya Niaga Sentosa", "PT WIJAYA NIAGA SENTOSA"),
    ("CV Rahayu Grafika", "CV RAHAYU GRAFIKA"),
    ("UD Maju Jaya", "UD MAJU JAYA"),
    ("PT Sumber Makmur Tbk", "PT SUMBER MAKMUR TBK"),
    ("M. Rizky Fadillah", "MUHAMMAD RIZKY FADILLAH"),
    ("Moh. Rizky", "MUHAMMAD RIZKY"),
    ("Moch Iqbal", "MUHAMMAD IQBAL"),
    ("Muh. Iqbal", "MUHAMMAD IQBAL"),
    ("Mhd Iqbal", "MUHAMMAD IQBAL"),
    ("Muhamad Iqbal", "MUHAMMAD IQBAL"),
    ("Mohammad Iqbal", "MUHAMMAD IQBAL"),
    ("SOEPARMAN", "SUPARMAN"),
    ("Djoko Susilo", "JOKO SUSILO"),
    ("Tjahjono", "CAHJONO"),
    ("Ma'ruf Amin", "MARUF AMIN"),
    ("DANA", ""),
    ("OVO", ""),
    ("GOPAY", ""),
    ("", ""),
    ("   ", ""),
    ("Bpk", ""),
    ("RINA\u00a0WULANDARI", "RINA WULANDARI"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_none_is_an_unknown_name() -> None:
    assert normalise_name(None) == ""


def test_old_and_new_spellings_normalise_alike() -> None:
    assert normalise_name("Soeparman Djojo") == normalise_name("Suparman Jojo") == "SUPARMAN JOJO"


def test_vectorised_normaliser_agrees_with_the_scalar_one() -> None:
    raw = [r for r, _ in CASES]
    assert normalise_names(raw).tolist() == [e for _, e in CASES]


def test_legal_forms_mark_a_company() -> None:
    assert is_company("PT WIJAYA NIAGA SENTOSA")
    assert is_company("KOPERASI SERBA USAHA")
    assert not is_company("BUDI SANTOSO")


def test_bca_name_cut_at_18_characters_matches_the_full_name() -> None:
    cut = normalise_name("MUHAMMAD RIZKY FAD")  # 18 characters as BCA prints it
    assert name_similarity(cut, normalise_name("M. Rizky Fadillah")) == 100


def test_bni_name_cut_at_14_characters_matches_the_full_name() -> None:
    assert name_similarity(normalise_name("SITI RAHAYU PR"), "SITI RAHAYU PRATIWI") == 100


def test_only_the_bank_printed_left_name_may_be_the_cut_one() -> None:
    left = ["SITI RAHAYU PR", "BUDI SANTOSO WIJAYA", "BUDI SANTOSO"]
    right = ["SITI RAHAYU PRATIWI", "BUDI SANTOSO", "BUDI SANTOSO"]
    assert name_similarity_pairs(left, right).tolist() == [100, 100, 100]
    assert name_similarity_pairs(left, right, truncated="left").tolist() == [100, 80, 100]
    assert name_similarity_pairs(left, right, truncated="none").tolist() == [85, 80, 100]
    with pytest.raises(ValueError, match="truncated"):
        name_similarity_pairs(left, right, truncated="right")


def test_single_first_name_is_only_a_weak_hint() -> None:
    assert name_similarity("BUDI", "BUDI SANTOSO") == 80


def test_reordered_names_match() -> None:
    assert name_similarity("SANTOSO BUDI", "BUDI SANTOSO") == 100


def test_different_people_score_low() -> None:
    assert name_similarity("AGUS SETIAWAN", "SITI RAHAYU") == 50  # below the weak level (70)


def test_unknown_name_scores_zero() -> None:
    assert name_similarity("", "BUDI SANTOSO") == 0


def test_pairwise_similarity_is_vectorised() -> None:
    got = name_similarity_pairs(
        ["BUDI SANTOSO P", "BUDIMAN", ""], ["BUDI SANTOSO PRATAMA", "BUDI", "X"]
    )
    assert got.tolist() == [100, 73, 0]  # BUDI is not a word of BUDIMAN: plain ratio


@pytest.mark.parametrize("raw", ["H.M.RIZKY", "H\x08M:0"])
def test_title_stuck_to_a_lone_m_still_gives_muhammad_and_normalises_once(raw: str) -> None:
    once = normalise_name(raw)
    assert once.startswith("MUHAMMAD ")
    assert normalise_name(once) == once
    assert normalise_names([raw]).tolist() == [once]


@given(st.text())
def test_normaliser_never_crashes_and_is_idempotent(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ ", min_size=12), st.integers(12, 24))
def test_a_truncated_name_always_matches_its_full_name(name: str, cut: int) -> None:
    full = " ".join(name.split())
    short = full[:cut].strip()
    if len(short) >= 12:
        assert name_similarity(short, full) == 100


# The array path (normalise_names, name_similarity_pairs) must give exactly what the scalar
# definitions give, for every input.
EDGE_INPUTS = [
    "A/N BUDI",
    "a . n . siti",
    "A\n/N X",  # a.n. across a line break inside one value
    "BUDI A",  # a trailing A is an initial, not "a.n."
    "M",
    "M BPK",
    "M. Moh",
    "Moh",
    "Moch.  H.",
    "HADJI AHMAD",  # respelled to HAJI, then stripped as a title
    "BOE SITI",
    "DANAIDJ1",
    "DANA TOPUP BUDI",
    "BUDI DANA",
    "x\ny",
    "a\x01b",  # holds the array path's marker: takes the scalar path
    "\x01",
    "\x00 BUDI \x00",
    "\t BUDI\x1c SANTOSO \u3000",
    "BUDI,SANTOSO;S.E.",
    "..",
    "-.-",
    ". BUDI .",
    "B.P.K. BUDI",
    "B-P-K BUDI",
    "BUDI ,, S.E.",
    "S.Kom",
    "SE MM",
    "DR BUDI DR",
    "H",
    "BUDI H",
    "Ma’ruf `Amin",
    "José Ñúñez",
    "straße",
    "ﬁrman",
    "Σίσυφος",
    "(BPK) BUDI",
    "PT. ABC, Tbk.",
    "12345",
    "",
    " ",
]


def _as_scalar(values: list[object]) -> list[str]:
    return [normalise_name(None if v is None or v != v else str(v)) for v in values]


def test_array_path_equals_scalar_path_on_every_known_input() -> None:
    corpus = [r for r, _ in CASES] + EDGE_INPUTS + ["Soeparman Djojo", "Suparman Jojo"]
    assert normalise_names(corpus).tolist() == _as_scalar(list(corpus))


def test_array_path_equals_scalar_path_on_synthetic_names() -> None:
    from benchmarks.bench_names import synthetic_names

    names = synthetic_names(20_000, seed=3)
    assert normalise_names(names).tolist() == [normalise_name(n) for n in names]


def test_array_path_reads_missing_and_other_values_as_before() -> None:
    values: list[object] = [None, float("nan"), "Bpk Budi", 3, 1.5, True, pd.NA, "", "Bpk Budi"]
    got = normalise_names(values)
    assert got.tolist() == ["", "", "BUDI", "3", "1 5", "TRUE", "", "", "BUDI"]
    assert str(got.dtype) == "str"
    assert got.index.equals(pd.RangeIndex(len(values)))


def test_array_path_keeps_the_position_of_each_repeated_value() -> None:
    values = pd.Series(["Ibu Siti", None, "OVO", "Ibu Siti", "Bpk Budi"], index=[9, 7, 5, 3, 1])
    assert normalise_names(values).tolist() == ["SITI", "", "", "SITI", "BUDI"]
    assert normalise_names([]).tolist() == []


_NAME_PARTS = st.sampled_from(
    [
        "Bpk", "Bpk.", "IBU", "Sdri", "a.n.", "A/N", "H.", "Hj", "Dr.", "Ir", "Prof.", "KH",
        "S.Kom", ", S.E.", "M.M.", "A.Md", "PT.", "CV", "Tbk", "M.", "Moh.", "Mhd", "Muhamad",
        "Soeparman", "Djoko", "Tjahjono", "Hadji", "Boe", "Ma'ruf", "DANA", "OVO", "Budi",
        "Siti", "Rahayu", "Santoso", "-", ".", ",", ";", " ", "  ", "\t", "\n", "\u00a0", "\x01",
    ]
)  # fmt: skip
_NAMES = st.one_of(st.text(), st.lists(_NAME_PARTS, max_size=8).map(" ".join))


@given(st.lists(st.one_of(_NAMES, st.none()), max_size=30))
def test_array_path_equals_scalar_path(values: list[str | None]) -> None:
    assert normalise_names(values).tolist() == _as_scalar(list(values))


def _similarity_by_definition(a: str, b: str) -> int:
    """The §8.7 rules for one pair, written out with rapidfuzz's scalar scorers."""
    if not a or not b:
        return 0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if long.startswith(short) and len(short) >= TRUNCATED_MIN_CHARS:
        return 100
    ratio = round(fuzz.token_sort_ratio(a, b))
    if long.startswith(short) and (len(a) == len(b) or long[len(short)] == " "):
        return max(ratio, 80)
    return ratio


_NORMALISED = st.text(alphabet="ABDIMNSU ", max_size=20).map(lambda s: " ".join(s.split()))


@given(st.lists(st.tuples(_NORMALISED, _NORMALISED, st.integers(0, 20)), max_size=40))
def test_pairwise_similarity_follows_the_rules_pair_by_pair(
    pairs: list[tuple[str, str, int]],
) -> None:
    # half of the right-hand names are cuts of the left one, as banks print them
    left = [a for a, _, _ in pairs]
    right = [b if cut % 2 else a[:cut].strip() for a, b, cut in pairs]
    got = name_similarity_pairs(left, right)
    assert got.tolist() == [
        _similarity_by_definition(a, b) for a, b in zip(left, right, strict=True)
    ]


def test_repeated_pairs_score_like_distinct_ones() -> None:
    left = ["BUDI SANTOSO", "BUDI", "", "BUDI SANTOSO", "BUDI"]
    right = ["BUDI SANTOSO PRATAMA", "BUDI SANTOSO", "X", "BUDI SANTOSO PRATAMA", "BUDIMAN"]
    assert name_similarity_pairs(left, right).tolist() == [100, 80, 0, 100, 73]


def test_dana_wallet_identifier_is_an_unknown_payer_even_after_respelling() -> None:
    # 'DANAIDJ1' respells to 'DANAIJ1' (DJ -> J) before the e-wallet check (formats.md §8.8)
    assert normalise_name("DANAIDJ1") == ""
