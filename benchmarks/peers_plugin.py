"""neocrm-policy in the peer engine table of ../shared/bench/peers/bench_peers.py.

    python bench_peers.py --plugin /path/to/neocrm-policy/benchmarks/peers_plugin.py

The timed load step loads, checks and compiles our own rule files for the two decisions
(benchmarks/peer_policies/), not the peers' sources; each decision then goes through the
public API, `PolicySet.decide(query, facts, at).result`.
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_peers import Engine, Impl

FOLDER = Path(__file__).resolve().parent / "peer_policies"
AT = datetime(2026, 3, 9, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def setup_neocrm_policy(sources):
    import neocrm_policy

    decide = neocrm_policy.load(FOLDER).decide

    def sla(facts):
        return decide("bench.sla", facts, AT).result

    def access(facts):
        return decide("bench.access", facts, AT).result["allow"]
    return Impl(sla, access)


def setup_neocrm_policy_prepared(sources):
    import neocrm_policy

    policies = neocrm_policy.load(FOLDER)
    sla = policies.prepare("bench.sla", AT)
    access_result = policies.prepare("bench.access", AT)
    return Impl(sla, lambda facts: access_result(facts)["allow"])


ENGINES = [
    Engine("neocrm-policy decide()", setup_neocrm_policy, "neocrm_policy", "neocrm-policy"),
    Engine("neocrm-policy prepare()", setup_neocrm_policy_prepared, "neocrm_policy",
           "neocrm-policy"),
]
