"""The batch's decisions on someone else's engine: a pandas or Arrow partition of facts
in, a partition of results out, for Dask's `map_partitions` and Spark's `mapInArrow`.

The function takes the policy folder by path, so that only a short string travels to
the workers; each worker process loads the folder once and keeps it (a reload happens
only in a new process). Every result row carries the revision of the rule files it was
decided under, so a job that ran while the rules changed says so in its output.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..deciding.served import Served, load_served
from ..language.values import AGREEMENT_ZONE
from .columns import (FactColumns, ResultColumns, arrow_rows, check_reserved,
                      declared_inputs, declared_results, flattened)
from .deciding import Decider

_served: dict[str, Served] = {}
_deciders: dict[tuple[Any, ...], Decider] = {}
_plans: dict[tuple[Any, ...], FactColumns] = {}


def served_folder(policies: Path | str) -> Served:
    """The policy set of a folder, loaded once per process, with its revision."""
    key = str(Path(policies).resolve())
    served = _served.get(key)
    if served is None:
        served = _served[key] = load_served(Path(key))
    return served


def decide_partition(frame: Any, query: str, *, policies: Path | str,
                     at: Any = None, trace: bool = False, id_column: str | None = None) -> Any:
    """Decide `query` for every row of `frame` (a pandas DataFrame, or an Arrow Table or
    RecordBatch) whose columns are dotted fact paths (or struct columns, read as the same
    paths), with an optional `at` column that overrides `at` (default: the time of the
    call, so give it). Returns the same kind of partition, row for row (a DataFrame keeps
    its index): the `id_column` when one is named (not a fact: carried through as it is,
    so that results can be joined back where the order is not kept, as on Spark), one
    column per result, the error's code, fact, message and hint where a row failed, with
    `trace` the decision as JSON text, and the policies' `revision`."""
    import pyarrow as pa
    served = served_folder(policies)
    key = (str(Path(policies).resolve()), served.revision, query)
    if isinstance(frame, pa.RecordBatch):
        table = pa.Table.from_batches([frame])
    elif isinstance(frame, pa.Table):
        table = frame
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    table = flattened(table)
    columns = tuple(table.column_names)
    plan = _plans.get(key + (columns, id_column))
    if plan is None:
        inputs = declared_inputs(served.policies, query)
        check_reserved(served.policies, query, id_column)
        plan = _plans[key + (columns, id_column)] = FactColumns(columns, query, inputs,
                                                                id_column, text=False)
    decider = _deciders.get(key + (at, trace)) if at is not None else None
    if decider is None:
        if at is not None:          # a bad `at` is the call's error, said once, not a row's
            served.policies.prepare(query, at)
        decider = Decider(served.policies, query,
                          at if at is not None else datetime.now(AGREEMENT_ZONE), trace)
        if at is not None:
            _deciders[key + (at, trace)] = decider
    record = plan.record
    rows = zip(*(c.to_pylist() for c in table.columns), strict=True)
    records, _failed = decider.decide(((n, *record(row)) for n, row in enumerate(rows)),
                                      "row", None)
    out = ResultColumns(declared_results(served.policies, query), None, None, trace,
                        extra=("revision", *([id_column] if id_column else [])))
    schema = out.arrow_schema([pa.field("revision", pa.string())])
    batch = arrow_rows([out.row(r) + [served.revision] for r in records], schema)
    arrow = isinstance(frame, pa.RecordBatch | pa.Table)
    if id_column is not None and arrow:         # first, as it came (type and all)
        batch = pa.RecordBatch.from_arrays(
            [table.column(id_column).combine_chunks(), *batch.columns],
            schema=schema.insert(0, table.schema.field(id_column)))
    if isinstance(frame, pa.RecordBatch):
        return batch
    result = pa.Table.from_batches([batch])
    if arrow:
        return result
    import pandas as pd
    decided = result.to_pandas(types_mapper=pd.ArrowDtype)
    decided.index = frame.index
    if id_column is not None:
        decided.insert(0, id_column, frame[id_column])
    return decided
