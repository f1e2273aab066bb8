"""What a folder's rule files parse to, kept as JSON between processes (issue 11).

A command that asks one query of a folder whose `validate` verdict is recalled
(`validation.load_for`) takes the YAML documents of the rule files it reads, and the trees
of their expressions, from a record instead of parsing them again: it imports neither
PyYAML nor the grammar's parser. The record is written beside the verdict, under the same
key (every file under the folder and the package's code, grammar and parser included, by
content), and read only under that key (see `cache`). In it, a document is filed under the
SHA-256 of its text and a tree under its expression's text, so a file changed since the
key was computed is parsed, not recalled.

Only JSON, never pickle, and trusted in nothing: a document is rebuilt from mappings, lists
and scalars, a tree from the node classes of `syntax.ast`, each field checked against what
the parser builds (a name is text, an operand a node, a literal's value of its kind). An
entry that is missing, damaged or of another shape is not used: that text is parsed as
usual. Failures are never kept: what does not parse is parsed, and reported, every time.
Each entry is kept as JSON text inside the record, read only when it is asked for: a query
reads a few files of its folder, and reading the record stays quick however large the
folder is.

Each half keeps its own shelf: the documents in `source.record`, the trees in
`language.syntax.record`; this module, above both, makes and replays them together. Both
ends are scoped with context variables (`recording()`, `replaying()`): a load in another
thread, or outside them, parses as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from ..language.syntax import record as trees
from ..source import record as documents


class Recording:
    """What was parsed inside `recording()`; `to_dict()` is the record."""

    def __init__(self) -> None:
        self.documents = documents.Shelf({}, recording=True)
        self.trees = documents.Shelf({}, recording=True)

    def to_dict(self) -> dict[str, Any]:
        return {"yaml": dict(self.documents.new), "expressions": trees.entries(self.trees)}


@contextmanager
def recording() -> Iterator[Recording]:
    """Keep every rule file and expression parsed inside."""
    kept = Recording()
    with ExitStack() as stack:
        stack.enter_context(documents.shelved(documents.DOCUMENTS, kept.documents))
        stack.enter_context(documents.shelved(trees.TREES, kept.trees))
        yield kept


@contextmanager
def replaying(record: Any) -> Iterator[None]:
    """Take what is parsed inside from `record`, a value read from the cache (anything but
    the mapping `Recording.to_json` writes is no record)."""
    record = record if isinstance(record, dict) else {}
    with ExitStack() as stack:
        stack.enter_context(documents.shelved(documents.DOCUMENTS,
                                              documents.Shelf(record.get("yaml"))))
        stack.enter_context(documents.shelved(trees.TREES,
                                              documents.Shelf(record.get("expressions"))))
        yield
