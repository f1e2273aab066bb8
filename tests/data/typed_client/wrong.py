"""A deliberate mistake a client's type checker must catch: a time used as text."""

from __future__ import annotations

from typing import cast

import neocrm_policy
from policy_types import SupportSlaResult

decision = neocrm_policy.load().decide(
    "support.sla", {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}})
print(cast(SupportSlaResult, decision.result)["response_due"].upper())
