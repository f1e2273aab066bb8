"""Shared fixtures: an editable copy of the tests' own policies (`helpers.REFERENCE`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import REFERENCE


@pytest.fixture
def policies_copy(tmp_path) -> Path:
    """A copy of the reference policies that a test may edit."""
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    return folder
