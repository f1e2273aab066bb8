"""Writing files so that nothing is lost: every file the package writes (batch output,
rule and test files rewritten by `fmt` and `test --accept`, the summary page, caches,
the generated parser) goes through here.

A file is written to a temporary file beside it (`.NAME.XXXX.partial`), flushed to disk,
given the mode the file had (a new one: the mode the user's umask gives, as `open` would,
not the 0600 of a temporary file) and only then renamed over it. A reader, or a service
reloading its rules as another user, sees the old file or the new one, never half of one;
a run that fails or is interrupted leaves the old file as it was and removes its partial
one. A FIFO or device (`/dev/null`) cannot be replaced by a rename, so it is written
directly.
"""

from __future__ import annotations

import os
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

PARTIAL = ".partial"
"""The end of a temporary file's name: what a file half-written by a run that died
(killed outright, so it could not clean up) is called, beside the file it was for."""


@lru_cache(maxsize=1)
def new_file_mode() -> int:
    """The mode `open` gives a new file under this process's umask (0644 under 022)."""
    umask = None
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if umask is None:          # not Linux: read it by setting it, and set it back at once
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


class AtomicFile:
    """A file being written in full: bytes go to its temporary file; `commit` puts it in
    place, `discard` (or leaving a `with` block by an error or an interrupt) removes it and
    leaves the old file as it was. A symbolic link is written through, to the file it names.
    """

    def __init__(self, path: str | os.PathLike, new_mode: int | None = None) -> None:
        self.path = Path(path)
        try:
            before = os.stat(path)
        except FileNotFoundError:
            before = None
        self.temporary: str | None = None
        if before is not None and not stat.S_ISREG(before.st_mode):
            self.handle: BinaryIO = open(path, "wb")    # a FIFO, a device, /dev/stdout
            return
        self.target = Path(os.path.realpath(path))
        self.mode = stat.S_IMODE(before.st_mode) if before is not None \
            else new_mode if new_mode is not None else new_file_mode()
        self.owner = (before.st_uid, before.st_gid) if before is not None else None
        descriptor, self.temporary = tempfile.mkstemp(
            prefix=f".{self.target.name}.", suffix=PARTIAL, dir=self.target.parent)
        self.handle = os.fdopen(descriptor, "wb")

    def write(self, data: bytes) -> int:
        return self.handle.write(data)

    def commit(self) -> None:
        """Flush to disk, give the file its mode (and its owner, where allowed), rename."""
        handle = self.handle
        if self.temporary is None:
            handle.close()
            return
        try:
            handle.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), self.mode)
            else:                                   # Windows: by name
                os.chmod(self.temporary, self.mode)
            if self.owner is not None and hasattr(os, "fchown"):
                try:
                    os.fchown(handle.fileno(), *self.owner)
                except OSError:             # only root may give a file to another user
                    pass
            os.fsync(handle.fileno())
            handle.close()
            os.replace(self.temporary, self.target)
        except BaseException:
            self.discard()
            raise
        self.temporary = None

    def discard(self) -> None:
        """Remove the partial file; the file it was for is left as it was."""
        self.handle.close()
        if self.temporary is not None:
            try:
                os.unlink(self.temporary)
            except FileNotFoundError:
                pass
            self.temporary = None

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_atomically(path: str | os.PathLike, content: str | bytes,
                     new_mode: int | None = None) -> None:
    """Never a half-written file, never a file left at another mode: write beside it,
    flush to disk, then rename over it. `new_mode` is for a file that is private (a
    cache record): the mode of a new file instead of the umask's."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with AtomicFile(path, new_mode) as out:
        out.write(data)


__all__ = ["AtomicFile", "PARTIAL", "new_file_mode", "write_atomically"]
