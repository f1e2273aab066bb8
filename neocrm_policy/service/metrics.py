"""Counters and a latency histogram, rendered in the Prometheus text format (0.0.4).

Small on purpose: a handful of series, rendered on demand. Each worker process has its
own; a scraper sees the worker that answered. Every update and the rendering run on the
event loop's thread (the handlers count after any worker thread is done), so no lock is
taken: two locks a request cost about a microsecond of the service's own work.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Seconds; decisions take well under a millisecond, so the low end is fine-grained."""


def _labels(names: tuple[str, ...], values: tuple) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple, int] = {}
        self.decisions: dict[tuple, int] = {}
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self._latency_count: dict[str, int] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        counts = self._latency.get(route)
        if counts is None:
            counts = self._latency[route] = [0] * (len(BUCKETS) + 1)
            self._latency_sum[route] = 0.0
            self._latency_count[route] = 0
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self._latency_sum[route] += seconds
        self._latency_count[route] += 1

    def decision(self, query: str, status: int, count: int = 1) -> None:
        key = (query, status)
        self.decisions[key] = self.decisions.get(key, 0) + count

    def render(self, gauges: Callable[[], list[tuple[str, str, str, tuple, tuple, float]]]) -> str:
        """The exposition text; `gauges` gives the service's state when asked
        (name, type, help, label names, label values, value)."""
        out: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")

        family("neocrm_http_requests_total", "counter", "HTTP requests by route, method "
               "and status code.")
        for (route, method, status), n in sorted(self.requests.items()):
            out.append("neocrm_http_requests_total"
                       + _labels(("route", "method", "status"), (route, method, status))
                       + f" {n}")
        family("neocrm_decisions_total", "counter", "Decisions by query and status "
               "code (200 answered, 400 bad facts, 503 over the time limit).")
        for (query, status), n in sorted(self.decisions.items()):
            out.append("neocrm_decisions_total"
                       + _labels(("query", "status"), (query, status)) + f" {n}")
        family("neocrm_http_request_duration_seconds", "histogram",
               "Time from the request's arrival to its response, by route.")
        for route, counts in sorted(self._latency.items()):
            running = 0
            for bound, n in zip((*BUCKETS, "+Inf"), counts, strict=True):
                running += n
                out.append("neocrm_http_request_duration_seconds_bucket"
                           + _labels(("route", "le"), (route, bound)) + f" {running}")
            label = _labels(("route",), (route,))
            out.append(f"neocrm_http_request_duration_seconds_sum{label} "
                       f"{self._latency_sum[route]:.6f}")
            out.append(f"neocrm_http_request_duration_seconds_count{label} "
                       f"{self._latency_count[route]}")
        seen: set[str] = set()
        for name, kind, text, names, values, value in gauges():
            if name not in seen:
                family(name, kind, text)
                seen.add(name)
            shown = int(value) if float(value).is_integer() else value
            out.append(name + _labels(names, values) + f" {shown}")
        return "\n".join(out) + "\n"
