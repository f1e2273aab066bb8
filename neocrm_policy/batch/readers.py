"""Reading a batch: JSON Lines, CSV and Parquet, in chunks, from a file or standard input.

Reading is split in two so that worker processes share the work: the reading process
only cuts the input into chunks of raw lines, rows or Arrow record batches (cheap, and
memory stays flat whatever the file's size), and `Decoding` turns a chunk into records
wherever it runs. Each record keeps its place: the line of a JSON Lines or CSV file (the
CSV header is line 1), or the row of a Parquet file (the first row is 1).
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ..errors import FactError, FactTypeError, Location, UsageError
from ..language.facts import parse_facts_json, read_as_written
from ..language.model import Input
from .columns import AT_COLUMN, FactColumns, flattened

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
             ".parquet": "parquet", ".pq": "parquet"}
BLOCK = 1 << 20
"""Bytes read at a time from a JSON Lines input."""
MAX_LINE_BYTES = 16 << 20
"""The longest line a record may be (characters, for CSV): far more than any set of
facts, and a bound on memory when a file has no line ends (`/dev/zero`, a binary file)."""


def _too_long(path: str, line: int) -> UsageError:
    bound = f"{MAX_LINE_BYTES >> 20} MiB" if MAX_LINE_BYTES >= 1 << 20 \
        else f"{MAX_LINE_BYTES:,} bytes"
    name = "standard input" if path == "-" else path
    return UsageError(f"line {line} is longer than {bound}, the most one record "
                      "may be; the batch stopped there", Location(name, line),
                      "give one record a line; is this the right file, in the right format?")


def _longest(lines: list[bytes], first: int, path: str) -> None:
    """Refuse the first of `lines` (numbered from `first`) over the bound."""
    for n, line in enumerate(lines):
        if len(line) > MAX_LINE_BYTES:
            raise _too_long(path, first + n)


def format_of(path: str, given: str | None, what: str) -> str:
    """The format named, else the one the file name says; standard streams are JSON Lines."""
    if given:
        return given
    if path == "-":
        return "jsonl"
    found = _SUFFIXES.get(Path(path).suffix.lower())
    if found is None:
        raise UsageError(f"cannot tell the format of {path} from its name", None,
                         f"name it .jsonl, .csv or .parquet, or give --{what}-format")
    return found


@dataclass(frozen=True)
class Chunk:
    """Consecutive records as read: raw lines (JSON Lines), (line, cells) pairs (CSV) or
    an Arrow record batch (Parquet); `first` is the place of the first, `size` the bytes
    (or rows) read, for progress."""

    first: int
    items: Any
    size: int

    def slices(self, records: int) -> Iterator[Chunk]:
        """The chunk as consecutive chunks of at most `records` items each (JSON Lines:
        raw lines, so the places follow on; CSV items carry their own lines)."""
        items = self.items
        total = len(items) if isinstance(items, list) else items.num_rows
        if total <= records:
            yield self
            return
        for start in range(0, total, records):
            part = items[start:start + records] if isinstance(items, list) \
                else items.slice(start, records)
            yield Chunk(self.first + start, part, 0)


class Source:
    """An input cut into chunks. `columns` is the header (CSV, Parquet), `total` the
    size in the unit of `Chunk.size` when it is known beforehand, for progress."""

    position = "line"
    columns: tuple[str, ...] | None = None
    total: int | None = None

    def chunks(self) -> Iterator[Chunk]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _open_binary(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", Location(path),
                         "give a file, or - for standard input") from None


def _size(handle: BinaryIO) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size or None
    except (OSError, io.UnsupportedOperation, AttributeError):
        return None


class JsonLinesSource(Source):
    """One JSON object per line; blank lines are skipped (and counted)."""

    def __init__(self, path: str, records: int) -> None:
        self.handle = _open_binary(path)
        self.path = path
        self.records = records
        self.total = _size(self.handle) if path != "-" else None

    def chunks(self) -> Iterator[Chunk]:
        read, first, rest = self.handle.read, 1, b""
        pending: list[bytes] = []
        while True:
            block = read(BLOCK)
            if not block:
                break
            long = len(rest) + len(block) > MAX_LINE_BYTES
            lines = (rest + block).split(b"\n")
            if long:
                _longest(lines, first + len(pending), self.path)
            rest = lines.pop()
            pending += lines
            while len(pending) >= self.records:
                taken, pending = pending[:self.records], pending[self.records:]
                yield Chunk(first, taken, sum(map(len, taken)) + len(taken))
                first += len(taken)
        if rest:
            pending.append(rest)
        if pending:
            yield Chunk(first, pending, sum(map(len, pending)) + len(pending))

    def blocks(self) -> Iterator[Chunk]:
        """The records as `chunks` gives them, each chunk one bytes object of whole lines
        (about a block of the file) for a worker process to split: one object to send
        instead of thousands, and no splitting in the process that reads."""
        read, first, rest = self.handle.read, 1, b""
        while True:
            block = read(BLOCK)
            if not block:
                break
            data = rest + block
            if len(data) > MAX_LINE_BYTES:
                _longest(data.split(b"\n"), first, self.path)
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            piece, rest = data[:cut], data[cut + 1:]
            yield Chunk(first, piece, cut + 1)
            first += piece.count(b"\n") + 1
        if rest:
            yield Chunk(first, rest, len(rest))

    def close(self) -> None:
        if self.handle is not sys.stdin.buffer:
            self.handle.close()


class CsvSource(Source):
    """A header of dotted fact paths (and `at`, and the id column), then one record a
    row; UTF-8, with or without a byte-order mark."""

    def __init__(self, path: str, records: int) -> None:
        self.handle = _open_binary(path)
        self.total = _size(self.handle) if path != "-" else None
        self.reader = csv.reader(self._lines(path))
        self.records = records
        try:
            header = next(self.reader, None)
        except csv.Error as exc:
            raise UsageError(f"{path} does not start with a CSV header: {exc}",
                             Location(path, 1), "save it as UTF-8 CSV") from None
        if not header:
            raise UsageError(f"{path} has no header line", Location(path, 1),
                             "the first line names the columns, e.g. "
                             "incident.level,incident.reported_at")
        self.columns = tuple(name.strip() for name in header)
        self.path = path

    def _lines(self, path: str) -> Iterator[str]:
        """The file's lines as text, each read and decoded alone: none longer than
        `MAX_LINE_BYTES`, and a line that is not UTF-8 is named by its number. A line
        may end in a line feed, CR LF or (old Mac files) a lone carriage return."""
        readline, line, bound = self.handle.readline, 0, MAX_LINE_BYTES
        name = "standard input" if path == "-" else path
        while data := readline(bound + 1):
            line += 1
            if len(data) > bound and not data.endswith(b"\n"):
                raise _too_long(path, line)
            try:
                text = data.decode("utf-8-sig" if line == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise UsageError(f"line {line} is not UTF-8 text (byte {exc.start + 1} of "
                                 "the line)", Location(name, line), "save it as UTF-8") \
                    from None
            if "\r" in text and text.find("\r") != len(text) - 2:
                pieces = text.splitlines(keepends=True)       # carriage returns alone
                line += len(pieces) - 1
                yield from pieces
            else:
                yield text

    def chunks(self) -> Iterator[Chunk]:
        reader, rows, line, size = self.reader, [], self.reader.line_num, 0
        position = self.handle.tell if self.total else None
        start = position() if position else 0
        while True:
            cells: list[str] | csv.Error | None
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                cells = exc
            if cells is None:
                break
            if cells:                                   # a blank line is no record
                rows.append((line + 1, cells))
            line = reader.line_num
            if len(rows) >= self.records:
                size, start = (position() - start, position()) if position else (0, 0)
                yield Chunk(rows[0][0], rows, size)
                rows = []
        if rows:
            yield Chunk(rows[0][0], rows, (position() - start) if position else 0)

    def close(self) -> None:
        if self.handle is not sys.stdin.buffer:
            self.handle.close()


def arrow_columns(schema) -> tuple[str, ...]:
    """Column names with struct columns spelt as dotted paths, as `flatten` gives them."""
    import pyarrow as pa
    names: list[str] = []

    def walk(prefix: str, field) -> None:
        if pa.types.is_struct(field.type):
            for child in field.type:
                walk(f"{prefix}{field.name}.", child)
        else:
            names.append(prefix + field.name)
    for field in schema:
        walk("", field)
    return tuple(names)


SPOOL_MEMORY = 32 << 20
"""Bytes of a Parquet input on standard input kept in memory; past this it goes to a
temporary file."""


def spooled(stream: BinaryIO, memory: int = SPOOL_MEMORY) -> BinaryIO:
    """A seekable copy of `stream`, at its start: in memory while it is at most `memory`
    bytes, else in an unnamed temporary file (in TMPDIR, gone when closed), copied a block
    at a time, so memory stays bounded whatever the stream's size."""
    spool: BinaryIO = io.BytesIO()
    while block := stream.read(BLOCK):
        if type(spool) is io.BytesIO and spool.tell() + len(block) > memory:
            file = tempfile.TemporaryFile()
            file.write(spool.getbuffer())
            spool = file
        spool.write(block)
    spool.seek(0)
    return spool


class ParquetSource(Source):
    """Row groups read a record batch at a time. Parquet keeps its index at the end of
    the file, so standard input is first copied (`spooled`): to memory up to 32 MiB, past
    that to a temporary file as large as the input."""

    position = "row"

    def __init__(self, path: str, records: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq
        self.spool = spooled(sys.stdin.buffer) if path == "-" else None
        try:
            self.file = pq.ParquetFile(self.spool if self.spool is not None else path)
        except (OSError, pa.ArrowException) as exc:
            self.close()
            raise UsageError(f"cannot read {path} as Parquet: {exc}", Location(path),
                             "give a Parquet file, or name the format with --in-format") \
                from None
        self.path = path
        self.records = records
        self.columns = arrow_columns(self.file.schema_arrow)
        self.total = self.file.metadata.num_rows

    def chunks(self, row_groups: Sequence[int] | None = None, first: int = 1
               ) -> Iterator[Chunk]:
        """Record batches in order, none across two row groups, so that a run over some
        row groups (a partition: `row_groups`, whose first row is row `first` of the
        file) cuts them where a run over the whole file does; a damaged page (the index
        at the end may be sound while the rows it points to are not) stops the batch with
        the rows it reached."""
        import pyarrow as pa
        groups = range(self.file.metadata.num_row_groups) if row_groups is None \
            else row_groups
        for group in groups:
            try:
                batches = self.file.iter_batches(batch_size=self.records, row_groups=[group])
                while (batch := next(batches, None)) is not None:
                    yield Chunk(first, batch, batch.num_rows)
                    first += batch.num_rows
            except (OSError, pa.ArrowException) as exc:
                name = "standard input" if self.path == "-" else self.path
                raise UsageError(f"cannot read rows {first:,} onwards of {name}: the Parquet "
                                 f"file is damaged there ({exc})", Location(name),
                                 "write the file again, or check how it was copied") from None

    def parts(self, records: int) -> list[tuple[tuple[int, ...], int]]:
        """The file cut into partitions of whole row groups, each of about `records`
        rows or more: (its row groups, the number of its first row)."""
        metadata = self.file.metadata
        parts: list[tuple[tuple[int, ...], int]] = []
        groups: list[int] = []
        first = row = 1
        for group in range(metadata.num_row_groups):
            groups.append(group)
            row += metadata.row_group(group).num_rows
            if row - first >= records:
                parts.append((tuple(groups), first))
                groups, first = [], row
        if groups:
            parts.append((tuple(groups), first))
        return parts

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def open_source(path: str, fmt: str, records: int) -> Source:
    return {"jsonl": JsonLinesSource, "csv": CsvSource, "parquet": ParquetSource}[fmt](
        path, records)


def not_one_object() -> FactTypeError:
    """What every door says of facts that are JSON but not one object."""
    return FactTypeError("facts must be one JSON object", None,
                         "wrap the facts in { }, e.g. {\"incident\": {\"level\": 4}}")


def pop_path(record: dict, path: tuple[str, ...]) -> Any:
    """Take the value at a dotted path (`incident.ticket`) out of a JSON record, and the
    objects it leaves empty; None when the record has nothing there."""
    parents, node = [], record
    for part in path[:-1]:
        child = node.get(part)
        if type(child) is not dict:
            return None
        parents.append((node, part))
        node = child
    value = node.pop(path[-1], None)
    for parent, part in reversed(parents):
        if parent[part]:
            break
        del parent[part]
    return value


class Decoding:
    """Turns chunks into (place, id, at, facts or error) items, wherever it runs."""

    def __init__(self, fmt: str, query: str, inputs: dict[str, Input],
                 id_column: str | None, columns: tuple[str, ...] | None) -> None:
        self.fmt, self.id_column = fmt, id_column
        self.id_path = tuple(id_column.split(".")) if id_column and "." in id_column else None
        self.plan = FactColumns(columns, query, inputs, id_column, text=fmt == "csv") \
            if columns is not None else None

    def items(self, chunk: Chunk) -> Iterator[tuple[int, Any, Any, Any]]:
        if self.fmt == "jsonl":
            return self._json_lines(chunk)
        if self.fmt == "csv":
            return self._csv(chunk)
        return self._arrow(chunk)

    def _json_lines(self, chunk: Chunk) -> Iterator[tuple[int, Any, Any, Any]]:
        """Each line's item; the common line (an object read by orjson as the facts
        reader reads it, a top-level id) the quick way, any other through `json_item`.
        The batch's own loop, `Decider.decide_json_lines`, does the same without a
        generator between."""
        loads, id_column, careful = orjson.loads, self.id_column, self.json_item
        quick = self.id_path is None
        line = chunk.first - 1
        for text in chunk.items:
            line += 1
            try:
                record = loads(text) if quick else None
            except orjson.JSONDecodeError:
                record = None
            if type(record) is dict and read_as_written(text, record):
                at = record.pop(AT_COLUMN, None)
                yield line, (record.pop(id_column, None) if id_column is not None
                             else None), at, record
            else:
                item = careful(line, text)
                if item is not None:
                    yield item

    def json_item(self, line: int, text: bytes) -> tuple[int, Any, Any, Any] | None:
        """(place, id, at, facts or error) of one JSON line, None for a blank line. The
        line is read as `eval --input` reads a facts file (`parse_facts_json`: exact
        decimals, a key given twice refused), and refused in the same words, the file's
        name being "line N" and the column within the line said in the message."""
        if not text or text.isspace():
            return None
        try:
            record = parse_facts_json(text.decode("utf-8"), f"line {line}")
        except UnicodeDecodeError as bad:
            return line, None, None, FactError(
                f"line {line} is not UTF-8 text (byte {bad.start + 1} of the line)", None,
                "save the file as UTF-8")
        except FactError as error:
            where = error.location
            if where is not None and where.column:
                error.message += f" at column {where.column}"
            error.location = None
            return line, None, None, error
        if record is None:
            record = {}        # null facts are no facts, as for the API and the service
        if type(record) is not dict:
            return line, None, None, not_one_object()
        at = record.pop(AT_COLUMN, None)
        id_column = self.id_column
        if id_column is None:
            ident = None
        elif self.id_path is None or id_column in record:
            ident = record.pop(id_column, None)
        else:
            ident = pop_path(record, self.id_path)
        return line, ident, at, record

    def _csv(self, chunk: Chunk) -> Iterator[tuple[int, Any, Any, Any]]:
        plan = self.plan
        assert plan is not None, "CSV is read by its columns' plan"
        width = len(plan.columns)
        for line, cells in chunk.items:
            if isinstance(cells, csv.Error):
                yield line, None, None, FactError(f"line {line} is not CSV: {cells}", None,
                                                  "quote cells that hold commas or quotes")
            elif len(cells) != width:
                yield line, None, None, FactError(
                    f"line {line} has {len(cells)} cells, the header {width}", None,
                    "give every row as many cells as the header has columns")
            else:
                yield line, *plan.record(cells)

    def _arrow(self, chunk: Chunk) -> Iterator[tuple[int, Any, Any, Any]]:
        import pyarrow as pa
        table = flattened(pa.Table.from_batches([chunk.items]))
        plan = self.plan
        assert plan is not None, "Parquet is read by its columns' plan"
        if table.column_names != list(plan.columns):
            raise UsageError("the Parquet file's columns change between row groups", None,
                             "write the file with one schema")
        rows = plan.records([c.to_pylist() for c in table.columns],
                            [plain_arrow(c.type) for c in table.columns])
        for row, (ident, at, facts) in enumerate(rows, start=chunk.first):
            yield row, ident, at, facts


def plain_arrow(kind: Any) -> bool:
    """Whether an Arrow column's Python values are text, numbers or yes/no, which the
    columns' conversions (of times, durations and tuples) leave as they are."""
    import pyarrow as pa
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind) or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind) or pa.types.is_null(kind))
