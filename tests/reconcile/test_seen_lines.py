"""What a run saw of its files (pipeline.SeenLines): rows in file order, repeats marked."""

from __future__ import annotations

from reconcile.pipeline import SeenLines
from reconcile.store import ImportOutcome


def test_files_seen_one_after_another_keep_each_row_its_file_line_and_repeat_mark() -> None:
    first = ImportOutcome(
        file_id=1, source_lines=[2, 3, 4], row_line_ids=[10, 11, 12], new_line_ids=[10, 11, 12]
    )
    # a later export overlapping the first: its rows 5 and 6 are lines 11 and 12 again
    second = ImportOutcome(
        file_id=2,
        source_lines=[5, 6, 7],
        row_line_ids=[11, 12, 13],
        new_line_ids=[13],
        duplicates=[(5, 11), (6, 12)],
    )
    seen = SeenLines()
    seen += SeenLines.of_file("mandiri_jan.csv", first)
    seen += SeenLines.of_file("mandiri_feb.csv", second)
    assert len(seen) == 6
    assert seen.line_id.tolist() == [10, 11, 12, 11, 12, 13]
    assert seen.source_file.tolist() == ["mandiri_jan.csv"] * 3 + ["mandiri_feb.csv"] * 3
    assert seen.source_line.tolist() == [2, 3, 4, 5, 6, 7]
    assert seen.duplicate.tolist() == [False, False, False, True, True, False]


def test_a_run_that_saw_no_file_has_no_rows() -> None:
    seen = SeenLines()
    assert len(seen) == 0
    assert seen.source_file.tolist() == []
