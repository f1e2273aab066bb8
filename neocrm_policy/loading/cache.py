"""The user cache: verdicts that are slow to reach and cheap to re-check, kept between
processes so that an editor's tenth `validate` of the hour does not redo the first's work.

What it keeps is data, never code: JSON records, each under a key made of content hashes
(the files a verdict was reached on, and the package's own code), re-computed and compared
on every read. A record that does not parse, does not match its key, is not the current
user's or is writable by others is ignored and rebuilt; nothing in a record is trusted
before its key matches. Writes are atomic (a temporary file renamed into place), so a
crash leaves the old record or the new one, never half of one.

Where: `$NEOCRM_POLICY_CACHE_DIR`, else `$XDG_CACHE_HOME/neocrm-policy`, else
`~/.cache/neocrm-policy`. `NEOCRM_POLICY_CACHE=0` (or `off`, `no`, `false`) turns it off.
This room knows nothing of policies: it hashes bytes and stores JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

CACHE_ENV = "NEOCRM_POLICY_CACHE"
"""Set to 0, off, no or false to neither read nor write the cache."""
CACHE_DIR_ENV = "NEOCRM_POLICY_CACHE_DIR"
"""A folder to keep the cache in, instead of the user cache folder."""
FORMAT = 1
"""Bumped when the shape of a record changes, so older records are simply not found."""

_PACKAGE = Path(__file__).resolve().parent.parent
_code_digest: str | None = None


def enabled() -> bool:
    return os.environ.get(CACHE_ENV, "1").strip().lower() not in ("0", "off", "no", "false")


def folder() -> Path | None:
    """The cache folder, or None when the cache is off or no home is known."""
    if not enabled():
        return None
    chosen = os.environ.get(CACHE_DIR_ENV)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):   # the XDG rule: a relative value is ignored
        home = os.path.expanduser("~")
        if home == "~":
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "neocrm-policy"


def code_digest() -> str:
    """A hash of the package's code and data (every .py, .json and .lark file it ships)
    and of the Python version: a verdict reached by other code is another verdict, even
    when the version number did not move (an editable install, a developer's checkout)."""
    global _code_digest
    if _code_digest is None:
        digest = hashlib.sha256(f"{FORMAT}|{sys.version}|".encode())
        for parts in _code_files():   # os.walk, not Path.rglob: a third of the time
            digest.update(os.path.join(*parts).encode() + b"\0")
            with open(os.path.join(_PACKAGE, *parts), "rb") as handle:
                digest.update(handle.read() + b"\0")
        grammar = _PACKAGE.parent / "grammar"
        for path in sorted(grammar.glob("*.lark")) if grammar.is_dir() else ():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        _code_digest = digest.hexdigest()
    return _code_digest


def _code_files() -> list[tuple[str, ...]]:
    """The package's .py, .json and .lark files (outside __pycache__), as the parts of
    their paths below it, in order."""
    found = []
    for root, dirs, files in os.walk(_PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        inside = os.path.relpath(root, _PACKAGE)
        prefix = () if inside == os.curdir else tuple(inside.split(os.sep))
        found += [(*prefix, name) for name in files if name.endswith((".py", ".json", ".lark"))]
    return sorted(found)


def digest_of(*parts: str | bytes) -> str:
    """The SHA-256 of several pieces of text or bytes, each kept apart from the next."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def read(name: str, key: str) -> Any:
    """The value stored under `name` if its key is `key`; None when there is none, it is
    stale, damaged or not safely owned (then it will simply be rebuilt)."""
    where = folder()
    if where is None:
        return None
    path = where / f"{name}.json"
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not _owned(info):
            return None
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            text = handle.read(_MAX_RECORD_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if len(text) > _MAX_RECORD_BYTES:
        return None
    try:
        record = json.loads(text)
    except ValueError:   # truncated or damaged: rebuilt by the caller
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT \
            or record.get("key") != key or "value" not in record:
        return None
    return record["value"]


def write(name: str, key: str, value: Any) -> None:
    """Store `value` under `name` for `key`, atomically; a cache that cannot be written
    (read-only home, full disk) is skipped, since it only ever saves time."""
    where = folder()
    if where is None:
        return
    text = json.dumps({"format": FORMAT, "key": key, "value": value}, ensure_ascii=False,
                      separators=(",", ":"))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate, written as an escape in YAML
        return
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned(os.stat(where)):
            return
        from ..files import write_atomically   # only to write
        write_atomically(where / f"{name}.json", data, new_mode=0o600)
    except OSError:
        return


_MAX_RECORD_BYTES = 20_000_000


def _owned(info: os.stat_result) -> bool:
    """Written by this user and by nobody else: a record another user could plant is
    ignored, as ssh ignores a key file others can write."""
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return mine and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
