"""Helpers shared by the test modules."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from neocrm_policy.loading.clausemap import agreement_file

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "data" / "policies"
"""The tests' own policy folder (a snapshot of the agreement's terms on a fixed day).

The Python tests never read the bundled `policies/`: a legal editor changes those terms
and pins them in `policies/tests/`, so an editor's change, a new policy or a new customer
instrument never breaks a test here. Tests that need exact values read them from this
folder, whose terms they may pin."""


def copy_policies(folder: Path) -> Path:
    """A copy of the reference policies at `folder`, its clause map still naming the
    agreement's text (the map's path is relative to where the map lies)."""
    shutil.copytree(REFERENCE, folder)
    agreement = agreement_file(REFERENCE)
    if agreement is not None:
        edit(folder / "clause-map" / "clause-map.yaml",
             re.search(r"(?m)^agreement: .*$", (REFERENCE / "clause-map" / "clause-map.yaml")
                       .read_text(encoding="utf-8"))[0], f"agreement: {agreement}")
    return folder


@functools.cache
def spark_missing() -> str | None:
    """Why the Spark examples and tests cannot run here, or None when they can: PySpark is
    the `spark` extra, and its engine is a Java program (Java 17 or later)."""
    import importlib.util
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (the spark extra: pip install '.[batch,spark]')"
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return "PySpark needs Java 17 or later, and there is no java on PATH or in JAVA_HOME"
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True,
                               timeout=60).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{java} -version failed: {exc}"
    found = re.search(r'version "(1\.)?(\d+)', shown)
    if found is None or int(found.group(2)) < 17:
        return f"PySpark needs Java 17 or later; {java} is {shown.splitlines()[:1]}"
    return None


def edit(path: Path, old: str, new: str) -> None:
    """Replace one piece of a rule file's text, failing loudly if it is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def build_site(tmp_path: Path, policies: Path) -> Path:
    """The documentation site built from a policy folder, terms shown as on 2026-11-24."""
    site = tmp_path / "site"
    env = {**os.environ, "NEOCRM_POLICIES": str(policies), "NEOCRM_DOCS_DATE": "2026-11-24",
           "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(site)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return site


def page_text(site: Path, path: str) -> str:
    """A built page's HTML with its tags replaced by spaces."""
    return re.sub(r"<[^>]+>", " ", (site / path / "index.html").read_text(encoding="utf-8"))


AXE = ROOT / "build" / "node_modules" / "axe-core" / "axe.min.js"
"""Installed by `make axe` (npm); the accessibility checks are skipped without it."""


def audit(browser, source: str) -> list[dict]:
    """axe-core's violations on the page as it is now (the script injected by the driver,
    which the page's Content-Security-Policy does not govern)."""
    browser.execute_script(source)
    browser.set_script_timeout(60)
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then((r) => done(r.violations), (e) => done([{id: String(e),"
        " impact: 'critical', nodes: []}]));")
