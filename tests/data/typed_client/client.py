"""A service's code, as the services page shows the API, checked with mypy --strict by
tests/test_typed_client.py: a change that breaks a client's types fails there."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import cast

import neocrm_policy
from policy_types import LiabilityDataSecurityResult, SupportSlaResult


def resolution_due(policies: neocrm_policy.PolicySet, reported_at: str) -> datetime | None:
    decision = policies.decide(
        "support.sla", {"incident": {"level": 4, "reported_at": reported_at}},
        at="2026-03-08T01:00:00+08:00")
    result = cast(SupportSlaResult, decision.result)
    if result["resolution_breached"]:
        print(decision.explain())
    shown: dict[str, object] = decision.to_dict()
    print(json.dumps(shown["result"]), decision.to_json(indent=2))
    for entry in decision.trace:
        print(entry.rule, entry.clause)
    return result["resolution_due"]


def capped(policies: neocrm_policy.PolicySet, damages: str) -> Decimal | None:
    try:
        decision = policies.decide("liability.data_security", {
            "breach": {"cause": "gross_negligence", "damages": damages},
            "contract": {"annual_fee_paid": "50000.00"}})
    except neocrm_policy.FactError as error:
        problems: list[neocrm_policy.FactError] = error.errors
        print(error.code, error.message, error.hint, [p.fact for p in problems])
        return None
    except neocrm_policy.PolicyError as error:
        print(json.dumps({"error": error.to_dict()}))
        return None
    return cast(LiabilityDataSecurityResult, decision.result)["liability_cap"]


def hot_path(policies: neocrm_policy.PolicySet) -> bool:
    decide = policies.prepare("support.sla", "2026-03-08T01:00:00+08:00")
    answer = decide({"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}})
    return bool(answer["response_breached"])


if __name__ == "__main__":
    policies = neocrm_policy.load()
    print(resolution_due(policies, "2026-03-07T22:30:00+08:00"), capped(policies, "1.00"),
          hot_path(policies), sorted(policies.queries))
