"""Wheel build hook: every wheel carries the grammar's stand-alone parser.

`neocrm_policy/language/syntax/_standalone.py` (Lark's stand-alone LALR parser with the
grammar's tables written out) spares a command importing Lark and building the tables. It
is generated, never committed (see `neocrm_policy/language/syntax/generate.py`): `make`
writes it into a checkout, whose editable install uses it in place; this hook writes it
into each wheel built from the sources (`pip wheel .`, `python -m build`), so an installed package starts
as fast as a checkout. Without it, the package still works: it builds the parser with Lark
on first use.

The build environment has Lark (`[build-system] requires`) but not the package's other
dependencies, so `generate.py` is loaded by its path, not imported with the package.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STANDALONE = "neocrm_policy/language/syntax/_standalone.py"


class StandaloneParserHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return   # an editable install reads the checkout's own (`make` writes it)
        root = Path(self.root)
        spec = importlib.util.spec_from_file_location(
            "_neocrm_policy_generate", root / "neocrm_policy" / "language" / "syntax" / "generate.py")
        generate = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(generate)
        grammar = (root / "grammar" / "expressions.lark").read_text(encoding="utf-8")
        self._scratch = Path(tempfile.mkdtemp(prefix="neocrm-policy-build-"))
        written = generate.write(self._scratch / "_standalone.py", grammar)
        build_data["force_include"][str(written)] = STANDALONE

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
