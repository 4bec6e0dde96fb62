"""kill -9 at named points and at timed moments, then run again: the end state equals that of an
uninterrupted run (business tables, invoices.csv, confirmations.csv, where the files are), and no
input file is ever missing or doubled, not even between the kill and the second run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dbutil import scratch_database, unreachable_reason
from tests.jobs.workspace import (
    JUNK_NAME,
    business_state,
    input_digests,
    make_workspace,
    original_digests,
    report_state,
    run_forked,
)

KILL_POINTS = [
    "run.started:1",
    "import.parsed:1",
    "import.uncommitted:1",
    "import.committed:1",
    "import.archived:1",
    "import.uncommitted:2",
    "import.committed:2",
    "reject.uncommitted:1",
    "reject.committed:1",
    "reject.moved:1",
    "import.uncommitted:3",
    "import.archived:3",
    "sources.begin:1",
    "sources.uncommitted:1",
    "sources.committed:1",
    "match.decided:1",
    "match.uncommitted:1",
    "match.committed:1",
    "reports.written:1",
    "run.finished:1",
]
TIMED_FRACTIONS = [0.2, 0.45, 0.7, 0.9]
BACKENDS = ["sqlite", "postgresql", "mariadb"]
pytestmark = pytest.mark.slow  # about 50 killed runs plus their reruns: over a minute


class Baseline:
    def __init__(
        self,
        state: dict[str, Any],
        reports: dict[str, Any],
        seconds: float,
        second_reports: dict[str, Any],
    ) -> None:
        self.state, self.reports, self.seconds = state, reports, seconds
        # a run report lists the rows the run touched: a run after a completed one touches none
        self.second_reports = second_reports


_baselines: dict[str, Baseline] = {}


def _skip_unreachable(backend: str) -> None:
    reason = unreachable_reason(backend)
    if reason:
        pytest.skip(reason)


def warm_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One run in this process, so that forked children start with every module imported."""
    if not _baselines:
        from jobs.run_once import run_once

        root = tmp_path_factory.mktemp("warm-up")
        assert run_once(make_workspace(root, f"sqlite:///{root}/warm.db"), quiet=True) == 3


def baseline(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The uninterrupted run (computed once per backend, in a child like the others)."""
    if backend not in _baselines:
        warm_up(tmp_path_factory)
        root2 = tmp_path_factory.mktemp(f"baseline2-{backend}")
        with scratch_database(backend, root2) as url:
            rules = make_workspace(root2 / "ws", url)
            started = time.monotonic()
            assert run_forked(rules) == 3  # the junk file is rejected: exit 3
            seconds = time.monotonic() - started
            state, reports = business_state(url), report_state(root2 / "ws", url)
            assert run_forked(rules) == 0
            _baselines[backend] = Baseline(state, reports, seconds, report_state(root2 / "ws", url))
    return _baselines[backend]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    _skip_unreachable(request.param)
    with scratch_database(request.param, tmp_path) as url:
        yield request.param, url


def _converges(root: Path, url: str, rules: Path, base: Baseline) -> None:
    assert input_digests(root) == original_digests()  # nothing lost or doubled by the kill
    # the junk file is rejected again (exit 3) unless the killed run had already moved it aside
    expected_code = 3 if (root / "inbox" / JUNK_NAME).exists() else 0
    completed = _completed_runs(url) > 0  # killed after it finished: the rerun is a second run
    assert run_forked(rules) == expected_code
    assert input_digests(root) == original_digests()
    state, reports = business_state(url), report_state(root, url)
    if completed:
        assert state == base.state
        assert reports == base.second_reports
        return
    assert state == base.state
    assert reports == base.reports


def _completed_runs(url: str) -> int:
    from sqlalchemy import create_engine, func, inspect, select

    from reconcile import db

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("runs"):  # killed before the schema was created
                return 0
            return int(
                conn.execute(
                    select(func.count()).where(db.runs.c.status == "COMPLETED")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_second_run_keeps_confirmation_link(tmp_path: Path) -> None:
    """Running again with nothing new must not change what the first run decided."""
    root = tmp_path / "ws"
    url = f"sqlite:///{tmp_path / 'reconcile.db'}"
    rules = make_workspace(root, url)
    assert run_forked(rules) == 3
    first = business_state(url)
    assert run_forked(rules) == 0
    second = business_state(url)
    assert second == first
    # the confirmation the first run funded keeps its line and reason (a rerun once rewrote
    # them to no line and "matched in an earlier run")
    assert [dict(r) for r in second["confirmations"] if dict(r)["status"] == "MATCHED"]
    for row in second["confirmations"]:
        d = dict(row)
        if d["status"] == "MATCHED":
            assert d["line_ids"] != "" and d["reason"].startswith("funds on line"), d


@pytest.mark.parametrize("point", KILL_POINTS)
def test_run_killed_at_named_point_converges_on_rerun(
    point: str,
    backend_url: tuple[str, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend, url = backend_url
    base = baseline(backend, tmp_path_factory)
    root = tmp_path / "ws"
    rules = make_workspace(root, url)
    assert run_forked(rules, crash_at=point) == -9  # the point exists and was reached
    _converges(root, url, rules, base)


@pytest.mark.parametrize("fraction", TIMED_FRACTIONS)
def test_run_killed_after_a_delay_converges_on_rerun(
    fraction: float,
    backend_url: tuple[str, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    backend, url = backend_url
    base = baseline(backend, tmp_path_factory)
    root = tmp_path / "ws"
    rules = make_workspace(root, url)
    code = run_forked(rules, kill_after=base.seconds * fraction)
    assert code in (-9, 3)  # a slow machine may let the run finish first; both must converge
    _converges(root, url, rules, base)


# the inbox files read by worker processes (reconcile.readahead), killed where the hand-over
# between reading and storing could go wrong
POOL_KILL_POINTS = [
    "import.parsed:1",
    "import.parsed:2",
    "import.uncommitted:2",
    "reject.committed:1",
    "import.archived:3",
]


@pytest.mark.parametrize("point", POOL_KILL_POINTS)
def test_run_reading_files_in_workers_killed_at_named_point_converges_on_rerun(
    point: str,
    backend_url: tuple[str, str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconcile import readahead

    backend, url = backend_url
    base = baseline(backend, tmp_path_factory)
    monkeypatch.setattr(readahead, "PARALLEL_MIN_BYTES", 0)  # inherited by the forked run
    monkeypatch.setattr(readahead, "worker_count", lambda: 2)
    root = tmp_path / "ws"
    rules = make_workspace(root, url)
    assert run_forked(rules, crash_at=point) == -9
    _converges(root, url, rules, base)
