"""One forked helper process for a pure computation, and the pipe it answers through.

``matching.decide`` runs half of its candidate generation and scoring in a child made with
``os.fork``: the child sees the parent's frames as they were at the fork (copy-on-write: the
pages are shared until one side writes them) and sends back plain values: pickle protocol 5,
numpy buffers out of band, so an array crosses the pipe as its raw bytes and is rebuilt on
them without another copy.

The child never returns into the caller's code: it runs its function, then leaves with
``os._exit`` (no ``atexit`` handlers, no finalizers, no flushing of buffers it inherited; a
database connection the parent's pool holds open stays the parent's), and dies with the
parent (``PR_SET_PDEATHSIG``). A child that dies, or stays silent past a deadline, raises
:class:`ChildLost` in the parent, which then does the child's share itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_F_SETPIPE_SZ = 1031  # fcntl: a bigger pipe, fewer system calls for a large answer
_PIPE_BYTES = 1 << 20


class ChildLost(Exception):
    """The helper process died, closed its pipe or did not answer in time."""


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and usable_cpus() >= 2


def _widen(fd: int) -> None:
    with contextlib.suppress(OSError, ImportError):
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)


def _write_all(fd: int, data: memoryview) -> None:
    while data.nbytes:
        written = os.write(fd, data)
        data = data[written:]


def send(fd: int, value: Any) -> None:
    """``value`` pickled (protocol 5, contiguous buffers out of band) and framed: the number
    of parts, their sizes, then the parts."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    views = [memoryview(head), *(b.raw() for b in buffers)]
    sizes = struct.pack(f"<Q{len(views)}Q", len(views), *(v.nbytes for v in views))
    for view in (memoryview(sizes), *views):
        _write_all(fd, view)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ChildLost("no answer in time")
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise ChildLost("the pipe closed")
        got += n
    return buf


def receive(fd: int, deadline: float | None = None) -> Any:
    """The next value :func:`send` wrote; ``deadline`` a ``time.monotonic()`` instant."""
    (count,) = struct.unpack("<Q", _read_exactly(fd, 8, deadline))
    sizes = struct.unpack(f"<{count}Q", _read_exactly(fd, 8 * count, deadline))
    parts = [_read_exactly(fd, size, deadline) for size in sizes]
    return pickle.loads(parts[0], buffers=parts[1:])


class Channel:
    """The child's end of the pipe: ``send`` to the parent."""

    def __init__(self, writing: int) -> None:
        self._writing = writing

    def send(self, value: Any) -> None:
        send(self._writing, value)


class Child:
    """A forked process running ``work(channel)``; the parent's end of its pipe.

    Use as a context manager: leaving it kills the child if it still runs and reaps it."""

    def __init__(self, work: Callable[[Channel], None]) -> None:
        parent = os.getpid()
        up_r, up_w = os.pipe()  # child -> parent
        _widen(up_w)
        # pages either process writes after the fork are copied: hand the free heap back to
        # the system first (new allocations then take fresh pages, not shared ones), and keep
        # the objects alive at the fork out of both sides' collections (a collection writes
        # to every object it visits) until the child is reaped
        _trim_heap()
        gc.freeze()
        try:
            pid = os.fork()
        except BaseException:
            gc.unfreeze()
            raise
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(up_r)
                _die_with(parent)
                work(Channel(up_w))
                code = 0
            except BaseException:  # the parent sees the pipe close
                pass
            finally:
                os._exit(code)
        os.close(up_w)
        self.pid = pid
        self._from = up_r
        self._reaped = False
        self.status: int | None = None

    def receive(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return receive(self._from, deadline)
        except OSError as e:
            raise ChildLost(f"cannot read from it: {e}") from e

    def close(self, grace: float = 0.0) -> None:
        """Reap it, killing it if it still runs after ``grace`` seconds; close the pipe."""
        if not self._reaped:
            gc.unfreeze()
            with contextlib.suppress(ProcessLookupError):
                done, status = os.waitpid(self.pid, os.WNOHANG)
                until = time.monotonic() + grace
                while done == 0 and time.monotonic() < until:
                    time.sleep(0.005)
                    done, status = os.waitpid(self.pid, os.WNOHANG)
                if done == 0:
                    os.kill(self.pid, signal.SIGKILL)
                    done, status = os.waitpid(self.pid, 0)
                self.status = os.waitstatus_to_exitcode(status)
            self._reaped = True
        if self._from >= 0:
            with contextlib.suppress(OSError):
                os.close(self._from)
        self._from = -1  # closed once: the number may be another file's now

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(grace=5.0 if exc[0] is None else 0.0)


def _trim_heap() -> None:
    """``malloc_trim(0)``: glibc returns the free pages of its heaps to the system."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _die_with(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; leave at once if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
