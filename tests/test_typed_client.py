"""A typed library for the services that embed it (issue 31): the wheel says it is typed
(py.typed), and a client written as the services page shows it type-checks with mypy
--strict against the installed package and the result types `neocrm-policy types`
generates, while a deliberate misuse (a time used as text) is caught."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from neocrm_policy import load
from neocrm_policy.deciding.result_types import class_name, python_type, result_types
from tests.helpers import REFERENCE
from tests.test_wheel import wheel  # noqa: F401 - the fixture that builds the wheel

CLIENT = Path(__file__).parent / "data" / "typed_client"


def _mypy(folder: Path, site: Path, file: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-incremental", "--cache-dir", str(folder / ".mypy"), file],
        cwd=folder, capture_output=True, text=True, timeout=600,
        env={"MYPYPATH": str(site), "PATH": "/usr/bin:/bin"})


def test_a_client_type_checks_and_a_time_used_as_text_is_caught(wheel, tmp_path):  # noqa: F811
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (the test extra: pip install '.[test]')")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert "neocrm_policy/py.typed" in archive.namelist()
        archive.extractall(site)
    client = tmp_path / "client"
    shutil.copytree(CLIENT, client)
    (client / "policy_types.py").write_text(result_types(load(REFERENCE)), encoding="utf-8")
    clean = _mypy(client, site, "client.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    wrong = _mypy(client, site, "wrong.py")
    assert wrong.returncode == 1
    assert '"datetime" has no attribute "upper"' in wrong.stdout, wrong.stdout


def test_each_result_is_typed_as_decide_gives_it():
    policies = load(REFERENCE)
    namespace: dict = {}
    exec(compile(result_types(policies), "<policy_types>", "exec"), namespace)  # noqa: S102
    sla = namespace[class_name("support.sla")].__annotations__
    assert sla["response_due"] is datetime and sla["resolution_due"] == datetime | None
    decision = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}, at="2026-03-08T01:00:00+08:00")
    compiled = policies.compiled("support.sla")
    for name, value in decision.result.items():
        said = python_type(compiled.checked.decision_types[name])
        assert said.split(" | ")[0] == type(value).__name__ or value is None, (name, said)
