"""For tests of code that needs a memory store: a kernel holding this package's two stores.

::

    from purpose_agent_sqlite.testing import store_kernel

    kernel = store_kernel()                       # the 'sqlite' and 'memory' stores, nothing else
    store = kernel.memory_store("sqlite", path=str(tmp_path / "memory.db"))
"""

from __future__ import annotations

from typing import Any

from purpose_agent import Kernel
from purpose_agent.testing import make_kernel

from . import memory_plugin, sqlite_plugin


def store_kernel(*plugins: Any, **options: Any) -> Kernel:
    """``make_kernel`` (strict unless ``strict=False``) with the ``sqlite`` and ``memory`` stores
    and ``plugins``, isolated from whatever else is installed."""
    options.setdefault("strict", True)
    return make_kernel({"sqlite": sqlite_plugin, "memory": memory_plugin}, *plugins, **options)
