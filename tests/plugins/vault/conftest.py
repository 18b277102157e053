"""The vault tests' default kernel fixture; documents.py and vault_kernels.py sit next to this file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# documents.py: the test documents, shared by the vault's test modules.
sys.path.insert(0, str(Path(__file__).parent))

from vault_kernels import vault_kernel


@pytest.fixture
def kernel():
    return vault_kernel()
