"""One hostile input, run in a child process under a memory cap (the tests' side of the
language's bounds): `python -m tests.hostile MEGABYTES FOLDER [QUERY FACTS AT]`.

Prints `valid`, or the result's values with their sizes, or the PolicyError's code and
text. Any other exception is a traceback and a non-zero exit: what the bounds forbid.
"""

from __future__ import annotations

import json
import resource
import sys


def main(argv: list[str]) -> int:
    cap = int(argv[0]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from neocrm_policy.deciding.engine import load
    from neocrm_policy.errors import PolicyError, PolicyErrors
    try:
        policies = load(argv[1])
        if len(argv) == 2:
            print("valid")
            return 0
        decision = policies.decide(argv[2], json.loads(argv[3]), argv[4])
        for name, value in decision.result.items():
            print(name, len(str(value)))
    except PolicyErrors as exc:
        for error in exc.errors:
            print(error.code, error.location, error.message)
    except PolicyError as exc:
        print(exc.code, exc.location, exc.message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
