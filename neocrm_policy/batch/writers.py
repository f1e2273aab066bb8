"""Writing a batch's output records: JSON Lines, CSV or Parquet, to a file or standard
output.

As with reading, the work is split: `Encoding` turns a chunk of output records into
bytes (JSON Lines, CSV) or an Arrow record batch (Parquet) wherever the chunk was
decided, and a `Sink` in the writing process only appends them, in input order.
"""

from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal
from typing import Any, BinaryIO

import orjson

from ..errors import Location, UsageError
from ..files import AtomicFile
from ..language.values import to_json
from .columns import ResultColumns, arrow_rows, csv_cell


def _json_default(value: Any) -> Any:
    """What orjson cannot write alone: exact decimals (an id read as one), and the
    engine's own values, as the decision JSON writes them."""
    if isinstance(value, Decimal):
        return to_json(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class Encoding:
    """Output records → the bytes or record batch of one format."""

    def __init__(self, fmt: str, columns: ResultColumns) -> None:
        self.fmt, self.columns = fmt, columns
        self.schema = columns.arrow_schema() if fmt == "parquet" else None
        self.between = b"},{" + orjson.dumps(columns.position) + b":" if columns.position \
            else None

    def encode(self, records: list[dict]) -> Any:
        if self.fmt == "jsonl":
            return self.json_lines(records)
        rows = [self.columns.row(r) for r in records]
        if self.fmt == "csv":
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerows([[csv_cell(v) for v in row] for row in rows])
            return text.getvalue().encode("utf-8")
        return arrow_rows(rows, self.schema)

    def joined(self, pieces: list) -> Any:
        """Encoded slices of a chunk as one: bytes end to end, or the record batches."""
        return pieces if self.fmt == "parquet" else b"".join(pieces)

    def json_lines(self, records: list[dict]) -> bytes:
        """One JSON object per line. The chunk is written as one JSON array (a call per
        record costs several times more), then cut into lines where one record ends and
        the next begins: `},{"line":`. That cannot be inside a string (a quote in one is
        written `\\"`), only where an object inside a list starts with the key "line"
        (an id or a result holding such a list). So the cut is made only when there are
        exactly as many places as records less one; else one call per record."""
        if not records:
            return b""
        dumps, between = orjson.dumps, self.between
        if between is not None:
            try:             # results and ids have text keys; else, keys written as text
                array = dumps(records, default=_json_default)
            except orjson.JSONEncodeError:
                array = dumps(records, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
            if array.count(between) == len(records) - 1:
                return array[1:-1].replace(between, b"}\n{" + between[3:]) + b"\n"
        option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
        return b"".join([dumps(r, default=_json_default, option=option) for r in records])


class Sink:
    """Where the encoded chunks go, in order. A file is written in full or not at all
    (`files.AtomicFile`): `close` puts it in place once every record is in it; `discard`,
    when the batch fails or is interrupted, removes the partial file and leaves any file
    already there as it was."""

    def __init__(self, path: str, fmt: str, columns: ResultColumns) -> None:
        self.path, self.fmt = path, fmt
        self.file = None if path == "-" else self._open(path)
        self.handle: BinaryIO = sys.stdout.buffer if self.file is None else self.file.handle
        self.parquet = None
        try:
            if fmt == "csv":
                text = io.StringIO()
                csv.writer(text, lineterminator="\n").writerow(columns.names)
                self.handle.write(text.getvalue().encode("utf-8"))
            elif fmt == "parquet":
                import pyarrow.parquet as pq
                self.parquet = pq.ParquetWriter(self.handle, columns.arrow_schema())
        except BaseException:
            self.discard()
            raise

    @staticmethod
    def _open(path: str) -> AtomicFile:
        try:
            return AtomicFile(path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}", Location(path),
                             "give a writable file, or - for standard output") from None

    def write(self, encoded: Any) -> None:
        """Bytes (JSON Lines, CSV) or a list of record batches (Parquet)."""
        if self.parquet is not None:
            for batch in encoded:
                if batch.num_rows:
                    self.parquet.write_batch(batch)
        elif encoded:
            self.handle.write(encoded)

    def close(self) -> None:
        """Every record is written: finish the file and put it in place."""
        if self.parquet is not None:
            self.parquet.close()
        if self.file is None:
            self.handle.flush()
            return
        try:
            self.file.commit()
        except OSError as exc:
            raise UsageError(f"cannot write {self.path}: {exc.strerror}", Location(self.path),
                             "give a writable file, or - for standard output") from None

    def discard(self) -> None:
        """The batch did not finish: no output file that looks complete is left."""
        if self.file is None:
            return
        if self.parquet is not None:
            try:
                self.parquet.close()
            except Exception:           # noqa: BLE001 - the file is being thrown away
                pass
        self.file.discard()
