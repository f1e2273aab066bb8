"""The decisions of the tests' own policy cases, recorded as `to_dict()`, `to_json()`
and `explain()` gave them, so that a faster trace or encoder is held to the same bytes;
each case also decided with `partial=True` without its first fact (results not settled
yet, and the facts that would settle them).

Re-record only for a deliberate change of what a decision says (and review the diff):
    .venv/bin/python -m tests.recorded_decisions
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from neocrm_policy import load
from neocrm_policy.errors import PolicyError
from neocrm_policy.authoring.testing import load_cases
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
        out[key] = _made(decision)
        dropped = _first_leaf(case.facts)
        if dropped is None:
            continue
        try:
            partial = chosen.decide(case.query, _without(case.facts, dropped),
                                    at=case.at or FIXED_AT, partial=True)
        except PolicyError:
            continue
        out[f"{key} (partial, without {'.'.join(dropped)})"] = _made(partial)
    return out


def _made(decision) -> dict:
    return {"text": decision.to_json(indent=2), "explain": decision.explain(),
            "json": json.dumps(decision.to_dict(), ensure_ascii=False),
            "compact": decision.to_json()}


def _first_leaf(facts: dict, above: tuple = ()) -> tuple | None:
    """The path of the first fact given (in sorted order), which the partial decision of
    a case goes without: its results not settled yet, and the facts asked for them."""
    for name in sorted(facts):
        value = facts[name]
        if isinstance(value, dict) and value:
            return _first_leaf(value, (*above, name))
        return (*above, name)
    return None


def _without(facts: dict, path: tuple) -> dict:
    if len(path) == 1:
        return {k: v for k, v in facts.items() if k != path[0]}
    return {**facts, path[0]: _without(facts[path[0]], path[1:])}


def main() -> int:
    recorded = {key: {"text": made["text"], "explain": made["explain"]}
                for key, made in decisions().items()}
    RECORD.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n",
                      encoding="utf-8")
    print(f"recorded {RECORD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
