"""Authoring: what legal editors run on their rule files.

Policy tests written in YAML (`testing`, `accepting` for `test --accept`), what changed
between versions in words (`redline`), prose to re-read after a change (`marks`) and
terms past their review date (`review`), the canonical layout (`formatting`), the whole
folder's checks (`validation`), example fact files (`examples`), the pictures and
evaluated examples of the docs site (`illustrate`, `playground`). It imports `deciding`
and the stages below it; the service, the batch mode and the CLI sit above it.
"""
