"""What an operator sets when starting the service; nothing here touches the network.

The configuration is plain data so that it can cross into uvicorn's worker processes
(as JSON in an environment variable): each worker builds its own application from it.
The admin token is never part of it: each process reads it from its environment or from
a file, so it does not travel in process listings or in the serialised configuration.
"""

from __future__ import annotations

import json
import math
import errno
import os
import socket
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import Location, UsageError

ENVIRONMENT = "NEOCRM_SERVICE_CONFIG"
"""The variable that hands the configuration to worker processes."""
TOKEN_VARIABLE = "NEOCRM_ADMIN_TOKEN"
TOKEN_FILE_VARIABLE = "NEOCRM_ADMIN_TOKEN_FILE"
DOCS_VARIABLE = "NEOCRM_DOCS_URL"
DOCS_URL = "/docs/"
"""The documentation site's address when neither `--docs-url` nor NEOCRM_DOCS_URL gives
one: `/docs/` on the service's own host, where a gateway can serve the built site."""


LARGEST = 2 ** 62
"""Above any count an option needs (a size in bytes, a number of records)."""
LONGEST = 3600
"""Seconds: the longest time limit accepted (the interval timer and the event loop
refuse some larger values, and no request should wait an hour)."""
RANGES = (("port", 1, 65535), ("workers", 1, 1024), ("log_max_bytes", 1, LARGEST),
          ("log_backups", 0, 1000), ("log_queue", 1, LARGEST),
          ("max_body_bytes", 1, LARGEST), ("max_batch", 1, LARGEST), ("threads", 1, 1024))


def _option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _reason(error: BaseException) -> str:
    """The system's words for an error, without its number."""
    return (getattr(error, "strerror", None) or str(error)).lower()


def _shown(value) -> str:
    """A value as the operator typed it (no Python spelling such as `inf` or quotes)."""
    if type(value) is float and math.isnan(value):
        return "not a number"
    if type(value) is float and math.isinf(value):
        return "infinity" if value > 0 else "minus infinity"
    return f"{value:g}" if type(value) is float else str(value)


@dataclass(frozen=True)
class ServiceConfig:
    policies: str
    host: str = "127.0.0.1"
    port: int = 8181
    workers: int = 1
    decision_log: str | None = None
    log_max_bytes: int = 50 * 1024 * 1024
    """Rotate the decision log when it would grow past this size."""
    log_backups: int = 5
    log_queue: int = 10_000
    """Records waiting for the writer; beyond this, records are dropped and counted."""
    mask: tuple[str, ...] = field(default=())
    """Dotted fact paths left out of the decision log (e.g. customer.id)."""
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 1000
    decision_timeout: float = 2.0
    """Seconds a decision (or a whole batch) may take before the client gets a 503."""
    header_timeout: float = 10.0
    """Seconds a client has to send a request's line and headers; then the connection
    is closed (a 408), so half-sent requests cannot hold connections open."""
    body_timeout: float = 30.0
    """Seconds a client has to send a request's body once its headers are in (a 408)."""
    threads: int = 4
    """Threads that run decisions, so a slow one never stalls the event loop."""
    watch: bool = False
    """Reload when a file of the policy folder changes."""
    admin_token_file: str | None = None
    docs_url: str = DOCS_URL
    """Where the documentation site is served: the ask page links each clause it cites
    to the agreement's passage there (`{docs_url}/terms/agreement/#clause-3`)."""

    def __post_init__(self) -> None:
        """Every setting in its range, so that a bad one is one clear message before the
        port opens rather than a failure (or a wrapped-around port) once serving."""
        object.__setattr__(self, "mask", tuple(self.mask))
        for name, lowest, highest in RANGES:
            value = getattr(self, name)
            if type(value) is not int or not lowest <= value <= highest:
                upper = f" to {highest}" if highest < LARGEST else " or more"
                raise UsageError(f"{_option(name)} must be a whole number from {lowest}"
                                 f"{upper} (it is {_shown(value)})", Location(_option(name)))
        for name in ("decision_timeout", "header_timeout", "body_timeout"):
            value = getattr(self, name)
            if type(value) not in (int, float) or not math.isfinite(value) \
                    or not 0 < value <= LONGEST:
                raise UsageError(f"{_option(name)} must be a number of seconds above 0 and "
                                 f"at most {LONGEST} (it is {_shown(value)})",
                                 Location(_option(name)))

    def check_address(self) -> None:
        """The host names this machine and the port is free: bound for a moment here, as
        uvicorn will bind it, so that a mistake is one message before "serving", not a
        server error after it. (Another program can still take the port in between.)"""
        try:
            found = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        except (OSError, UnicodeError) as error:
            raise UsageError(f"the host {self.host} cannot be found", Location("--host"),
                             "give an address of this machine, such as 127.0.0.1, or "
                             f"0.0.0.0 for all of them ({_reason(error)})") from None
        family, _type, _proto, _name, address = found[0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise UsageError(f"port {self.port} on {self.host} is already in use",
                                     Location("--port"), "stop the program using it, or "
                                     "choose another port") from None
                raise UsageError(f"cannot listen on {self.host} port {self.port}: "
                                 f"{_reason(error)}", Location("--host"),
                                 "give an address of this machine, such as 127.0.0.1, "
                                 "and a port this user may open (1024 or above unless "
                                 "the service may open lower ones)") from None

    def check_log_path(self) -> None:
        """The decision log can be written where it is asked for: not a folder, in a
        folder (or one that can be made) this process may write. Checked before serving:
        the writer would otherwise fail at startup or warn every half second forever."""
        if not self.decision_log:
            return
        path = Path(self.decision_log)
        where = Location("--decision-log")
        if path.is_dir():
            raise UsageError(f"the decision log {path} is a folder", where,
                             f"give a file in it, e.g. {path / 'decisions.jsonl'}")
        try:
            if path.exists():
                if path.is_file():       # a pipe or a device is opened by the writer
                    with open(path, "ab"):
                        pass
                return
            for folder in path.absolute().parents:   # the nearest that exists is made into
                if not os.path.lexists(folder):      # the others, so it must be a folder
                    continue
                if not folder.is_dir():
                    raise UsageError(f"the decision log {path} would be inside {folder}, "
                                     "which is a file, not a folder", where,
                                     "give a path in a folder")
                break
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(descriptor)
            os.unlink(probe)
        except OSError as error:
            raise UsageError(f"the decision log {path} cannot be written: "
                             f"{_reason(error)}", where,
                             "give a path in a folder this service's user may write") \
                from None

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServiceConfig:
        text = os.environ.get(ENVIRONMENT)
        if not text:
            raise UsageError(f"{ENVIRONMENT} is not set", None,
                             "start the service with `neocrm-policy serve`")
        return cls(**json.loads(text))

    def admin_token(self) -> str | None:
        """The bearer token for the admin endpoints, or None (they are then off): the
        environment variable, else the file it or the configuration names."""
        token = os.environ.get(TOKEN_VARIABLE)
        if token:
            return token.strip() or None
        path = self.admin_token_file or os.environ.get(TOKEN_FILE_VARIABLE)
        if not path:
            return None
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the admin token file {path}: {exc}",
                             Location(path), "give a readable file holding the token") \
                from None
        return text or None
