"""Running the application on uvicorn: one process, or several workers.

With one worker the application is built here, from a policy set already loaded (so a
bad folder is reported before the port opens). With several, uvicorn's supervisor starts
worker processes that each build their own from the configuration it hands them through
the environment; each has its own policy set, metrics and decision log file.
"""

from __future__ import annotations

import os
import socket

import uvicorn

from .app import create_app
from .config import ENVIRONMENT, ServiceConfig
from .policies import Served

try:       # the C parser, when installed (the `serve` extra has it)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
except ImportError:   # pragma: no cover - h11 is always there
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Protocol


class NoDelayProtocol(_Protocol):
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

    asyncio turns it off only on sockets whose protocol number is TCP; with several
    workers uvicorn binds the listening socket with protocol 0, so the accepted ones keep
    Nagle on, and a response written in two parts (head, then body) waits for the
    client's delayed acknowledgement: about 40 ms a request, measured with --workers 2."""

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass     # the connection is already gone; the protocol will see it
        super().connection_made(transport)


def run(config: ServiceConfig, served: Served | None = None) -> None:
    # httptools when installed: in benchmarks/bench_serve.py --variants it answered
    # 1.2-2.4 times the requests of h11. The stock asyncio loop: uvloop answered fewer
    # there, so it is not picked even when installed.
    common = dict(host=config.host, port=config.port, loop="asyncio", http=NoDelayProtocol,
                  log_level="warning", access_log=False, server_header=False,
                  date_header=False, timeout_graceful_shutdown=5)
    if config.workers == 1:
        uvicorn.run(create_app(config, served), **common)
        return
    os.environ[ENVIRONMENT] = config.to_environment()
    uvicorn.run("neocrm_policy.service.app:app_from_environment", factory=True,
                workers=config.workers, **common)
