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
