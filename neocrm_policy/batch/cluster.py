"""A Dask cluster to run on: worker processes on this machine, or a running scheduler.

One place for what every `--dask` of the command line starts: a `LocalCluster` of one
single-threaded worker process per core (the rules are Python, so threads would only take
turns), listening on the loopback interface only, with no dashboard, or a client of
the scheduler at an address given. Dask's `distributed` is imported only here, and only
when asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import UsageError
from .running import cores

CONNECT_SECONDS = 20
"""How long to wait for a scheduler named by address to answer."""


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A `distributed.Client`: of the scheduler at `scheduler` (e.g. tcp://10.0.0.5:8786),
    else of a local cluster of `workers` processes (default: one per core), closed (and
    the local cluster stopped) when done."""
    try:
        import distributed
    except ImportError:
        raise UsageError("--dask needs Dask's distributed scheduler, which is not installed",
                         None, "pip install 'neocrm-policy[dask]'") from None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler} ({exc})", None,
                             "give the address the scheduler prints (tcp://HOST:8786), or "
                             "leave out --scheduler to use worker processes on this "
                             "machine") from None
        with client:
            yield client
        return
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: at least one worker is needed", None,
                         "give --workers 1 or more")
    # Dask's own log lines (a heartbeat missed on a busy machine) are not the user's
    # business: what goes wrong reaches the command as a value and is said in its words.
    # No dashboard; the scheduler's own web server (health, metrics) on the loopback
    # interface at a free port, not on every interface at 8787, taken or not
    with distributed.LocalCluster(n_workers=workers or cores(), threads_per_worker=1,
                                  processes=True, host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                  silence_logs=logging.CRITICAL) as cluster, \
            distributed.Client(cluster) as client:
        yield client
