"""The time limit on decisions run on the event loop's thread (service/deadline.py): the
timer is set about once a limit while decisions come instead of once each, stops work
that runs past its limit, and is not set again when the decisions stop."""

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


def test_a_shorter_limit_than_the_timer_set_is_kept(deadline):
    """The timer set by a decision under a long limit is set again for a decision under
    a shorter one, which is stopped at its own limit."""
    deadline.run(lambda: None, 10.0)
    started = time.perf_counter()
    with pytest.raises(Overrun):
        deadline.run(lambda: busy(5.0), 0.000001)
    assert time.perf_counter() - started < 2.0


def test_decisions_in_a_row_set_the_timer_about_once_a_limit(deadline, monkeypatch):
    """A thousand short decisions in a row under a 10 ms limit set the timer once, and
    again each time it goes off while one runs, not once each; after the last, it goes
    off once more and is not set again, and the next decision sets it."""
    calls = []
    setitimer = signal.setitimer
    monkeypatch.setattr(signal, "setitimer", lambda *a: calls.append(a) or setitimer(*a))
    started = time.perf_counter()
    for _ in range(1000):
        deadline.run(lambda: busy(0.00001), 0.01)
    took = time.perf_counter() - started
    assert calls[0] == (signal.ITIMER_REAL, 0.01)
    assert 1 <= len(calls) <= 2 + took / 0.01, (len(calls), took)
    set_during = len(calls)
    time.sleep(0.05)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert len(calls) == set_during
    deadline.run(lambda: None, 0.01)
    assert calls[-1] == (signal.ITIMER_REAL, 0.01) and len(calls) == set_during + 1


def test_the_timer_going_off_after_the_work_ended_stops_nothing(deadline):
    """The timer going off between two decisions raises nothing, however long ago the
    last one started."""
    deadline.run(lambda: None, 0.004)
    time.sleep(0.01)
    assert deadline.run(lambda: "done", 0.004) == "done"


def test_a_limit_that_passes_while_the_timer_is_set_leaves_nothing_armed(deadline):
    """A limit of a microsecond can pass before the timer is even set: the `Overrun`
    raised there disarms the timer all the same, so that no later code (another
    request's reading, say) is interrupted by it."""
    for _ in range(200):
        try:
            deadline.run(lambda: busy(0.0001), 0.000001)
        except Overrun:
            pass
        assert not deadline._armed
    busy(0.01)               # the timer goes off again in the meantime: nothing raised
