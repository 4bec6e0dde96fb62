from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbutil import BACKENDS, scratch_database, unreachable_reason


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty private database on SQLite, PostgreSQL and MariaDB in turn."""
    reason = unreachable_reason(request.param)
    if reason:
        pytest.skip(reason)
    with scratch_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reconcile.db'}"
