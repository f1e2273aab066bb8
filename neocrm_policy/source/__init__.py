"""Source: rule files as text and positioned YAML, the first stage of the pipeline.

Bytes in (bounded size, UTF-8, regular files inside the policy folder), YAML documents
out whose every key and item knows its line and column; no schema, no expressions. It
imports only the ground (`errors`, `suggest`, `files`); every later stage points a legal
editor at a place through what this stage kept.

- `text.py`: reading a file safely, and where the package's own files are.
- `documents.py`: `YMap` and `YList`, the YAML values that remember their places.
- `yaml_reader.py`: PyYAML's safe subset, read as YAML 1.2 reads it (imported only when a
  text is parsed, not recalled).
- `characters.py`: full-width characters pasted from Chinese documents, named.
- `record.py`: the YAML half of what a folder parses to, kept between processes.
"""
