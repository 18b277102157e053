"""The Ray executor passes the executor conformance suite on a local two-CPU cluster with two
worker processes."""

from __future__ import annotations

from typing import Any

import pytest

import purpose_agent_ray
from purpose_agent_conformance import ExecutorConformance

pytestmark = pytest.mark.slow


class TestRayExecutor(ExecutorConformance):
    plugin = purpose_agent_ray
    plugin_id = "ray"
    executor_name = "ray"
    executor_options = {"workers": 2}
    startup_s = 180.0  # two worker processes starting on a loaded 2-core machine

    @pytest.fixture(autouse=True)
    def _cluster(self, ray_cluster: Any) -> None:
        """The suite's executors join the session's cluster."""
