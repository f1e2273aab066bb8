"""Wall-clock limits for decisions: on the event loop's own thread, and in a worker.

Handing each decision to a worker thread and waiting for it costs more than the decision
itself (two hand-offs of the interpreter lock: about 0.3 ms against about 0.15 ms of
work, measured in-process). So single decisions run on the main thread, under an
interval timer: its SIGALRM handler raises `Overrun` in the middle of work that has run
past its limit, which becomes a 503. Setting the timer for each decision was a system
call a request (about 0.7 µs); instead a decision sets it only when none is set to go
off by its own limit, and when it goes off during a later decision that still has time,
the handler sets it again for that time. While decisions come, the timer goes off about
once a limit (100 times a second with the service's 10 ms slice), each time on its own
system call; after they stop, it goes off once more and is not set again. `Overrun` is
a BaseException, so no `except Exception` on the way can take it for an ordinary
failure; raised inside a callback whose exceptions Python reports and drops (a garbage
collector's callback, which hypothesis keeps), it is lost and that work runs to its end.
(Raising it again a moment later was tried: inside pytest's own hook for such reports,
it failed the test instead.) Where signals cannot be used (not the main thread, not
POSIX), `usable` stays False and callers use a thread and a timeout.

The work under the timer must not hold state shared with other requests half-changed:
deciding reads an immutable policy set and builds new objects; the decision log is
written after the work under the timer has ended.

On the event loop the limit is short (`Service.decide_now` gives it a slice): a decision
that needs longer is started again in a worker thread, so one costly request cannot hold
every other. There `Stoppable` raises `Overrun` in the worker thread itself when its
time is up (CPython's PyThreadState_SetAsyncExc), so a decision the client no longer
waits for stops instead of keeping a thread, and a share of the CPU, for minutes.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable
from typing import Any


class Overrun(BaseException):
    """The work took longer than its limit."""


class Deadline:
    def __init__(self) -> None:
        self.usable = False
        self._armed = False
        self._started = 0.0
        self._seconds = 0.0
        self._goes_off: float | None = None     # when the timer set goes off, if any
        self._previous: Any = None

    def install(self) -> None:
        """Take SIGALRM (call on the main thread; otherwise `usable` stays False)."""
        if threading.current_thread() is not threading.main_thread() \
                or not hasattr(signal, "setitimer"):
            return
        self._previous = signal.signal(signal.SIGALRM, self._expired)
        self.usable = True

    def uninstall(self) -> None:
        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._goes_off = None
            signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
            self.usable = False

    def _expired(self, signum, frame) -> None:
        self._goes_off = None
        if self._armed:       # else work that has ended: nothing to stop, nor to time
            left = self._seconds - (time.perf_counter() - self._started)
            if left <= 0:
                self._armed = False
                raise Overrun
            self._set(left)

    def _set(self, seconds: float) -> None:
        self._goes_off = time.perf_counter() + seconds
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def run(self, work: Callable[[], Any], seconds: float) -> Any:
        """`work()`, or `Overrun` once `seconds` have passed."""
        self._started = started = time.perf_counter()
        self._seconds = seconds
        try:        # armed and set inside: whatever is raised as soon as the timer is
            self._armed = True     # set (a limit of a microsecond), it is disarmed
            goes_off = self._goes_off
            if goes_off is None or goes_off > started + seconds:
                self._set(seconds)
            return work()
        finally:
            self._armed = False


_set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc",
                         None)


class Stoppable:
    """`run(work)` in a worker thread; `stop()` from another raises `Overrun` in that
    thread while it is inside `work` (and never after it: a late one is cleared)."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._thread: int | None = None
        self._over = False

    def run(self) -> Any:
        with self._lock:
            if self._over:
                raise Overrun
            self._thread = threading.get_ident()
        try:
            return self._work()
        finally:
            with self._lock:
                self._thread = None
                if self._over and _set_async_exc is not None:
                    _set_async_exc(ctypes.c_ulong(threading.get_ident()), None)

    def stop(self) -> bool:
        """Stop the work; False when this interpreter cannot (it then runs to its end)."""
        with self._lock:
            self._over = True
            if self._thread is None:
                return True
            if _set_async_exc is None:
                return False
            return _set_async_exc(ctypes.c_ulong(self._thread), ctypes.py_object(Overrun)) == 1
