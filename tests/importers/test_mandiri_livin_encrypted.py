"""A password-protected Livin' e-Statement (an OLE2 container) is refused, never guessed open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest

from importers import ParseContext, read_statement_file
from importers.base import sniff
from reconcile.errors import FileRejected

SAMPLE = Path(__file__).parent / "mandiri_livin_xlsx" / "samples" / "march_first_half.xlsx"
ACCOUNTS = {"1370010136428": "mandiri"}


def _encrypt(plain: Path, target: Path, password: str) -> None:
    with plain.open("rb") as src, target.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt(password, out)


def test_password_protected_livin_statement_is_rejected_with_instructions(tmp_path: Path) -> None:
    locked = tmp_path / "e-Statement_1370010136428_March.xlsx"
    _encrypt(SAMPLE, locked, "01031990")
    assert sniff(locked).kind == "ole2"
    with pytest.raises(FileRejected) as info:
        read_statement_file(locked, ParseContext(as_of=date(2026, 3, 31)), ACCOUNTS)
    assert str(info.value) == (
        "e-Statement_1370010136428_March.xlsx: file is a password-protected Office document; "
        "open it in Excel, save an unprotected copy and drop that in the inbox"
    )
