"""Batch decisions: millions of fact sets through one loaded policy set.

A room of its own above the engine: it imports the public API (`load`, `PolicySet`, the
errors) and the policy set as served (`deciding.served`, with its revision), and nothing
imports it but the CLI's `eval --batch`, lazily, so the library never needs pyarrow,
orjson or Dask. Its rooms:

- `columns.py`: flat columns (CSV text, Arrow and pandas values) as facts, typed by the
  query's declared inputs; results as flat columns.
- `readers.py` / `writers.py`: JSON Lines, CSV and Parquet, streamed in chunks.
- `deciding.py`: a chunk of records to a chunk of output records, each failure kept to
  its own record; prepared functions shared per (query, at).
- `running.py`: the whole batch, in this process or in `--jobs` worker processes,
  with progress and the closing count.
- `summary.py`: counts and shares per result value, as a table and an HTML report.
- `partitions.py`: `decide_partition`, the same decisions on a pandas or Arrow
  partition, for Dask and Spark.
- `cluster.py`: the Dask cluster a `--dask` of the command line runs on (a local one of
  worker processes, or a scheduler's).

It needs the `batch` extra: ``pip install 'neocrm-policy[batch]'``.
"""

from .partitions import decide_partition
from .running import BatchOptions, BatchReport, run_batch

__all__ = ["BatchOptions", "BatchReport", "decide_partition", "run_batch"]
