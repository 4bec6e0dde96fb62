"""Invoice numbers read from bank texts: the fast two-pass scan reads what the pattern reads."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconcile.candidates import quoted_refs, ref_pattern
from reconcile.config import Matching

RULES = Matching()


def _text_by_text(texts: list[str]) -> list[tuple[int, str, int]]:
    """What ``ref_pattern`` finds scanning each text on its own (the definition)."""
    pattern = ref_pattern(RULES)
    return [
        (row, number.lstrip("0"), 2 if mark else 1)
        for row, text in enumerate(texts)
        for mark, number in pattern.findall(text)
    ]


def _scanned(texts: list[str]) -> list[tuple[int, str, int]]:
    found = quoted_refs(texts, RULES)
    return list(
        zip(found["row"].tolist(), found["key"].tolist(), found["ref"].tolist(), strict=True)
    )


def test_marked_and_bare_numbers_are_told_apart() -> None:
    texts = ["INV 020431 dan 20432", "", "tgl 12/03 ref 1234567890", "#5555 NO.77777"]
    assert _scanned(texts) == [(0, "20431", 2), (0, "20432", 1), (3, "5555", 2), (3, "77777", 2)]


def test_hash_after_a_space_is_a_separator_as_the_pattern_reads_it() -> None:
    # the left-to-right scan starts at the space, takes " #" as separators: no marker
    assert _scanned(["TRF #20431"]) == [(0, "20431", 1)]
    # at the start of a text the same '#' is a marker
    assert _scanned(["PAY", "#20431 |"]) == [(1, "20431", 2)]


def test_amounts_and_long_account_numbers_are_not_invoice_numbers() -> None:
    assert _scanned(["Rp 1.500.000", "REK 1234567890123", "20431/05", "tgl 12/03"]) == []


_ALPHABET = "0123456789 #-./:,|INVOCEnoivx\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=40), max_size=6))
@example(["X #12345", "INVOICE - 0012345", "NO12345.5", "1234,5678"])
def test_two_pass_scan_reads_exactly_what_the_pattern_reads_text_by_text(texts: list[str]) -> None:
    assert _scanned(texts) == _text_by_text(texts)
