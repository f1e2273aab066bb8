"""Evaluate stand-alone expressions, for the documentation's examples.

Each expression becomes a decision of a throw-away policy (in a temporary folder, beside
a policy folder's calendars — the bundled ones unless told — and a sample table
`symptom_level`), so examples go through the same
parser, checker and compiler as real rules and can never show a result the evaluator
would not give.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..deciding.engine import PolicySet
from ..source.text import bundled

SAMPLE_PARAMETERS = """\
parameters:
  symptom_level:
    value: {total_outage: 4, login_failure: 4, function_abnormal: 3, non_core_failure: 2}
"""


def evaluate(expressions: list[str], at: str = "2026-03-07T12:00:00+08:00",
             policies: Path | None = None) -> list[Any]:
    """The JSON value of each expression, evaluated at `at` beside the calendars of
    `policies` (a policy folder; the bundled one when None)."""
    with tempfile.TemporaryDirectory(prefix="neocrm-playground-") as folder:
        root = Path(folder)
        calendars = (policies or bundled("policies")) / "calendars.yaml"
        if calendars.exists():
            shutil.copy(calendars, root / "calendars.yaml")
        decisions = "\n".join(f"  e{n}:\n    value: '{text.strip().replace(chr(39), chr(39) * 2)}'"
                              for n, text in enumerate(expressions))
        (root / "examples.yaml").write_text(
            "policy: docs.examples\ntitle: examples\nclauses: ['x']\nsummary: examples\n"
            f"{SAMPLE_PARAMETERS}decisions:\n{decisions}\n", encoding="utf-8")
        result = PolicySet.from_folder(root).decide("docs.examples", {}, at=at).to_dict()
    return [result["result"][f"e{n}"] for n in range(len(expressions))]
