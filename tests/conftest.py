"""Shared fixtures: an editable copy of the tests' own policies (`helpers.REFERENCE`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import copy_policies


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A user cache of the test's own, empty, as a new process would start with it."""
    from neocrm_policy.loading import cache, loader
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(folder))
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setattr(loader, "_verdicts", None)
    return folder


@pytest.fixture
def policies_copy(tmp_path) -> Path:
    """A copy of the reference policies that a test may edit."""
    return copy_policies(tmp_path / "policies")


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by selenium, as the site's and the ask page's
    readers open them; skipped, saying why, where it is not installed."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("the pages are opened in Debian's chromium with its driver, and "
                    "chromium or chromedriver is not installed (apt-get install chromium "
                    "chromium-driver)")
    from selenium.webdriver.chrome.service import Service as DriverService
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(15)
    yield driver
    driver.quit()


def pytest_configure(config) -> None:
    """The run's user cache (`neocrm_policy.loading.cache`) is its own, empty at the start, so no
    test depends on what an earlier run or the developer's commands left there."""
    os.environ["NEOCRM_POLICY_CACHE_DIR"] = tempfile.mkdtemp(prefix="neocrm-policy-cache-")
    # and so is what this process remembers of earlier runs (`make mutation` runs the tests
    # again in one process)
    from neocrm_policy.loading import loader
    loader._verdicts = None
    for remembered in (loader.rule_file_schema, loader.overlay_schema, loader._validator):
        remembered.cache_clear()


def pytest_unconfigure(config) -> None:
    shutil.rmtree(os.environ.pop("NEOCRM_POLICY_CACHE_DIR", ""), ignore_errors=True)
