"""Example fact files: realistic inputs that show what the policies decide.

Each file in the examples folder is a JSON object with `title`, `query`, `at` (the
evaluation time) and `facts`. The README's main command evaluates them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FactError, Location, SourceError
from ..language.facts import parse_facts_json
from ..source.text import read_text


@dataclass(frozen=True)
class Example:
    file: Path
    title: str
    query: str
    at: str | None
    facts: dict[str, Any]
    text: str = field(default="", repr=False, compare=False)
    """The file's text, to point a fact error at its line."""


def load_example(path: Path, inside: Path | None = None) -> Example:
    """One example file, with located errors; read only from the folder `inside`, when
    given."""
    text = read_text(path, inside)
    data = parse_facts_json(text, str(path))
    if not isinstance(data, dict) or "query" not in data:
        raise FactError(f"{path.name} has no `query`", Location(str(path), 1, 1),
                        "give {\"title\", \"query\", \"at\", \"facts\"}")
    return Example(path, str(data.get("title", path.stem)), str(data["query"]),
                   data.get("at"), data.get("facts") or {}, text)


def load_examples(path: Path, required: bool = False) -> list[Example]:
    """The examples of a folder (its *.json files, in name order), or of one file.
    With `required`, a folder without any is an error rather than nothing to show."""
    path = Path(path)
    if path.is_file():
        return [load_example(path)]
    if not path.is_dir():
        raise SourceError(f"{path} is neither an example file nor a folder of them",
                          Location(str(path)), "give a *.json example or a folder of them")
    examples = [load_example(p, path) for p in sorted(path.glob("*.json"))]
    if required and not examples:
        raise SourceError(f"no example files (*.json) in {path}", Location(str(path)),
                          "an example is a JSON object with title, query, at and facts")
    return examples
