"""Name normalisation (formats.md §8.6) and truncation-aware comparison (§8.7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.names import (
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
