"""Running the application on uvicorn: one process, or several workers.

With one worker the application is built here, from a policy set already loaded (so a
bad folder is reported before the port opens). With several, uvicorn's supervisor starts
worker processes that each build their own from the configuration it hands them through
the environment; each has its own policy set, metrics and decision log file.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING, Any

import uvicorn

from .app import create_app
from .config import ENVIRONMENT, ServiceConfig
from ..deciding.served import Served

if TYPE_CHECKING:   # either class: what is used here they both have
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
else:
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


HEAD_TIMEOUT_ANSWER = (
    b'{"error":{"code":"NS408","message":"the request headers did not arrive in time",'
    b'"location":null,"file":null,"line":null,"column":null,'
    b'"hint":"send the whole request at once"}}')


class TimedProtocol(NoDelayProtocol):
    """The protocol with a time limit on a request's line and headers.

    uvicorn times out only an idle connection after a response (its keep-alive limit);
    a connection that sends part of a request's headers, or nothing after connecting, is
    held open for ever, so a few hundred such clients hold as many connections and file
    descriptors. Here a timer runs from the connection (or the first byte after a
    response) until the headers are complete; when it expires, the client gets a 408
    and the connection is closed. The body's own limit is the application's
    (`--body-timeout`), which reads it."""

    header_timeout: float = 10.0
    """Set from --header-timeout by `configure` in each process that serves."""
    _head_timer: asyncio.TimerHandle | None
    _heard: bool

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = None
        self._heard = False
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and self._between_requests():
            self._arm()
        self._heard = True
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before:        # a request's headers are complete
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._heard = False
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_overdue)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._heard and self._between_requests():     # part of a request came
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(HEAD_TIMEOUT_ANSWER)).encode() +
                b"\r\nconnection: close\r\n\r\n" + HEAD_TIMEOUT_ANSWER)
        self.transport.close()


def app_from_environment():
    """The factory uvicorn's worker processes call (`--workers` above 1): the service as
    the environment configures it, this process's protocol limits set first."""
    config = ServiceConfig.from_environment()
    configure(config)
    return create_app(config)


def configure(config: ServiceConfig) -> None:
    """Hand this process's protocol the limits it enforces (uvicorn builds the protocol
    itself, from the class, in each worker process)."""
    TimedProtocol.header_timeout = config.header_timeout


try:       # the event loop (the `serve` extra has uvloop where it runs: not on Windows)
    import uvloop  # noqa: F401
    LOOP = "uvloop"
except ImportError:   # pragma: no cover
    LOOP = "asyncio"


def run(config: ServiceConfig, served: Served | None = None) -> None:
    # By benchmarks/bench_serve.py --variants (see benchmarks/README.md), medians of the
    # server's CPU a request: with httptools 0.53 of what h11 needs, with uvloop 0.83 of
    # what the stock asyncio loop needs; granian 1.48-1.75 and hypercorn 2.2-2.5 times
    # uvicorn's. Requests/s, on a machine shared with other work, did not rank them.
    configure(config)

    def serve(app: Any, **how: Any) -> None:
        uvicorn.run(app, host=config.host, port=config.port, loop=LOOP, http=TimedProtocol,
                    log_level="warning", access_log=False, server_header=False,
                    date_header=False, timeout_graceful_shutdown=5, **how)
    if config.workers == 1:
        serve(create_app(config, served))
        return
    os.environ[ENVIRONMENT] = config.to_environment()
    serve("neocrm_policy.service.server:app_from_environment", factory=True,
          workers=config.workers)
