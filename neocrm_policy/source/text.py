"""Reading rule files: bounded size, UTF-8, safe YAML that remembers where each node was.

This room turns bytes into plain Python values (dicts, lists, scalars) and nothing more:
no schema, no expressions. Mappings and lists come back as `YMap` and `YList`, ordinary
`dict` and `list` subclasses that also know the line and column of each key and item, so
every later stage can point a legal editor at the exact place of a mistake.

Only YAML's safe subset is accepted: no Python tags, no aliases (billion-laughs), no
duplicate keys, no nesting past `MAX_NESTING`. Scalars are read as YAML 1.2's core schema
reads them, and what YAML 1.1 would read otherwise (`017`, `0x1F`, `yes`, `.inf`, `1e5`) is
refused at its place, so a rule file means the same to every YAML tool. Files are read only
when they are regular files (inside the policy folder, when one is given), never waited on.
PyYAML's part is in `yaml_reader`, imported when a text is parsed: a command whose rule
files are recalled (`loading.parsed`) does not import PyYAML.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..errors import MAX_FILE_BYTES, Location, SourceError, read_at_most
from . import record

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def bundled(name: str) -> Path:
    """A data folder shipped with the package (`grammar`, `policies`).

    An installed wheel carries it inside the package; a source checkout (and an editable
    install) keeps it at the top of the repository.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.exists() else PACKAGE_DIR.parent / name


def read_text(path: Path | str, inside: Path | str | None = None) -> str:
    """A file's text, refusing what is not a regular file, too large or not UTF-8.

    With `inside` (the policy folder it was found in), a link that leads out of that
    folder is refused before anything is read, and the error never shows the text. A FIFO,
    device, socket or folder is refused without waiting: the file is opened non-blocking
    and checked before a byte is read. The size is counted while reading (at most one byte
    over the limit), since FIFOs, devices and /proc files report sizes that are not true."""
    path = Path(path)
    where = Location(str(path))
    real = _inside(path, Path(inside), where) if inside is not None else path
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
        getattr(os, "O_CLOEXEC", 0) | (getattr(os, "O_NOFOLLOW", 0) if inside is not None else 0)
    try:
        descriptor = os.open(real, flags)
    except OSError as exc:
        try:
            kind = _not_a_file(os.stat(real).st_mode)
        except OSError:
            kind = None
        if kind:
            raise _not_a_file_error(path, kind, where) from None
        raise SourceError(f"cannot read {path}: {exc.strerror}", where,
                          "check the path; rule files end in .yaml") from None
    try:
        kind = _not_a_file(os.fstat(descriptor).st_mode)
        if kind:
            raise _not_a_file_error(path, kind, where)
        data = read_at_most(descriptor, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}", where, None) from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"{path} is over the {MAX_FILE_BYTES}-byte limit", where,
                          "split the rules into several files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text (byte {exc.start})", where,
                          "save the file as UTF-8") from None


def _inside(path: Path, folder: Path, where: Location) -> Path:
    """The real path of a file found in `folder`, refused when a link leads out of it."""
    try:
        real = path.resolve(strict=True)
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:   # RuntimeError: a loop of links
        reason = getattr(exc, "strerror", None) or "a loop of links"
        raise SourceError(f"cannot read {path}: {reason}", where,
                          "check the path; a link must lead to a file in the folder") from None
    if not real.is_relative_to(root):
        raise SourceError(f"{path} is a link to a file outside the policy folder {folder}; "
                          "it is not read", where,
                          "copy the file into the folder, or link only to files inside it")
    return real


def _not_a_file(mode: int) -> str | None:
    """What a path is when it is not a regular file, in an editor's words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_a_file_error(path: Path, kind: str, where: Location) -> SourceError:
    return SourceError(f"{path} is {kind}, not a file; it is not read", where,
                       "a rule file is a plain file ending in .yaml; rename or remove this "
                       "one")


def parse_yaml(text: str, file: str) -> Any:
    """Safe-load one YAML document, keeping positions; errors point at the bad spot.
    Within `loading.parsed.replaying`, a rule file's document may come from the record of its
    folder instead (PyYAML is then not even imported)."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise SourceError(f"{file} is over the {MAX_FILE_BYTES}-byte limit",
                          Location(file), "split the rules into several files")
    data = record.recall_yaml(text, file)
    if data is None:
        from .yaml_reader import parse
        data = parse(text, file)
        record.note_yaml(text, file, data)
    return data


def position_of(text: str, path: tuple[str, ...], key: bool = False) -> tuple[int, int, int] | None:
    """Line, column and width of the value at `path` (or of its key) in JSON or YAML
    text, or None when the text does not parse or holds no such path. Used only to point
    at a fact in a file a service wrote; the facts themselves are read as JSON."""
    from .yaml_reader import position_of as find
    return find(text, path, key)


def positions_in(text: str):
    """`position_of` for many paths of one text, which is read once (`yaml_reader.positions`)."""
    from .yaml_reader import positions
    return positions(text)


def load_yaml(path: Path | str, inside: Path | str | None = None) -> Any:
    """A YAML file read with `read_text` (within the folder `inside`, when given)."""
    return parse_yaml(read_text(path, inside), str(path))
