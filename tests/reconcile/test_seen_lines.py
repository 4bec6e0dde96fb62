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
    seen = SeenLines.joined(
        [SeenLines.of_file("mandiri_jan.csv", first), SeenLines.of_file("mandiri_feb.csv", second)]
    )
    assert len(seen) == 6
    assert seen.line_id.tolist() == [10, 11, 12, 11, 12, 13]
    assert seen.source_file.tolist() == ["mandiri_jan.csv"] * 3 + ["mandiri_feb.csv"] * 3
    assert seen.source_line.tolist() == [2, 3, 4, 5, 6, 7]
    assert seen.duplicate.tolist() == [False, False, False, True, True, False]


def test_a_run_that_saw_no_file_has_no_rows() -> None:
    seen = SeenLines()
    assert len(seen) == 0
    assert seen.source_file.tolist() == []


def test_an_export_seen_again_whole_is_all_repeats_and_many_files_join_in_order() -> None:
    rows = ImportOutcome(
        file_id=1, source_lines=[2, 3], row_line_ids=[10, 11], new_line_ids=[10, 11]
    )
    again = ImportOutcome(
        file_id=1, source_lines=[2, 3], row_line_ids=[10, 11], duplicates=[(2, 10), (3, 11)]
    )
    parts = [SeenLines.of_file(f"bca_{k:03d}.csv", rows) for k in range(300)]
    parts.append(SeenLines.of_file("bca_000.csv", again))
    seen = SeenLines.joined(parts)
    assert len(seen) == 602
    assert seen.source_file[[0, 1, 2, 598, 599, 600, 601]].tolist() == [
        "bca_000.csv", "bca_000.csv", "bca_001.csv", "bca_299.csv", "bca_299.csv",
        "bca_000.csv", "bca_000.csv",
    ]  # fmt: skip
    assert seen.duplicate.sum() == 2 and seen.duplicate[-2:].tolist() == [True, True]
    assert seen.line_id[-2:].tolist() == [10, 11]
