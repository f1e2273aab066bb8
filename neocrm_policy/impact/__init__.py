"""Impact of a change of terms on real records: whose outcomes move, how many, by how much,
and which change moved them.

A room above the batch mode and the authoring tools: `neocrm-policy diff OLD NEW
--impact DATA` reads records (a folder of example files, a JSON Lines, CSV or Parquet
file through the batch readers, or the service's decision log), decides each under both
versions of the rules, and counts what moved. Its rooms:

- `records.py`: DATA as a stream of records (query, id, time, facts), whatever its form.
- `alone.py`: the changes the redline lists, each applied alone to the old rules, to say
  which change made a record move.
- `measure.py`: the streaming count: per query and result, per direction, per customer,
  with the size of each change (sum, least, most, a small histogram) and examples.
- `report.py`: the count in words (text, Markdown), as JSON, as an HTML page with charts,
  and as one summary line.
- `parts.py`: the same count on a Dask cluster (`--dask`), in partitions merged in the
  data's order into the same report.

Memory stays flat in the number of records: only counts, a bounded histogram and a few
example ids are kept.
"""

from .measure import ImpactReport, measure_impact

__all__ = ["ImpactReport", "measure_impact"]
