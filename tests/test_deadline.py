"""The time limit on decisions run on the event loop's thread (service/deadline.py): the
timer ticks while decisions come instead of being set for each, stops work that runs
past its limit, and stops ticking when the decisions stop."""

from __future__ import annotations

import signal
import time

import pytest

from neocrm_policy.service.deadline import Deadline, Overrun


@pytest.fixture
def deadline():
    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here (not POSIX)")
    made = Deadline()
    made.install()
    assert made.usable
    yield made
    made.uninstall()


def busy(seconds: float) -> float:
    """Work for `seconds` (no waiting in a system call), and how long it ran."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        sum(range(100))
    return time.perf_counter() - started


def test_work_past_its_limit_is_stopped(deadline):
    started = time.perf_counter()
    with pytest.raises(Overrun):
        deadline.run(lambda: busy(5.0), 0.02)
    assert 0.02 <= time.perf_counter() - started < 2.0
    assert deadline.run(lambda: busy(0.001), 0.02) >= 0.001   # the next work runs


def test_a_limit_shorter_than_a_tick_has_its_own_timer(deadline):
    with pytest.raises(Overrun):
        deadline.run(lambda: busy(5.0), 0.000001)


def test_decisions_in_a_row_set_no_timer_each(deadline, monkeypatch):
    """A thousand decisions under a 10 ms limit set the timer once, not a thousand
    times; a tick with no work since the last stops it, and the next decision starts it
    again."""
    calls = []
    setitimer = signal.setitimer
    monkeypatch.setattr(signal, "setitimer", lambda *a: calls.append(a) or setitimer(*a))
    for _ in range(1000):
        deadline.run(lambda: busy(0.00001), 0.01)
    assert calls == [(signal.ITIMER_REAL, 0.005, 0.005)]
    time.sleep(0.05)        # a tick with the work done, then a tick with none
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert calls[-1] == (signal.ITIMER_REAL, 0)
    deadline.run(lambda: None, 0.01)
    assert calls[-1] == (signal.ITIMER_REAL, 0.005, 0.005)


def test_a_tick_after_the_work_ended_stops_nothing(deadline):
    """A tick that comes between two decisions raises nothing, however long ago the
    last one started."""
    deadline.run(lambda: None, 0.004)
    time.sleep(0.01)
    assert deadline.run(lambda: "done", 0.004) == "done"
