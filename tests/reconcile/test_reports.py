"""Report frames: the pieces the CSVs are built from, with real values."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from reconcile.reports import joined_per_key


def test_values_are_joined_per_key_in_frame_order_with_keys_in_first_seen_order() -> None:
    keys = pd.Series(["20432", "20431", "20432", None, "20440", "20431", "20432"], dtype=object)
    values = pd.Series(["7", "3", "9", "1", "12", "4", "15"], dtype=object)
    joined = joined_per_key(keys, values)
    assert joined.index.tolist() == ["20432", "20431", "20440"]
    assert joined.tolist() == ["7;9;15", "3;4", "12"]


def test_no_values_join_to_an_empty_series() -> None:
    joined = joined_per_key(pd.Series([], dtype=object), pd.Series([], dtype=object))
    assert joined.to_dict() == {}


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "20431"]), st.text(max_size=4))))
def test_joined_per_key_equals_a_groupby_join(pairs: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(pairs, columns=["key", "value"], dtype=object)
    expected = frame.groupby("key", sort=False)["value"].agg(";".join).to_dict()
    assert joined_per_key(frame["key"], frame["value"]).to_dict() == expected
