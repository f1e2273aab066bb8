"""Shared fixtures: an editable copy of the bundled policies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from neocrm_policy.source import bundled


@pytest.fixture
def policies_copy(tmp_path) -> Path:
    """A copy of the bundled policies that a test may edit."""
    folder = tmp_path / "policies"
    shutil.copytree(bundled("policies"), folder)
    return folder

