"""Our discovery reads the same entry points stevedore (the reference implementation of
namespace-per-role plugins) sees, including broken ones, so plugin metadata stays standard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROBE = r"""
import json
from stevedore import ExtensionManager
from purpose_agent.discovery import entry_point_candidates
from purpose_agent.hookspecs import ROLES

ours = {role: sorted({c.id for c in entry_point_candidates() if role in c.roles}) for role in ROLES}
theirs = {}
for role in ROLES:
    failed = []
    manager = ExtensionManager(f"purpose_agent.{role}", invoke_on_load=False,
                               on_load_failure_callback=lambda m, ep, err: failed.append(ep.name))
    theirs[role] = sorted(set(manager.names()) | set(failed))
print(json.dumps({"ours": ours, "theirs": theirs}))
"""


def test_discovery_agrees_with_stevedore(fixture_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(fixture_site)}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ours"] == result["theirs"]
    assert "fixture-import-error" in result["ours"]["scanner"]
    assert {"fixture-good", "fixture-heavy", "fixture-raises"} <= set(result["ours"]["backend"])


FAST_VS_IMPORTLIB = r"""
import json, sys, zipfile, tempfile, os
from purpose_agent import discovery
fast = sorted(discovery._entry_point_rows())
slow = sorted(discovery._importlib_rows())
archive = os.path.join(tempfile.mkdtemp(), "extra.zip")
zipfile.ZipFile(archive, "w").close()
sys.path.append(archive)  # a zip on sys.path: the fast reader must hand over to importlib
fallback = sorted(discovery._entry_point_rows())
print(json.dumps({"fast": fast, "slow": slow, "fallback": fallback}))
"""


def test_the_fast_reader_agrees_with_importlib_metadata(fixture_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(fixture_site)}
    out = subprocess.run([sys.executable, "-c", FAST_VS_IMPORTLIB], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["fast"] == result["slow"] == result["fallback"]
    assert any(row[0] == "pa-fixture-good" and row[2] == "purpose_agent.backend" for row in result["fast"])
