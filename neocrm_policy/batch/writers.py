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
from ..values import to_json
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

    def encode(self, records: list[dict]) -> Any:
        if self.fmt == "jsonl":
            dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
            return b"".join([dumps(r, default=_json_default, option=option) for r in records])
        rows = [self.columns.row(r) for r in records]
        if self.fmt == "csv":
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerows([[csv_cell(v) for v in row] for row in rows])
            return text.getvalue().encode("utf-8")
        return arrow_rows(rows, self.schema)


class Sink:
    """Where the encoded chunks go, in order."""

    def __init__(self, path: str, fmt: str, columns: ResultColumns) -> None:
        self.path, self.fmt = path, fmt
        self.handle: BinaryIO = sys.stdout.buffer if path == "-" else self._open(path)
        self.parquet = None
        if fmt == "csv":
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(columns.names)
            self.handle.write(text.getvalue().encode("utf-8"))
        elif fmt == "parquet":
            import pyarrow.parquet as pq
            self.parquet = pq.ParquetWriter(self.handle, columns.arrow_schema())

    @staticmethod
    def _open(path: str) -> BinaryIO:
        try:
            return open(path, "wb")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}", Location(path),
                             "give a writable file, or - for standard output") from None

    def write(self, encoded: Any) -> None:
        if self.parquet is not None:
            if encoded.num_rows:
                self.parquet.write_batch(encoded)
        elif encoded:
            self.handle.write(encoded)

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        if self.handle is sys.stdout.buffer:
            self.handle.flush()
        else:
            self.handle.close()
