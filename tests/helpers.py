"""Helpers shared by the test modules."""

from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "data" / "policies"
"""The tests' own policy folder (a snapshot of the agreement's terms on a fixed day).

The Python tests never read the bundled `policies/`: a legal editor changes those terms
and pins them in `policies/tests/`, so an editor's change, a new policy or a new customer
instrument never breaks a test here. Tests that need exact values read them from this
folder, whose terms they may pin."""


def edit(path: Path, old: str, new: str) -> None:
    """Replace one piece of a rule file's text, failing loudly if it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
