"""A damaged or truncated workbook (a download cut short, bytes flipped on the way) is rejected
with a reason, never an "unexpected error" with a traceback.

olefile raises ValueError ("Exceeds the limit (4300 digits) for integer string conversion")
and others besides its OleFileError on random bytes after the OLE2 magic; xlrd a KeyError on a
damaged format table; zipfile zlib.error, EOFError or NotImplementedError on a damaged XLSX.
"""

from __future__ import annotations

import random
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import ParseContext, read_statement_file
from reconcile.errors import FileRejected

HERE = Path(__file__).parent
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ACCOUNTS = {"0495227030": "bni", "1370010136428": "mandiri"}
CTX = ParseContext(as_of=date(2026, 3, 31))
WORKBOOKS = [
    HERE / "bni_bnidirect_xls" / "samples" / "account_statement_0203.xls",
    HERE / "mandiri_livin_xlsx" / "samples" / "march_first_half.xlsx",
]


def test_ole2_magic_followed_by_random_bytes_is_a_damaged_excel_file(tmp_path: Path) -> None:
    rnd = random.Random(1)
    path = tmp_path / "mutasi.xls"
    path.write_bytes(OLE2_MAGIC + bytes(rnd.getrandbits(8) for _ in range(5000)))
    with pytest.raises(FileRejected) as info:
        read_statement_file(path, CTX, ACCOUNTS)
    assert str(info.value) == (
        "mutasi.xls: damaged or truncated Excel file: the OLE2 container cannot be read (its "
        "internal tables are inconsistent); download or export it again"
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(WORKBOOKS),
    st.one_of(
        st.tuples(st.just("cut"), st.floats(0.0, 1.0)),
        st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)))),
    ),
)
def test_a_damaged_workbook_is_read_or_rejected_never_anything_else(
    sample: Path, damage: tuple[str, object]
) -> None:
    data = bytearray(sample.read_bytes())
    kind, how = damage
    if kind == "cut":
        assert isinstance(how, float)
        data = data[: 8 + int(how * (len(data) - 9))]
    else:
        assert isinstance(how, list)
        for where, value in how:
            data[8 + int(where * (len(data) - 9))] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"damaged{sample.suffix}"
        path.write_bytes(bytes(data))
        try:
            read_statement_file(path, CTX, ACCOUNTS)
        except FileRejected as exc:
            assert str(exc).startswith(f"{path.name}: ")
