"""Moved to ``purpose-agent-sqlite`` (2026-12-03); importing it says what to change (the kernel never imports a plugin)."""

raise ImportError("purpose_agent.vector_search moved out of the kernel into the purpose-agent-sqlite package: install it "
                  "(pip install purpose-agent-sqlite) and change the import to 'from purpose_agent_sqlite.vector_search import VectorSet'")
