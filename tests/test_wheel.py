"""The wheel carries the grammar's stand-alone parser (hatch_build.py, issue 11).

Building a wheel needs its build backend (hatchling, and Lark for the hook), which pip
fetches from the package index into an isolated environment: without the index (offline),
the test is skipped, saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STANDALONE = "neocrm_policy/language/syntax/_standalone.py"
NO_INDEX = ("No matching distribution found", "Could not find a version",
            "NewConnectionError", "Temporary failure in name resolution",
            "Network is unreachable", "Failed to establish a new connection",
            "ProxyError", "Read timed out", "No module named pip")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_RETRIES": "1", "PIP_TIMEOUT": "20",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    try:
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
             str(ROOT)], capture_output=True, text=True, env=env, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("no build backend: fetching hatchling and lark took over 10 minutes")
    if built.returncode != 0:
        output = built.stdout + built.stderr
        if any(sign in output for sign in NO_INDEX):
            pytest.skip("no build backend: pip could not fetch hatchling and lark from the "
                        "package index (offline?)")
        pytest.fail(f"pip wheel failed:\n{output}")
    [path] = out.glob("*.whl")
    return path


def test_the_wheel_carries_a_current_stand_alone_parser(wheel, tmp_path):
    """The generated module is in the wheel, stamped with the grammar the wheel carries,
    and an installed package parses with it, without importing Lark."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert STANDALONE in names
        assert "neocrm_policy/grammar/expressions.lark" in names
        assert names.count(STANDALONE) == 1
        archive.extractall(tmp_path / "site")
    code = (
        "import sys\n"
        "from neocrm_policy.language.syntax import _runtime, parse_expression\n"
        "module = _runtime.STANDALONE\n"
        "assert module is not None, 'the stand-alone parser is stale or missing'\n"
        "print(module.__file__)\n"
        "print(module.GRAMMAR_STAMP == _runtime.stamp(_runtime.grammar_text(),"
        " module.__version__))\n"
        "print(type(parse_expression('a.b + 2 days > c')).__name__)\n"
        "print(any(name == 'lark' or name.startswith('lark.') for name in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=True)
    where, stamped, node, lark_imported = ran.stdout.split()
    assert Path(where).resolve() == (tmp_path / "site" / STANDALONE).resolve()
    assert (stamped, node, lark_imported) == ("True", "Binary", "False")


def test_the_stand_alone_parser_imports_logging_only_to_log(tmp_path):
    """generate.py sets Lark's logger up on its first message (as Lark sets it up), so a
    command that parses imports no logging; a Lark whose module reads otherwise is left
    as it is (slower, not wrong), and this test says so."""
    from neocrm_policy.language.syntax import generate
    target = generate.write(tmp_path / "standalone_copy.py")
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('copy', {str(target)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.Lark_StandAlone().parse('a + 1')\n"
        "print('logging' in sys.modules)\n"
        "module.logger.debug('nothing shown')\n"
        "import logging\n"
        "lark = logging.getLogger('lark')\n"
        "print(lark.level == logging.CRITICAL, len(lark.handlers))\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert ran.stdout.split() == ["False", "True", "1"], ran.stdout + ran.stderr
