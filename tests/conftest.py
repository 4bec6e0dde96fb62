from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbutil import BACKENDS, scratch_database, unreachable_reason


def _database_on(backend: str, tmp_path: Path) -> Iterator[str]:
    reason = unreachable_reason(backend)
    if reason:
        pytest.skip(reason)
    with scratch_database(backend, tmp_path) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty private database on SQLite, PostgreSQL and MariaDB in turn."""
    yield from _database_on(request.param, tmp_path)


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    """An empty private PostgreSQL schema (skipped with the reason when unreachable)."""
    yield from _database_on("postgresql", tmp_path)


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    """An empty private MariaDB database (skipped with the reason when unreachable)."""
    yield from _database_on("mariadb", tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'reconcile.db'}"
