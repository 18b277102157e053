"""The skills tests' fixtures; skill_kernels.py (kernels and cards) sits next to this file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from skill_kernels import skills_ci, skills_kernel


@pytest.fixture
def kernel(tmp_path):
    """Skills, the real bubblewrap sandbox and the phrase scanner; the store in tmp_path."""
    return skills_kernel(tmp_path)


@pytest.fixture
def ci(kernel, tmp_path):
    """Skill CI over the kernel's scanners and sandbox and the store in tmp_path."""
    return skills_ci(kernel, tmp_path)
