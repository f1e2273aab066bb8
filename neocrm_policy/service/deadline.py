"""A wall-clock limit for a decision made on the event loop's own thread.

Handing each decision to a worker thread and waiting for it costs more than the decision
itself (two hand-offs of the interpreter lock: about 0.3 ms against about 0.15 ms of
work, measured in-process). So single decisions run on the main thread, under an
interval timer: when it expires, its SIGALRM handler raises `Overrun` in the middle of
the work, which becomes a 503. `Overrun` is a BaseException, so no `except Exception`
on the way can take it for an ordinary failure. Where signals cannot be used (not the
main thread, not POSIX), `usable` stays False and callers use a thread and a timeout.

The work under the timer must not hold state shared with other requests half-changed:
deciding reads an immutable policy set and builds new objects; the decision log is
written after the timer is off.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any


class Overrun(BaseException):
    """The work took longer than its limit."""


class Deadline:
    def __init__(self) -> None:
        self.usable = False
        self._armed = False
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
            signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
            self.usable = False

    def _expired(self, signum, frame) -> None:
        if self._armed:
            self._armed = False
            raise Overrun

    def run(self, work: Callable[[], Any], seconds: float) -> Any:
        """`work()`, or `Overrun` once `seconds` have passed."""
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._armed = False
