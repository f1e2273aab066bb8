"""The decisions of the tests' own policy cases, recorded as `to_json()`, `to_json_text()`
and `explain()` gave them, so that a faster trace or encoder is held to the same bytes.

Re-record only for a deliberate change of what a decision says (and review the diff):
    .venv/bin/python -m tests.recorded_decisions
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from neocrm_policy import load
from neocrm_policy.errors import PolicyError
from neocrm_policy.testing import load_cases
from tests.helpers import REFERENCE

RECORD = Path(__file__).resolve().parent / "data" / "decisions.json"
FIXED_AT = "2026-11-24T12:00:00+08:00"
"""When a case gives no `at` (it means now), a fixed instant, so that the record holds."""


def decisions() -> dict[str, dict]:
    """Each case that decides (an expected error records nothing), by file and name."""
    policies = load(REFERENCE)
    out = {}
    for case in load_cases(REFERENCE):
        chosen = policies.observing_holidays(dict(case.holidays), case.holidays_locations) \
            if case.holidays else policies
        try:
            decision = chosen.decide(case.query, case.facts, at=case.at or FIXED_AT)
        except PolicyError:
            continue
        key = f"{Path(case.file).name}: {case.name}"
        out[key] = {"text": decision.to_json_text(indent=2), "explain": decision.explain(),
                    "json": json.dumps(decision.to_json(), ensure_ascii=False)}
    return out


def main() -> int:
    recorded = {key: {"text": made["text"], "explain": made["explain"]}
                for key, made in decisions().items()}
    RECORD.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n",
                      encoding="utf-8")
    print(f"recorded {RECORD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
