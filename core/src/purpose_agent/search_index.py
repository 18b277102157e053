"""Moved: the hybrid retrieval engine is the ``purpose-agent-sqlite`` distribution since 2026-12-03.

Importing this module raises an ImportError that says what to change; it cannot forward the names,
because the kernel never imports a plugin.
"""

raise ImportError(
    "purpose_agent.search_index moved out of the kernel into the purpose-agent-sqlite package: install it "
    "(pip install purpose-agent-sqlite) and change the import to "
    "'from purpose_agent_sqlite import SearchIndex'"
)
