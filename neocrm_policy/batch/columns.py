"""Flat records and facts: columns in (CSV, Parquet, pandas), columns out.

A column named by a dotted fact path (`incident.level`) is that fact; its cells are
given the type the query declares for it, so that the text `4` of a CSV file is the
number 4 and an Arrow timestamp is a date and time. What a cell cannot be turned into is
passed on as it is, for the engine to refuse with the fact's name: this room converts,
it never judges. Two columns are not facts: `at`, the record's own evaluation time, and
the id column the caller names, carried through to the output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from ..deciding.engine import PolicySet
from ..errors import FactError, UsageError
from ..language.model import Input
from ..suggest import suggestion
from ..language.values import Type, duration_iso, to_json

AT_COLUMN = "at"
"""The column (or JSON key) that gives a record its own evaluation time."""
CUSTOMER_FACT = "customer.id"
"""The fact every query reads besides its own: whose instruments apply."""
ERROR_COLUMNS = ("error_code", "error_fact", "error_message", "error_hint")


def declared_inputs(policies: PolicySet, query: str) -> dict[str, Input]:
    """The facts a query reads in any of its versions (the latest declaration wins)."""
    inputs: dict[str, Input] = {}
    for compiled in policies.versions(query):
        inputs.update(compiled.checked.policy.inputs)
    return inputs


def declared_results(policies: PolicySet, query: str) -> dict[str, Type]:
    """The results of a query in any of its versions, in order, with their types."""
    types: dict[str, Type] = {}
    for compiled in policies.versions(query):
        for name in compiled.outputs:
            types[name] = compiled.checked.decision_types[name]
    return types


def check_reserved(policies: PolicySet, query: str, id_column: str | None) -> None:
    """`at` and the id column are taken out of each record before it is decided, so a
    query that reads a fact there (the path itself, under it, or a whole object that holds
    it) could never see it: refuse at the start. A dotted id beside the facts, such as
    `incident.ticket` beside `incident.level`, hides nothing."""
    facts = [*declared_inputs(policies, query), CUSTOMER_FACT]
    for name in (AT_COLUMN, id_column):
        if name is None:
            continue
        hidden = next((path for path in facts if path == name or path.startswith(name + ".")
                       or name.startswith(path + ".")), None)
        if hidden is not None:
            what = "time" if name == AT_COLUMN else "id"
            raise UsageError(f"{query} reads the fact {hidden!r}, so {name!r} cannot also be "
                             f"the batch's {what} column", None,
                             "name another id column with --id" if name != AT_COLUMN
                             else "give the facts as a JSON object per record")


# --------------------------------------------------------------------------------------
# Columns in

def _text_cell(type_: Type) -> Callable[[str], Any]:
    """A CSV cell as the JSON value the fact reader expects for `type_`."""
    name = type_.name
    if name == "int":
        return lambda text: int(text) if text.strip().lstrip("-").isdigit() else text
    if name == "bool":
        words = {"true": True, "false": False}
        return lambda text: words.get(text.strip().lower(), text)
    if name in ("list", "map"):
        def structured(text: str) -> Any:
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return text
        return structured
    return lambda text: text


def _value_cell(type_: Type) -> Callable[[Any], Any]:
    """An Arrow or pandas value as the JSON value the fact reader expects: times as ISO
    8601 text (a timestamp without a zone is read in the agreement's zone, as text
    without an offset is), durations as ISO 8601 durations."""
    name = type_.name
    if name in ("datetime", "date", "time"):
        return lambda v: v.isoformat() if isinstance(v, (datetime, date, time)) else v
    if name == "duration":
        return lambda v: duration_iso(v) if isinstance(v, timedelta) else v
    if name == "list":
        return lambda v: list(v) if isinstance(v, tuple) else v
    return lambda v: v


def _once_each(columns: Sequence[str]) -> None:
    """Refuse a column named twice (in a CSV header, or in Parquet as a struct's field
    and as a dotted column, `incident` with `level` beside `incident.level`): one of the
    two would silently win, as a key given twice in JSON would, which every door refuses."""
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise FactError(f"the column {column!r} is given twice", None,
                            "give each fact once, in one column (in Parquet, a struct's "
                            "field and a dotted column name the same fact)", fact=column,
                            at="key")
        seen.add(column)


class FactColumns:
    """How the columns of a flat record (a CSV row, an Arrow row) become one record's
    id, evaluation time and nested facts. Built once per header."""

    def __init__(self, columns: Sequence[str], query: str, inputs: dict[str, Input],
                 id_column: str | None, text: bool) -> None:
        self.columns = tuple(columns)
        _once_each(self.columns)
        self.at_index = self.id_index = None
        self.plan: list[tuple[int, tuple[str, ...], Callable]] = []
        known = {**inputs}
        for index, column in enumerate(self.columns):
            if column == AT_COLUMN:
                self.at_index = index
            elif column == id_column:
                self.id_index = index
            elif column in known or column == CUSTOMER_FACT:
                type_ = known[column].type if column in known else Type("string")
                make = _text_cell if text else _value_cell
                self.plan.append((index, tuple(column.split(".")), make(type_.not_null())))
            else:
                choices = sorted(known)
                raise FactError(f"column {column!r} is not a fact of {query}", None,
                                suggestion(column, choices) + "name columns by the facts' "
                                "dotted paths: " + ", ".join(choices)
                                + f"; also {AT_COLUMN} and the --id column", fact=column,
                                at="key")
        if id_column is not None and self.id_index is None:
            raise UsageError(f"there is no id column {id_column!r}", None,
                             suggestion(id_column, self.columns) + "columns: "
                             + ", ".join(self.columns))

    def record(self, row: Sequence[Any]) -> tuple[Any, Any, dict]:
        """(id, at, facts) of one row; empty cells and nulls are facts not given."""
        facts: dict[str, Any] = {}
        for index, parts, convert in self.plan:
            value = row[index]
            if value is None or value == "" or value != value:   # NaN is a missing value
                continue
            node = facts
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = convert(value)
        at = row[self.at_index] if self.at_index is not None else None
        ident = row[self.id_index] if self.id_index is not None else None
        return ident, (None if at == "" or at != at else at), facts

    def records(self, columns: Sequence[list], plain: Sequence[bool]) -> list[tuple]:
        """(id, at, facts) of every row of a block given column by column, as `record`
        gives each: the same facts, keys in the same order, a fact's object made only
        when one of its facts is given. A column at a time costs a fifth of a row at a
        time (no walk down the path, no call per cell). `plain[i]`: column `i` holds
        only text, numbers and yes/no, which no conversion changes."""
        count = len(columns[0]) if columns else 0
        facts: list[dict] = [{} for _ in range(count)]
        for index, parts, convert in self.plan:
            cells = columns[index]
            given = [(n, v) for n, v in enumerate(cells)
                     if v is not None and v != "" and v == v]   # NaN is a missing value
            if not plain[index]:
                given = [(n, convert(v)) for n, v in given]
            last = parts[-1]
            if len(parts) == 1:
                for n, value in given:
                    facts[n][last] = value
            elif len(parts) == 2:
                head = parts[0]
                for n, value in given:
                    record = facts[n]
                    node = record.get(head)
                    if node is None:
                        node = record[head] = {}
                    node[last] = value
            else:
                for n, value in given:
                    node = facts[n]
                    for part in parts[:-1]:
                        node = node.setdefault(part, {})
                    node[last] = value
        ats = columns[self.at_index] if self.at_index is not None else [None] * count
        idents = columns[self.id_index] if self.id_index is not None else [None] * count
        return [(ident, None if at == "" or at != at else at, record)
                for ident, at, record in zip(idents, ats, facts, strict=True)]


# --------------------------------------------------------------------------------------
# Columns out

class ResultColumns:
    """The flat form of output records (CSV, Parquet, pandas): position, id, one column
    per result, the error's code, fact, message and hint, and with a trace the decision
    as JSON text. Results are JSON values; lists and tables are JSON text."""

    def __init__(self, results: dict[str, Type], position: str | None, id_column: str | None,
                 trace: bool, extra: Sequence[str] = ()) -> None:
        self.results = results
        self.position, self.id_column, self.trace = position, id_column, trace
        names = ([position] if position else []) + ([id_column] if id_column else [])
        names += [*results, *ERROR_COLUMNS, *(["decision"] if trace else []), *extra]
        if len(set(names)) != len(names):
            clash = next(n for n in names if names.count(n) > 1)
            raise UsageError(f"the output would have two columns named {clash!r}", None,
                             "name another id column with --id")
        self.names = tuple(names)
        self._plain = [(n, t.name in ("bool", "int", "string", "null")) for n, t in results.items()]
        self._no_results = [None] * len(results)
        self._no_error = [None] * len(ERROR_COLUMNS)

    def row(self, record: dict) -> list:
        """One output record (as written to JSON Lines) as a row of JSON values."""
        out: list[Any] = []
        if self.position:
            out.append(record[self.position])
        if self.id_column:
            ident = record.get(self.id_column)
            out.append(None if ident is None else str(ident))
        decision = record.get("decision")
        result = decision["result"] if decision is not None else record.get("result")
        error = record.get("error")
        if result is None:
            out += self._no_results
        else:
            out += [result.get(name) if plain else _cell(result.get(name))
                    for name, plain in self._plain]
        if error is None:
            out += self._no_error
        else:
            fact = error["fact"]
            if fact is None and "errors" in error:      # several bad facts: each named
                fact = ", ".join(dict.fromkeys(e["fact"] for e in error["errors"]
                                               if e["fact"])) or None
            out += [error["code"], fact, error["message"], error.get("hint")]
        if self.trace:
            out.append(orjson.dumps(decision).decode() if decision is not None else None)
        return out

    def arrow_schema(self, extra_types: Sequence = ()):
        """Booleans and whole numbers as such; every other value as its JSON text."""
        import pyarrow as pa
        kinds = {"bool": pa.bool_(), "int": pa.int64()}
        fields = ([pa.field(self.position, pa.int64())] if self.position else []) + \
            ([pa.field(self.id_column, pa.string())] if self.id_column else [])
        fields += [pa.field(n, kinds.get(t.name, pa.string())) for n, t in self.results.items()]
        fields += [pa.field(n, pa.string()) for n in ERROR_COLUMNS]
        fields += [pa.field("decision", pa.string())] if self.trace else []
        return pa.schema(fields + list(extra_types))


def _cell(value: Any) -> Any:
    """A result as a JSON scalar: times in ISO 8601, lists and tables as JSON text."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple, dict)):
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return to_json(value)


def csv_cell(value: Any) -> Any:
    """A JSON value as CSV text: true/false as JSON writes them, null as an empty cell."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def flattened(table: Any) -> Any:
    """An Arrow table with its struct columns spelt as dotted columns (`incident.level`),
    as fact paths name them."""
    import pyarrow as pa
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def arrow_rows(rows: list[list], schema):
    """Rows of JSON values (`ResultColumns.row`) as an Arrow record batch of `schema`."""
    import pyarrow as pa
    return pa.RecordBatch.from_arrays(
        [pa.array([row[i] for row in rows], type=f.type) for i, f in enumerate(schema)],
        schema=schema)
