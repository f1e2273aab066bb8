"""Example fact files: realistic inputs that show what the policies decide.

Each file in the examples folder is a JSON object with `title`, `query`, `at` (the
evaluation time) and `facts`. The README's main command evaluates them all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FactError, Location, SourceError
from .source import read_text


@dataclass(frozen=True)
class Example:
    file: Path
    title: str
    query: str
    at: str | None
    facts: dict[str, Any]


def load_examples(folder: Path) -> list[Example]:
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder", Location(str(folder)),
                          "give the folder that holds the example *.json files")
    examples = []
    for path in sorted(folder.glob("*.json")):
        text = read_text(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FactError(f"{path.name} is not valid JSON: {exc.msg}",
                            Location(str(path), exc.lineno, exc.colno),
                            "an example is one JSON object") from None
        if not isinstance(data, dict) or "query" not in data:
            raise FactError(f"{path.name} has no `query`", Location(str(path), 1, 1),
                            "give {\"title\", \"query\", \"at\", \"facts\"}")
        examples.append(Example(path, str(data.get("title", path.stem)), str(data["query"]),
                                data.get("at"), data.get("facts") or {}))
    return examples
