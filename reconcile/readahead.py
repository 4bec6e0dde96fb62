"""Statement files read ahead in worker processes while the main process stores.

Reading a file (detect, parse, prove the balances, encode the rows as columns: everything but
the database) is independent of every other file; storing must happen in inbox order, one
transaction per file, in the process that holds the run's lock and connection. So
:func:`read_in_order` reads the first file in the calling process while a small pool of worker
processes starts and reads the next ones (one file more than there are workers ahead), and
hands every result back in inbox order. A worker returns plain lists per column
(:mod:`reconcile.lines`), never one pickled object per row.

Workers are started with ``spawn``: a forked child would inherit the run's lock (the SQLite
lock file, the PostgreSQL session of the advisory lock) and could keep it held after the run
was killed. A worker exits on its own as soon as the process that started it is gone. A few or
small files are read in-process: no pool start-up for the 15-minute incremental run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Generator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Dialect

from reconcile.errors import FileRejected
from reconcile.lines import EncodedFile, dialect_named, encode_file

log = logging.getLogger("reconcile")

# below this many bytes in the inbox (or with a single file) every file is read in-process:
# starting the workers (about 0.5 s each: a fresh interpreter importing the importers) would
# cost more than it saves
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
PARENT_POLL_SECONDS = 0.2


@dataclass
class FileRead:
    """One inbox file as read: encoded lines, or why it is refused. ``trace`` is the traceback
    of an unexpected error, for the log. ``vanished``: the file could not be opened or read at
    all (gone since the inbox was listed, locked, no permission): there are no bytes to record
    or move aside (``sha256`` is empty)."""

    path: Path
    sha256: str
    encoded: EncodedFile | None = None
    reason: str | None = None
    unexpected: bool = False
    trace: str = ""
    vanished: bool = False


def unreadable(path: Path, exc: OSError) -> str:
    """The reason for a file that vanished (an Excel lock file ``~$x.csv``, a sync temp file)
    or cannot be opened between the inbox listing and its reading."""
    return (
        f"{path.name}: file vanished or unreadable: {exc.strerror or exc} "
        f"({type(exc).__name__}); skipped, the next run reads it if it is still there"
    )


def read_file(
    path: Path, as_of: date, accounts: Mapping[str, str], dialect: Dialect | str
) -> FileRead:
    """Hash, detect, parse, prove and encode one file. A refused file (or a defect in an
    importer) comes back as a reason, never as an exception: the other files go on."""
    from importers import ParseContext, read_statement_file
    from importers.base import gc_paused, sha256_file

    try:
        sha = sha256_file(path)
    except OSError as exc:
        return FileRead(path, "", reason=unreadable(path, exc), vanished=True)
    if isinstance(dialect, str):
        dialect = dialect_named(dialect)
    accounts = dict(accounts)
    try:
        # no cyclic GC while a file's rows are built and encoded (see importers.base.gc_paused);
        # the rows are freed before it resumes, or its first collection would scan them all
        with gc_paused():
            importer, statements = read_statement_file(
                path, ParseContext(as_of=as_of, accounts=accounts), accounts
            )
            encoded = encode_file(importer.name, statements, dialect)
            del statements
    except FileRejected as exc:
        return FileRead(path, sha, reason=str(exc))
    except (FileNotFoundError, PermissionError) as exc:  # gone or locked once it was hashed
        return FileRead(path, "", reason=unreadable(path, exc), vanished=True)
    except Exception as exc:  # a defect in an importer must not stop the other files
        reason = (
            f"{path.name}: unexpected error while reading the file ({type(exc).__name__}: {exc})"
        )
        return FileRead(path, sha, reason=reason, unexpected=True, trace=traceback.format_exc())
    return FileRead(path, sha, encoded=encoded)


def _watch_parent(parent: int) -> None:
    """Worker initializer: leave as soon as the process that started the pool is gone (a run
    killed with SIGKILL must not leave workers behind)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def worker_count() -> int:
    """Worker processes for reading: one per CPU this process may use beyond the one the run's
    own process stores on, at most four (none on a single CPU). More workers than that only
    take CPU time from the storing process, which sets the pace."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, 4))


def use_pool(paths: list[Path], workers: int) -> bool:
    if workers < 1 or len(paths) < 2:
        return False
    total = 0
    for p in paths:
        try:
            total += p.stat().st_size
        except OSError:
            continue
    return total >= PARALLEL_MIN_BYTES


def read_in_order(
    paths: list[Path],
    *,
    as_of: date,
    accounts: Mapping[str, str],
    dialect: Dialect,
    workers: int | None = None,
) -> Generator[FileRead, None, None]:
    """Every file of ``paths`` read, yielded in the order given; later files are read in worker
    processes while the caller works on the earlier ones."""
    workers = worker_count() if workers is None else workers
    if not use_pool(paths, workers):
        for path in paths:
            yield read_file(path, as_of, accounts, dialect)
        return
    drivername = f"{dialect.name}+{dialect.driver}"
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_watch_parent,
        initargs=(os.getpid(),),
    )
    queue: deque[tuple[Path, Future[FileRead]]] = deque()
    rest = iter(paths[1:])
    broken = False

    def submit_next() -> None:
        path = next(rest, None)
        if path is not None:
            queue.append((path, pool.submit(read_file, path, as_of, dict(accounts), drivername)))

    try:
        for _ in range(workers + 1):  # one read waits done while the caller stores
            submit_next()
        # the first file in this process, while the workers start and read the next ones
        yield read_file(paths[0], as_of, accounts, dialect)
        while queue:
            path, future = queue.popleft()
            if broken:
                read = read_file(path, as_of, accounts, dialect)
            else:
                try:
                    read = future.result()
                except BrokenProcessPool:
                    log.warning("worker processes stopped; reading the other files in-process")
                    broken = True
                    read = read_file(path, as_of, accounts, dialect)
                else:
                    submit_next()
            if broken:
                queue.extend((p, Future()) for p in rest)
            yield read
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
