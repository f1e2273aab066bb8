"""The policy set a service answers with, and how a new one replaces it.

Loading and checking happen in a thread of their own, never on a request's path; the
new set is swapped in by one assignment, so a request that took the old set finishes
on it. A set that fails to load or check is refused: the last good one keeps serving,
and the refusal (its revision and first error) is kept for /ready and /metrics.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .engine import PolicySet, load
from ..errors import PolicyError, PolicyErrors, SourceError
from ..loading.loader import CUSTOMERS
from ..source.text import read_text

_FOLDERS_READ = ("", CUSTOMERS, "clause-map")
"""The parts of a policy folder that decide answers (policy tests do not)."""


def revision_of(folder: Path) -> str:
    """A content hash of the rule files, customer instruments and clause map: the same
    files give the same revision on every machine and in every worker."""
    digest = hashlib.sha256()
    for sub in _FOLDERS_READ:
        place = folder / sub if sub else folder
        if not place.is_dir():
            continue
        for path in sorted(place.iterdir()):
            if path.suffix in (".yaml", ".yml"):
                digest.update(f"{sub}/{path.name}\0".encode())
                try:   # as the loader reads it: never a FIFO, a device or a link out
                    digest.update(read_text(path, folder).encode())
                except SourceError:
                    digest.update(b"\0unreadable")
                digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Served:
    """One loaded policy set and where it came from."""

    policies: PolicySet
    revision: str
    loaded_at: str


@dataclass(frozen=True)
class ReloadOutcome:
    status: str            # "loaded", "unchanged" or "refused"
    revision: str
    at: str
    error: dict[str, Any] | None = None
    trigger: str = "start"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "revision": self.revision, "at": self.at,
                "trigger": self.trigger, "error": self.error}


def first_error(error: PolicyError) -> dict[str, Any]:
    """The first of an error's problems, as JSON, with its place in words."""
    one = error.errors[0] if isinstance(error, PolicyErrors) and error.errors else error
    data = one.to_dict()
    data["location"] = str(one.location) if one.location else None
    if isinstance(error, PolicyErrors):
        data["problems"] = len(error.errors)
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_served(folder: Path) -> Served:
    """Load and check a folder; the revision is of the files that were loaded (read
    again until no file changed while loading)."""
    for _ in range(3):
        before = revision_of(folder)
        policies = load(folder)
        if revision_of(folder) == before:
            break
    policies.generate_readers()
    return Served(policies, before, _now())


class PolicyStore:
    """The set in service. `current` is read without a lock: one attribute, swapped whole."""

    def __init__(self, folder: Path, served: Served) -> None:
        self.folder = folder
        self.current = served
        self.last = ReloadOutcome("loaded", served.revision, served.loaded_at)
        self.refused: ReloadOutcome | None = None
        self.reloads = 0
        self.failures = 0
        self.last_duration = 0.0
        """Seconds the last reload took to load and check the folder."""
        self._lock = threading.Lock()
        self._pending: asyncio.Lock | None = None

    def reload_now(self, trigger: str) -> ReloadOutcome:
        """Load the folder again (blocking; call from a thread) and swap if it is good."""
        with self._lock:
            revision = revision_of(self.folder)
            started = time.monotonic()
            try:
                served = load_served(self.folder)
            except PolicyError as error:
                outcome = ReloadOutcome("refused", revision, _now(), first_error(error),
                                        trigger)
                self.failures += 1
                self.refused = outcome
            else:
                self.refused = None
                if served.revision == self.current.revision:   # the set in service stays,
                    outcome = ReloadOutcome("unchanged", served.revision, _now(),  # as loaded
                                            trigger=trigger)
                else:
                    self.current = served
                    outcome = ReloadOutcome("loaded", served.revision, served.loaded_at,
                                            trigger=trigger)
            self.reloads += 1
            self.last = outcome
            self.last_duration = time.monotonic() - started
            return outcome

    async def reload(self, trigger: str) -> ReloadOutcome:
        """Reload off the event loop; concurrent calls wait for one another."""
        if self._pending is None:
            self._pending = asyncio.Lock()
        async with self._pending:
            return await asyncio.get_running_loop().run_in_executor(
                None, self.reload_now, trigger)
