"""What an operator sets when starting the service; nothing here touches the network.

The configuration is plain data so that it can cross into uvicorn's worker processes
(as JSON in an environment variable): each worker builds its own application from it.
The admin token is never part of it: each process reads it from its environment or from
a file, so it does not travel in process listings or in the serialised configuration.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import Location, UsageError

ENVIRONMENT = "NEOCRM_SERVICE_CONFIG"
"""The variable that hands the configuration to worker processes."""
TOKEN_VARIABLE = "NEOCRM_ADMIN_TOKEN"
TOKEN_FILE_VARIABLE = "NEOCRM_ADMIN_TOKEN_FILE"


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
    threads: int = 4
    """Threads that run decisions, so a slow one never stalls the event loop."""
    watch: bool = False
    """Reload when a file of the policy folder changes."""
    admin_token_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask", tuple(self.mask))
        for name in ("port", "workers", "log_max_bytes", "log_queue", "max_body_bytes",
                     "max_batch", "threads"):
            value = getattr(self, name)
            if type(value) is not int or value < (0 if name == "port" else 1):
                raise UsageError(f"{name} must be a positive whole number, not {value!r}",
                                 Location(f"--{name.replace('_', '-')}"))
        if not self.decision_timeout > 0:
            raise UsageError("the decision timeout must be above 0 seconds",
                             Location("--decision-timeout"))

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
