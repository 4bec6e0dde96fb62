"""Every sample under tests/importers/<importer>/samples/ is claimed by its own importer only,
parses, passes the statement proof and equals its reviewed golden file field by field.

Every file under tests/importers/<importer>/bad/ is rejected with the exact message stored in
``<file>.reason.txt`` beside it.

Regenerate golden files after a deliberate change:  RECONCILE_REGEN=1 pytest tests/importers
and read the diff before committing it. A sample's as-of date (for year-less dates) is
2026-03-31 unless a ``<sample>.as_of`` file beside it says otherwise.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from importers import REGISTRY, ParseContext, detect, read_statement_file
from importers.base import sniff
from reconcile.errors import FileRejected
from tests.importers.golden import dump_statements

HERE = Path(__file__).parent
ACCOUNTS = {
    "1370010136428": "mandiri",
    "0372543386": "bca",
    "0495227030": "bni",
    "002901124296507": "bri",
}
SIDE_SUFFIXES = (".expected.json", ".as_of", ".reason.txt", ".md")
DEFAULT_AS_OF = date(2026, 3, 31)


def _inputs(kind: str) -> list[Path]:
    return sorted(
        p for p in HERE.glob(f"*/{kind}/*") if p.is_file() and not p.name.endswith(SIDE_SUFFIXES)
    )


def _as_of(sample: Path) -> date:
    side = sample.with_name(sample.name + ".as_of")
    return date.fromisoformat(side.read_text().strip()) if side.exists() else DEFAULT_AS_OF


def _id(p: Path) -> str:
    return f"{p.parent.parent.name}/{p.name}"


SAMPLES = _inputs("samples")
BAD = _inputs("bad")


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_sample_is_claimed_by_its_own_importer_only(sample: Path) -> None:
    s = sniff(sample)
    claims = [imp.name for imp in REGISTRY if imp.identify(s)]
    assert claims == [sample.parent.parent.name]


@pytest.mark.parametrize("sample", SAMPLES, ids=_id)
def test_sample_matches_golden_file(sample: Path) -> None:
    _, statements = read_statement_file(sample, ParseContext(as_of=_as_of(sample)), ACCOUNTS)
    got = dump_statements(statements)
    expected_path = sample.with_name(sample.name + ".expected.json")
    if os.environ.get("RECONCILE_REGEN") == "1":
        expected_path.write_text(got, encoding="utf-8")
    assert expected_path.exists(), f"no golden file; run RECONCILE_REGEN=1 pytest {HERE}"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert json.loads(got) == expected


@pytest.mark.parametrize("bad", BAD, ids=_id)
def test_bad_file_is_rejected_with_its_reason(bad: Path) -> None:
    reason_path = bad.with_name(bad.name + ".reason.txt")
    with pytest.raises(FileRejected) as info:
        read_statement_file(bad, ParseContext(as_of=_as_of(bad)), ACCOUNTS)
    if os.environ.get("RECONCILE_REGEN") == "1" and not reason_path.exists():
        reason_path.write_text(str(info.value) + "\n", encoding="utf-8")
    assert str(info.value) == reason_path.read_text(encoding="utf-8").strip()


def test_every_importer_has_samples() -> None:
    with_samples = {p.parent.parent.name for p in SAMPLES}
    assert {imp.name for imp in REGISTRY} <= with_samples


def test_unrecognised_file_lists_the_layouts_tried(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello,world\n1,2\n")
    with pytest.raises(FileRejected) as info:
        detect(f)
    assert str(info.value).startswith("notes.txt: no importer recognises this file (layouts tried:")
