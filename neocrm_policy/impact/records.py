"""What an impact is measured over, as one stream of records.

DATA may be a folder of example files (or one), a JSON Lines, CSV or Parquet file read by
the batch readers (each record with its own `at` and customer, the query given once for
the file), or the service's decision log (each line a decision with its query, time and
facts). Every form becomes the same items, read in chunks so that memory stays flat:
`Item(query, ident, at, facts)`, where `facts` is the record's facts or the error that
kept it from being read, and `ident` is what the report shows to find the record again
(the id column, the line or row, the file, or the log's decision id).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ..batch.columns import declared_inputs
from ..batch.readers import Chunk, Decoding, format_of, open_source, read_as_written
from ..deciding.engine import PolicySet
from ..errors import FactError, Location, PolicyError, UsageError
from ..language.facts import parse_facts_json

DATA_FORMATS = ("examples", "jsonl", "csv", "parquet", "log")
HIDDEN = "(masked)"
"""What the decision log writes in place of a masked value outside `facts`
(`service.decision_log.HIDDEN`; this room does not import the service)."""
CHUNK = 2000


class Item(NamedTuple):
    """One record: a tuple, as millions are made."""

    query: str
    ident: Any
    at: Any
    facts: Any
    """The facts (a dict), or the PolicyError that kept the record from being read."""
    masked: tuple[str, ...] = ()
    """Fact paths the decision log left out (`masked`): the record cannot be decided
    again when its query reads one of them, and the report says so rather than guess."""
    logged: Any = None
    """The result the log kept (JSON), for `replay`."""
    revision: str | None = None
    """The policy revision that decided a logged record."""


def data_format(path: Path, given: str | None) -> str:
    """The form of DATA: named, else a folder is examples, a `.json` file holding one
    object with `query` and `facts` is an example, a JSON Lines file whose first record is
    a decision-log line is a log, and the rest by the batch's suffixes."""
    if given:
        return given
    if path.is_dir():
        return "examples"
    if not path.exists():
        raise UsageError(f"cannot read {path}: there is no such file or folder",
                         Location(str(path)), "give a folder of example files, or a JSON "
                         "Lines, CSV or Parquet file, or the service's decision log")
    if path.suffix.lower() == ".log":
        return "log"
    fmt = format_of(str(path), None, "data")
    if fmt == "jsonl":
        first = _first_line(path)
        try:
            record = orjson.loads(first) if first else None
        except orjson.JSONDecodeError:
            record = None
        if type(record) is dict and record.get("kind") in ("decision", "dropped"):
            return "log"
        if path.suffix.lower() == ".json" and _is_example(path):
            return "examples"
    return fmt


def _first_line(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if line.strip():
                    return line.strip()
                if handle.tell() > (1 << 20):
                    break
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", Location(str(path)),
                         "give a file that can be read") from None
    return b""


def _is_example(path: Path) -> bool:
    try:
        data = orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return False
    return type(data) is dict and "query" in data and "facts" in data


def read_items(path: Path, fmt: str, policies: PolicySet, query: str | None,
               id_column: str | None) -> Iterator[list[Item]]:
    """DATA in chunks of items. `policies` (the old rules) gives the facts a query reads,
    for CSV and Parquet columns; `query` is the query of a JSON Lines, CSV or Parquet
    file's records."""
    if fmt == "examples":
        yield from _examples(path)
    elif fmt == "log":
        yield from _log(path)
    elif fmt in ("jsonl", "csv", "parquet"):
        if query is None:
            raise UsageError(f"the records of {path} do not say which query they are for",
                             Location(str(path)), "give --query, e.g. --query support.sla")
        yield from _batch(path, fmt, policies, query, id_column)
    else:
        raise UsageError(f"unknown data format {fmt!r}", None,
                         "formats: " + ", ".join(DATA_FORMATS))


def _examples(path: Path) -> Iterator[list[Item]]:
    from ..authoring.examples import load_examples
    examples = load_examples(path, required=True)
    yield [Item(e.query, e.file.name, e.at, e.facts) for e in examples]


def _batch(path: Path, fmt: str, policies: PolicySet, query: str,
           id_column: str | None, part: tuple[tuple[int, ...], int] | None = None
           ) -> Iterator[list[Item]]:
    """A JSON Lines, CSV or Parquet file's records; `part`: only these row groups of a
    Parquet file, and the number of their first row (a partition, `parquet_parts`)."""
    source, decoding = _opened(path, fmt, policies, query, id_column)
    try:
        place = source.position
        chunks = source.chunks(*part) if part is not None else source.chunks()
        for chunk in chunks:
            if fmt == "parquet":
                chunk = Chunk(chunk.first, times_as_text(chunk.items), chunk.size)
            yield [Item(query, ident if ident is not None else f"{place} {where}", at, facts)
                   for where, ident, at, facts in decoding.items(chunk)]
    finally:
        source.close()


def _opened(path: Path, fmt: str, policies: PolicySet, query: str,
            id_column: str | None) -> tuple[Any, Decoding]:
    """The file opened and its columns read as the query's facts: a column that is no
    fact, or an id column that is not there, is refused here, before any record."""
    inputs = declared_inputs(policies, query)
    source = open_source(str(path), fmt, CHUNK)
    try:
        decoding = Decoding(fmt, query, inputs, id_column, source.columns)
    except PolicyError as error:
        source.close()
        error.location = error.location or Location(str(path))
        raise
    return source, decoding


def parquet_parts(path: Path, policies: PolicySet, query: str, id_column: str | None,
                  pieces: int) -> tuple[int, list[tuple[tuple[int, ...], int]]]:
    """A Parquet file's rows, and its partitions (about `pieces`, of whole row groups),
    each as (its row groups, the number of its first row); the file and its columns
    checked first, as reading it in one process does."""
    source, _ = _opened(path, "parquet", policies, query, id_column)
    try:
        total = source.total
        return total, source.parts(max(-(-total // max(pieces, 1)), 1))
    finally:
        source.close()


def read_part(path: Path, policies: PolicySet, query: str, id_column: str | None,
              part: tuple[tuple[int, ...], int]) -> Iterator[list[Item]]:
    """The records of one partition of a Parquet file, as `read_items` gives them."""
    return _batch(path, "parquet", policies, query, id_column, part)


TEXT_TIME_UNITS = {"s": 1, "ms": 1000, "us": 1_000_000}
"""Timestamp units whose ISO 8601 text Arrow writes as the facts reader reads it fastest
(nanoseconds have more decimals than a fact's time keeps), with their ticks a second."""


def times_as_text(batch: Any) -> Any:
    """A record batch with its zoned timestamp columns as ISO 8601 text (`+08:00`),
    written by Arrow a column at a time: a Python datetime a value, then its text, costs
    several times more, and the facts reader reads the text anyway. Other columns, and
    timestamps without a zone (read in the agreement's zone), are left as they are."""
    import pyarrow as pa
    columns, changed = list(batch.columns), False
    for index, column in enumerate(columns):
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz and kind.unit in TEXT_TIME_UNITS:
            columns[index] = _zoned_text(column)
            changed = True
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _zoned_text(column: Any) -> Any:
    """A zoned timestamp column as `2025-10-30T05:00:34+08:00`: the wall time in its zone
    written without the zone (a fifth of the cost of Arrow writing zoned text), then each
    value's offset, found as wall time less universal time (a zone has few offsets, so
    each is written once and picked per value)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    local = pc.local_timestamp(column)
    text = pc.replace_substring(pc.cast(local, pa.string()), pattern=" ", replacement="T",
                                max_replacements=1)
    # whole seconds as `…:05+08:00`, not `…:05.000+08:00` (Parquet keeps seconds as
    # milliseconds): the reader's quick path takes the common spelling
    text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    minutes = pc.divide(pc.subtract(local.cast(pa.int64()), column.cast(pa.int64())),
                        60 * TEXT_TIME_UNITS[column.type.unit])
    offsets = pc.unique(minutes).drop_null().to_pylist()
    if not offsets:
        return text
    words = pa.array([f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
                      for m in offsets], pa.string())
    if len(offsets) == 1:
        return pc.binary_join_element_wise(text, words[0], "")
    chosen = pc.take(words, pc.index_in(minutes, value_set=pa.array(offsets, pa.int64())))
    return pc.binary_join_element_wise(text, chosen, "")


def _log(path: Path) -> Iterator[list[Item]]:
    """Decision-log lines: `decision` records are decided again; `dropped` lines are
    counted by the measure as decisions the log never held."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", Location(str(path)),
                         "give the decision log the service writes (--decision-log)") \
            from None
    with handle:
        chunk: list[Item] = []
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            item = _log_item(text.rstrip(b"\r\n"), number, path)
            if item is not None:
                chunk.append(item)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _log_item(text: bytes, number: int, path: Path) -> Item | None:
    try:
        record = orjson.loads(text)
        if type(record) is dict and not read_as_written(text, record):
            record = parse_facts_json(text.decode("utf-8"), f"line {number}")
    except (orjson.JSONDecodeError, UnicodeDecodeError, FactError):
        return Item("", f"line {number}", None, FactError(
            f"line {number} of {path.name} is not a decision-log record", None,
            "give the decision log as the service writes it, one JSON object a line"))
    if type(record) is not dict or record.get("kind") != "decision":
        return None
    ident = record.get("decision_id") or f"line {number}"
    query = record.get("query")
    if type(query) is not str:
        return Item("", ident, None, FactError(
            f"line {number} of {path.name} names no query", None,
            "give the decision log as the service writes it"))
    masked = record.get("masked") or []
    facts = record.get("facts")
    if facts is None:
        facts = {}
    return Item(query, ident, record.get("at"), facts,
                tuple(str(m) for m in masked) if type(masked) is list else (),
                record.get("result"), record.get("revision"))
